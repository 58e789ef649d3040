/**
 * Fuzzing the spec loader (issue 7): random YAML-ish text, line-level mutations of the real
 * hook.yaml, and spec-shaped documents with values of any type. Every input gives a loaded
 * spec or a SpecError (E_SPEC); never another exception, and each is answered quickly.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { tempDirSync } from '../../test/helpers/temp-dir.ts';
import { parseSpec, SpecError } from './load.ts';

const HOOK_YAML = readFileSync(new URL('../../hook.yaml', import.meta.url), 'utf8');
const dir = tempDirSync('hook-spec-fuzz-');
writeFileSync(join(dir, 'x.conf'), 'x\n');

function loadsOrSpecError(text: string): void {
  const started = performance.now();
  try {
    const loaded = parseSpec(text, 'fuzz.yaml', dir);
    // A loaded spec is usable: every normalised path is relative and climbs nowhere.
    for (const entry of [...loaded.spec.files, ...loaded.spec.symlinks]) {
      assert.ok(!entry.path.startsWith('/') && !entry.path.split('/').includes('..'), entry.path);
    }
  } catch (error) {
    if (!(error instanceof SpecError) || error.code !== 'E_SPEC') {
      throw new Error(`not a SpecError: ${(error as Error)?.stack ?? String(error)}\n--- input ---\n${text}`);
    }
    assert.ok(error.problems.length > 0, 'a SpecError names its problems');
    assert.doesNotMatch(error.message, /undefined|\[object Object\]|NaN/, error.message);
  }
  const ms = performance.now() - started;
  assert.ok(ms < 2000, `one input took ${ms.toFixed(0)} ms`);
}

const TOKENS = [
  '- ',
  ': ',
  ':',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '!!int ',
  '!!set ',
  '!!omap ',
  '!!map ',
  '!!seq ',
  '!local ',
  '|',
  '>-',
  "'",
  '"',
  '\\n',
  '\\u0000',
  '#',
  '\n',
  '\n  ',
  '\n    ',
  '\t',
  '? ',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '%TAG ! tag:x:\n',
  '~',
  'null',
  'true',
  '0o644',
  '0x1f',
  '1e9',
  '.inf',
  '-.nan',
  '4294967295',
  '__proto__',
  'constructor',
  'packages',
  'files',
  'path',
  'source',
  'content',
  'owner',
  'mode',
  'users',
  'groups',
  'name',
  'uid',
  'gid',
  'symlinks',
  'target',
  'systemd',
  'enable',
  'mask',
  'kernel',
  'modules',
  'version',
  'image',
  'env',
  'exclude',
  'include',
  'systemd',
  'etc/x',
  './etc//x',
  '../x',
  '/etc/shadow',
  'x.conf',
  'root:root',
  'docker.service',
  'usr/.',
  '\u00a0',
  '\u2028',
  '\ufeff',
];

const yamlish = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    {
      maxLength: 80,
    },
  )
  .map((parts) => parts.join(''));

/** Anchors that repeat the one before `width` times, `depth` levels deep ("billion laughs"). */
const aliasChain = fc
  .record({
    width: fc.integer({ min: 1, max: 12 }),
    depth: fc.integer({ min: 1, max: 7 }),
    at: fc.constantFrom('packages', 'omit', 'x'),
  })
  .map(({ width, depth, at }) => {
    const lines = ['l0: &l0 [systemd]'];
    for (let d = 1; d <= depth; d++)
      lines.push(
        `l${d}: &l${d} [${Array(width)
          .fill(`*l${d - 1}`)
          .join(', ')}]`,
      );
    lines.push(`${at}: *l${depth}`);
    return `${lines.join('\n')}\n`;
  });

/** Collections nested `depth` deep, in flow or block style, under a spec key. */
const deepNesting = fc
  .record({
    depth: fc.integer({ min: 1, max: 3000 }),
    flow: fc.boolean(),
    key: fc.constantFrom('packages', 'image'),
  })
  .map(({ depth, flow, key }) =>
    flow
      ? `${key}: ${'['.repeat(depth)}x${']'.repeat(depth)}\n`
      : `${key}:\n${Array.from({ length: Math.min(depth, 700) }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}x\n`,
  );

test('random YAML-ish text, alias chains and deep nesting load or are E_SPEC', () => {
  fc.assert(
    fc.property(fc.oneof({ weight: 8, arbitrary: yamlish }, aliasChain, deepNesting), (text) =>
      loadsOrSpecError(text),
    ),
    { numRuns: 2500 },
  );
});

const HOOK_LINES = HOOK_YAML.split('\n');

