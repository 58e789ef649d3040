/** Paths of nodes in a spec document: `['kernel', 'modules', 2]`, written `kernel.modules[2]`. */
export type DocPath = readonly (string | number)[];

/** `['kernel', 'modules', 2]` → `kernel.modules[2]`; the empty path is `(document)`. */
export function formatDocPath(path: DocPath): string {
  let out = '';
  for (const segment of path) {
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(document)' : out;
}
