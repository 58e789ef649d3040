/** Where the tool's own files are (the keyring, the default spec, osie/): the repository root. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A path inside the repository, from its root. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
