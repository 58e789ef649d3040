import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDirSync } from '../../test/helpers/temp-dir.ts';
import { isHookError } from '../errors.ts';
import {
  DEFAULT_SPEC_FILE,
  didYouMean,
  formatDocPath,
  loadSpec,
  parseSpec,
  SpecError,
  specError,
} from './load.ts';

const repoHookYaml = fileURLToPath(new URL('../../hook.yaml', import.meta.url));

function specIn(text: string, name = 'hook.yaml'): string {
  const dir = tempDirSync('hook-spec-');
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error;
  }
  assert.fail('expected a SpecError');
}

test('the built-in default is the checked-in hook.yaml', () => {
  const builtIn = loadSpec();
  assert.equal(builtIn.path, repoHookYaml);
  assert.equal(DEFAULT_SPEC_FILE, repoHookYaml);
  const checkedIn = parseSpec(
    readFileSync(repoHookYaml, 'utf8'),
    'hook.yaml',
    fileURLToPath(new URL('../..', import.meta.url)),
  );
  assert.deepEqual(builtIn.spec, checkedIn.spec);
  assert.deepEqual(loadSpec(repoHookYaml).spec, builtIn.spec);
});

test('the default spec is a Tinkerbell OSIE', () => {
  const { spec } = loadSpec();
  const names = spec.packages.map((p) => p.name);
  for (const name of ['systemd', 'udev', 'docker.io', 'containerd', 'runc', 'quickjs', 'socat', 'iptables']) {
    assert.ok(names.includes(name), name);
  }
  assert.ok(spec.systemd.enable.includes('docker.service'));
  assert.ok(spec.systemd.mask.includes('systemd-firstboot.service'));
  assert.ok(spec.groups.some((g) => g.name === 'docker'));
  assert.ok(spec.symlinks.some((s) => s.path === 'usr/sbin/iptables'));
  assert.ok(spec.kernel.modules.includes('kernel/drivers/net/ethernet/**'));
  assert.equal(spec.sizeBudget, 448 * 1024 * 1024);
  assert.equal(spec.compression, 'zstd');
  assert.equal(spec.arch, 'x86_64');
});

test('file modes written as bare digits are octal, as file modes always are', () => {
  const file = specIn(
    [
      'packages: [systemd]',
      'files:',
      '  - { path: etc/a, content: a, mode: 0644 }',
      '  - { path: etc/b, content: b, mode: 755 }',
      '  - { path: etc/c, content: c, mode: 0o600 }',
      '  - { path: etc/d, content: d, mode: "4755" }',
      '  - { path: etc/e, content: e }',
    ].join('\n'),
  );
  const modes = loadSpec(file).spec.files.map((f) => f.mode);
  assert.deepEqual(modes, [0o644, 0o755, 0o600, 0o4755, 0o644]);
});

test('files[].source is resolved against the spec file directory', () => {
  const file = specIn('packages: [systemd]\nfiles:\n  - { path: etc/x.conf, source: x.conf }\n');
  const dir = join(file, '..');
  writeFileSync(join(dir, 'x.conf'), 'x\n');
  const loaded = loadSpec(file);
  assert.equal(loaded.dir, dir);
  assert.equal(loaded.spec.files[0]?.source, join(dir, 'x.conf'));
});

test('locate finds nodes, and the nearest ancestor for a path that is not there', () => {
  const text = [
    'packages:',
    '  - systemd',
    '  - name: docker.io',
    '    exclude: [a/**, b/**]',
    'kernel:',
    '  cmdline: quiet',
    '',
  ].join('\n');
  const loaded = parseSpec(text, 'hook.yaml', tmpdir());
  assert.deepEqual(loaded.locate(['packages', 0]), { line: 2, col: 5 });
  assert.deepEqual(loaded.locate(['packages', 1]), { line: 3, col: 5 });
  assert.deepEqual(loaded.locate(['packages', 1, 'exclude', 1]), { line: 4, col: 21 });
  assert.deepEqual(loaded.locate(['kernel', 'cmdline']), { line: 6, col: 12 });
  assert.deepEqual(loaded.locate(['kernel', 'modules']), { line: 6, col: 3 });
  assert.deepEqual(loaded.locate(['packages', 0, 'name']), { line: 2, col: 5 });
  assert.deepEqual(loaded.locate([]), { line: 1, col: 1 });
});