const lineEdit = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: yamlish }),
  fc.record({
    op: fc.constant('replace' as const),
    at: fc.nat(),
    col: fc.nat(),
    text: fc.constantFrom(...TOKENS),
  }),
);

type LineEdit = typeof lineEdit extends fc.Arbitrary<infer T> ? T : never;

function edit(lines: string[], edits: LineEdit[]): string {
  const out = [...lines];
  const i = (n: number) => n % Math.max(1, out.length);
  for (const e of edits) {
    switch (e.op) {
      case 'delete':
        out.splice(i(e.at), 1);
        break;
      case 'duplicate':
        out.splice(i(e.at), 0, out[i(e.at)] ?? '');
        break;
      case 'swap': {
        const a = i(e.at);
        const b = i(e.to);
        [out[a], out[b]] = [out[b] ?? '', out[a] ?? ''];
        break;
      }
      case 'indent': {
        const line = out[i(e.at)] ?? '';
        out[i(e.at)] =
          e.by >= 0 ? `${' '.repeat(e.by)}${line}` : line.replace(new RegExp(`^ {0,${-e.by}}`), '');
        break;
      }
      case 'insert':
        out.splice(i(e.at), 0, e.text);
        break;
      case 'replace': {
        const line = out[i(e.at)] ?? '';
        const col = e.col % (line.length + 1);
        out[i(e.at)] = `${line.slice(0, col)}${e.text}${line.slice(col + e.text.length)}`;
        break;
      }
    }
  }
  return out.join('\n');
}

test('hook.yaml with random line edits loads or is E_SPEC', () => {
  loadsOrSpecError(HOOK_YAML);
  fc.assert(
    fc.property(fc.array(lineEdit, { minLength: 1, maxLength: 6 }), (edits) =>
      loadsOrSpecError(edit(HOOK_LINES, edits)),
    ),
    { numRuns: 300 },
  );
});

/** Values of every type, including the strings the checks care about. */
const anyValue = fc.oneof(
  fc.constantFrom(
    'etc/x',
    './etc//x',
    '../x',
    '/etc/x',
    'usr/.',
    'x.conf',
    '../../etc/passwd',
    'root:root',
    'a:b:c',
  ),
  fc.constantFrom(
    'docker.service',
    '@.service',
    'x',
    '',
    ' ',
    '\n',
    '\u0000',
    '0644',
    '4755',
    'root',
    'nobody',
  ),
  fc.anything({
    maxDepth: 2,
    maxKeys: 4,
    withNullPrototype: true,
    withBigInt: false,
    withMap: false,
    withSet: false,
  }),
);

const specShaped = fc.record(
  {
    name: anyValue,
    version: anyValue,
    arch: anyValue,
    archive: fc.record({ suites: anyValue, components: anyValue, mirror: anyValue }, { requiredKeys: [] }),
    kernel: fc.record(
      { package: anyValue, modules: fc.array(anyValue, { maxLength: 3 }), firmware: anyValue },
      { requiredKeys: [] },
    ),
    packages: fc.oneof(fc.constant(['systemd']), fc.array(anyValue, { maxLength: 3 })),
    files: fc.array(
      fc.record(
        { path: anyValue, content: anyValue, source: anyValue, owner: anyValue, mode: anyValue },
        { requiredKeys: [] },
      ),
      { maxLength: 4 },
    ),
    symlinks: fc.array(fc.record({ path: anyValue, target: anyValue }, { requiredKeys: [] }), {
      maxLength: 3,
    }),
    users: fc.array(
      fc.record(
        {
          name: anyValue,
          uid: anyValue,
          gid: anyValue,
          home: anyValue,
          shell: anyValue,
          groups: anyValue,
          password: anyValue,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    groups: fc.array(fc.record({ name: anyValue, gid: anyValue }, { requiredKeys: [] }), { maxLength: 3 }),
    systemd: fc.record({ enable: anyValue, mask: anyValue }, { requiredKeys: [] }),
    exclude: anyValue,
    omit: anyValue,
    sizeBudget: anyValue,
    compression: anyValue,
    image: anyValue,
    output: anyValue,
  },
  { requiredKeys: [] },
);

test('spec-shaped documents with values of any type load or are E_SPEC', () => {
  fc.assert(
    fc.property(specShaped, (doc) => {
      let text: string;
      try {
        text = stringify(doc, { aliasDuplicateObjects: false });
      } catch {
        return; // not representable as YAML (e.g. a symbol): nothing to load
      }
      loadsOrSpecError(text);
    }),
    { numRuns: 500 },
  );
});