test('specError points at a package entry for the resolver', () => {
  const file = specIn(
    ['# spec', 'packages:', '  - systemd', '  - udev', '  - kmod', '  - systemdd', ''].join('\n'),
  );
  const loaded = loadSpec(file);
  const error = specError(
    loaded,
    ['packages', 3],
    'unknown package "systemdd" (did you mean systemd?)',
    'Check the name',
  );
  assert.ok(isHookError(error));
  assert.equal(error.code, 'E_SPEC');
  assert.equal(error.hint, 'Check the name');
  assert.equal(error.message, `${file}:6:5: packages[3]: unknown package "systemdd" (did you mean systemd?)`);
});

test('every problem is reported at once, in file order', () => {
  const file = specIn(['compression: xz', 'packages: [systemd]', 'arch: arm', 'kernal: {}', ''].join('\n'));
  const error = errorOf(() => loadSpec(file));
  assert.deepEqual(
    error.problems.map((p) => `${p.line}:${p.col} ${p.path}`),
    ['1:14 compression', '3:7 arch', '4:1 kernal'],
  );
  assert.equal(error.message.split('\n').length, 3);
  assert.equal(error.code, 'E_SPEC');
});

test('an empty file is missing its packages', () => {
  const file = specIn('');
  const error = errorOf(() => loadSpec(file));
  assert.equal(error.message, `${file}:1:1: packages: missing (expected a list of strings or mappings)`);
});

test('a document that is not a mapping is refused', () => {
  const file = specIn('- systemd\n');
  const error = errorOf(() => loadSpec(file));
  assert.equal(error.message, `${file}:1:1: (document): expected a mapping, got a list`);
});

test('an unknown alias is a YAML error at the alias', () => {
  const file = specIn('packages:\n  - *base\n');
  const error = errorOf(() => loadSpec(file));
  assert.match(error.message, new RegExp(`^${file}:2:5: YAML syntax: `));
});

test('duplicate keys are YAML errors', () => {
  const file = specIn('packages: [systemd]\npackages: [udev]\n');
  const error = errorOf(() => loadSpec(file));
  assert.equal(error.message, `${file}:2:1: YAML syntax: Map keys must be unique`);
});

test('a missing spec file is a usage error (E_USAGE, exit 2) naming it', () => {
  assert.throws(
    () => loadSpec('/nonexistent/hook.yaml'),
    (error: unknown) =>
      isHookError(error) &&
      error.code === 'E_USAGE' &&
      /No spec file \/nonexistent\/hook.yaml: it does not exist/.test(error.message),
  );
  const dir = tempDirSync('hook-spec-');
  assert.throws(
    () => loadSpec(dir),
    (error: unknown) =>
      isHookError(error) && error.code === 'E_USAGE' && /it is a directory/.test(error.message),
  );
});

test('didYouMean suggests close names only', () => {
  assert.equal(didYouMean('kernal', ['name', 'kernel', 'packages']), 'kernel');
  assert.equal(didYouMean('systemdd', ['systemd', 'systemd-sysv', 'udev']), 'systemd');
  assert.equal(didYouMean('sizebudget', ['sizeBudget', 'compression']), 'sizeBudget');
  assert.equal(didYouMean('pakcages', ['packages', 'groups']), 'packages');
  assert.equal(didYouMean('zzz', ['packages', 'kernel']), undefined);
  assert.equal(didYouMean('x', []), undefined);
});

test('formatDocPath writes paths as in the document', () => {
  assert.equal(formatDocPath(['kernel', 'modules', 2]), 'kernel.modules[2]');
  assert.equal(formatDocPath(['packages', 3, 'include', 0]), 'packages[3].include[0]');
  assert.equal(formatDocPath([]), '(document)');
});
