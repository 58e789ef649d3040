/**
 * Layered specs (`extends:`): the merge rule of each kind of value, removal and replacement of
 * list entries, chains and cycles, sources relative to the file that names them, and errors
 * reported at the line and column of the file that caused them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { tempDirSync } from '../../test/helpers/temp-dir.ts';
import {
  DEFAULT_SPEC_FILE,
  type LoadedSpec,
  loadSpec,
  SpecError,
  type SpecProblem,
  specError,
} from './load.ts';
import { listRules, mergeLayer } from './merge.ts';

/** Writes `files` (name → text) into a fresh folder and returns its path. */
function folder(files: Record<string, string>): string {
  const dir = tempDirSync('hook-extends-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function problemsOf(fn: () => unknown): SpecProblem[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    return error.problems;
  }
  assert.fail('expected a SpecError');
}

const names = (loaded: LoadedSpec) => loaded.spec.packages.map((p) => p.name);

test('extends: default — the built-in spec with this file merged in (a package, a file, a module)', () => {
  const dir = folder({
    'hook.yaml': [
      'extends: default',
      'packages: [htop]',
      'files:',
      '  - { path: etc/motd, content: "welcome\\n" }',
      'kernel:',
      '  modules: [kernel/drivers/net/wireless/intel/iwlwifi/**]',
      '',
    ].join('\n'),
  });
  const base = loadSpec();
  const loaded = loadSpec(join(dir, 'hook.yaml'));
  assert.deepEqual(names(loaded), [...names(base), 'htop'], 'lists append after the base');
  assert.deepEqual(
    loaded.spec.files.map((f) => f.path),
    [...base.spec.files.map((f) => f.path), 'etc/motd'],
  );
  assert.deepEqual(loaded.spec.kernel.modules, [
    ...base.spec.kernel.modules,
    'kernel/drivers/net/wireless/intel/iwlwifi/**',
  ]);
  // Maps merge: what the child does not write keeps the base's value.
  assert.equal(loaded.spec.kernel.package, base.spec.kernel.package);
  assert.deepEqual(loaded.spec.kernel.firmware, base.spec.kernel.firmware);
  assert.deepEqual(loaded.spec.systemd, base.spec.systemd);
  assert.equal(loaded.spec.sizeBudget, base.spec.sizeBudget);
  assert.deepEqual(
    loaded.layers.map((l) => l.path),
    [DEFAULT_SPEC_FILE, join(dir, 'hook.yaml')],
  );
  assert.equal(loaded.spec.extends, undefined, 'the merged spec extends nothing');
});

test('maps merge recursively, scalars replace, lists append; !override and !reset', () => {
  const dir = folder({
    'base.yaml': [
      'name: base',
      'archive:',
      '  mirror: http://deb.lan/debian',
      '  suites: [trixie, trixie-updates]',
      'kernel:',
      '  cmdline: console=ttyS0',
      '  modules: [virtio_net, e1000e]',
      'packages: [systemd, bash]',
      'image:',
      '  cmd: [a, b]',
      '  env: { A: "1", B: "2" }',
      'sizeBudget: 300MiB',
      '',
    ].join('\n'),
    'hook.yaml': [
      'extends: base.yaml',
      'name: child',
      'archive:',
      '  mirror: !reset',
      '  suites: !override [bookworm]',
      'kernel:',
      '  cmdline: console=ttyS1',
      '  modules: ["!e1000e", igb]',
      'packages: [curl]',
      'image:',
      '  cmd: [c]',
      '  env: { B: "3", C: "4" }',
      '',
    ].join('\n'),
  });
  const { spec } = loadSpec(join(dir, 'hook.yaml'));
  assert.equal(spec.name, 'child');
  assert.equal(spec.archive.mirror, undefined, '!reset: back to the default (none)');
  assert.deepEqual(spec.archive.suites, ['bookworm'], '!override: the whole list replaced');
  assert.equal(spec.kernel.cmdline, 'console=ttyS1');
  // kernel.modules appends as written: "!e1000e" excludes e1000e, as it would in one file.
  assert.deepEqual(spec.kernel.modules, ['virtio_net', 'e1000e', '!e1000e', 'igb']);
  assert.deepEqual(
    spec.packages.map((p) => p.name),
    ['systemd', 'bash', 'curl'],
  );
  assert.deepEqual(spec.image?.cmd, ['c'], 'a command replaces');
  assert.deepEqual(spec.image?.env, { A: '1', B: '3', C: '4' }, 'image.env is a map: merged');
  assert.equal(spec.sizeBudget, 300 * 1024 * 1024, 'a scalar the child does not write is kept');
});

test('list entries: "!key" removes, the same key replaces in place, a repeated string is kept once', () => {
  const dir = folder({
    'base.yaml': [
      'packages:',
      '  - systemd',
      '  - docker-cli',
      '  - name: containerd',
      '    exclude: [usr/bin/ctr]',
      '  - less',
      'omit: [python3]',
      'exclude: [usr/share/doc/**, usr/share/man/**]',
      'groups: [{ name: docker, gid: 999 }, { name: ops, gid: 1000 }]',
      'users: [{ name: ops, uid: 1000 }]',
      'symlinks: [{ path: usr/sbin/iptables, target: iptables-nft }]',
      'files:',
      '  - { path: etc/motd, content: base }',
      '  - { path: etc/issue, content: base }',
      'systemd: { enable: [docker.service], mask: [ldconfig.service] }',
      'registries: [{ host: "registry.lan:5000", insecure: true }]',
      '',
    ].join('\n'),
    'hook.yaml': [
      'extends: ./base.yaml',
      'packages:',
      '  - !docker-cli', // unquoted: YAML reads a tag; it means the string "!docker-cli"
      '  - "!less"',
      '  - name: containerd', // replaces the base's containerd entry, in its place
      '  - htop',
      'omit: [python3, perl]',
      'exclude: ["!usr/share/man/**"]',
      'groups: ["!ops"]',
      'users: ["!ops"]',
      'symlinks: ["!/usr/sbin/iptables"]',
      'files:',
      '  - "!./etc//issue"', // paths compare normalised
      '  - { path: etc/motd, content: child }',
      'systemd: { enable: ["!docker.service"], mask: [ldconfig.service] }',
      'registries: ["!registry.lan:5000"]',
      '',
    ].join('\n'),
  });
  const { spec } = loadSpec(join(dir, 'hook.yaml'));
  assert.deepEqual(spec.packages, [{ name: 'systemd' }, { name: 'containerd' }, { name: 'htop' }]);
  assert.deepEqual(spec.omit, ['python3', 'perl']);
  assert.deepEqual(spec.exclude, ['usr/share/doc/**']);
  assert.deepEqual(
    spec.groups.map((g) => g.name),
    ['docker'],
  );
  assert.deepEqual(spec.users, []);
  assert.deepEqual(spec.symlinks, []);
  assert.deepEqual(
    spec.files.map((f) => [f.path, f.content]),
    [['etc/motd', 'child']],
  );
  assert.deepEqual(spec.systemd, { enable: [], mask: ['ldconfig.service'] });
  assert.deepEqual(spec.registries, []);
});

test('property: a string list is the base minus its removals, then the new entries, each once', () => {
  const name = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  fc.assert(
    fc.property(
      fc.uniqueArray(name),
      fc.array(fc.tuple(fc.boolean(), name), { maxLength: 8 }),
      (base, ops) => {
        const child = ops.map(([remove, n]) => (remove ? `!${n}` : n));
        const problems: Parameters<typeof mergeLayer>[2] = [];
        const first = mergeLayer(undefined, { index: 0, raw: { omit: base }, tags: new Map() }, problems);
        const merged = mergeLayer(first, { index: 1, raw: { omit: child }, tags: new Map() }, problems);
        // The model: removals apply to the base only; additions skip what the base still has.
        let kept: string[] = [...base];
        const added: string[] = [];
        const expectedProblems: number[] = [];
        child.forEach((entry, i) => {
          if (entry.startsWith('!')) {
            const n = entry.slice(1);
            if (kept.includes(n)) kept = kept.filter((k) => k !== n);
            else expectedProblems.push(i);
          } else if (!kept.includes(entry)) added.push(entry);
        });
        assert.deepEqual((merged.value as { omit: string[] }).omit, [...kept, ...added]);
        assert.deepEqual(
          problems.map((p) => p.path),
          expectedProblems.map((i) => ['omit', i]),
        );
      },
    ),
    { numRuns: 500 },
  );
});

test('every list has a documented rule', () => {
  const rules = listRules();
  assert.equal(rules.get('packages'), 'keyed (package)');
  assert.equal(rules.get('files'), 'keyed (file)');
  assert.equal(rules.get('kernel.modules'), 'append');
  assert.equal(rules.get('image.cmd'), 'replace');
});

test('chains: each extends is relative to its own file; sources are relative to the file naming them', () => {
  const dir = folder({
    'team/base.yaml': [
      'extends: default',
      'name: team',
      'files:',
      '  - { path: etc/team, source: team.txt }',
      '',
    ].join('\n'),
    'team/team.txt': 'team\n',
    'sites/a/hook.yaml': [
      'extends: ../../team/base.yaml',
      'files:',
      '  - { path: etc/site, source: site.txt }',
      '',
    ].join('\n'),
    'sites/a/site.txt': 'site\n',
  });
  const loaded = loadSpec(join(dir, 'sites/a/hook.yaml'));
  assert.equal(loaded.spec.name, 'team');
  assert.deepEqual(
    loaded.layers.map((l) => l.path),
    [DEFAULT_SPEC_FILE, join(dir, 'team/base.yaml'), join(dir, 'sites/a/hook.yaml')],
  );
  const sources = loaded.spec.files.flatMap((f) => (f.source === undefined ? [] : [f.source]));
  assert.deepEqual(sources, [join(dir, 'team/team.txt'), join(dir, 'sites/a/site.txt')]);
  const teamIndex = loaded.spec.files.findIndex((f) => f.path === 'etc/team');
  assert.equal(loaded.dirOf(['files', teamIndex, 'source']), join(dir, 'team'));
  assert.equal(loaded.dir, join(dir, 'sites/a'), 'output.dir stays relative to the spec built');
});

test('a base may not read sources outside its own folder either', () => {
  const dir = folder({
    'secret.txt': 'x',
    'base/base.yaml': 'packages: [bash]\nfiles:\n  - { path: etc/x, source: ../secret.txt }\n',
    'base/child.yaml': 'extends: base.yaml\n',
  });
  const problems = problemsOf(() => loadSpec(join(dir, 'base/child.yaml')));
  assert.equal(problems.length, 1);
  assert.equal(problems[0]?.file, join(dir, 'base/base.yaml'));
  assert.deepEqual([problems[0]?.line, problems[0]?.col], [3, 28]);
  assert.match(problems[0]?.message ?? '', /outside the spec's folder/);
});

test("errors are reported in the file that caused them, with that file's paths", () => {
  const dir = folder({
    'base.yaml': ['packages: [bash]', 'kernel:', '  cmdlin: x', ''].join('\n'),
    'child.yaml': [
      'extends: base.yaml',
      'packages:',
      '  - curl',
      '  - Bad_Name',
      '  - "!lesss"',
      'sizeBudget: big',
      '',
    ].join('\n'),
  });
  const problems = problemsOf(() => loadSpec(join(dir, 'child.yaml')));
  const shown = problems.map((p) => `${p.file.replace(`${dir}/`, '')}:${p.line}:${p.col}: ${p.path}`);
  assert.deepEqual(shown, [
    'base.yaml:3:3: kernel.cmdlin',
    'child.yaml:4:5: packages[1]',
    'child.yaml:5:5: packages[2]',
    'child.yaml:6:13: sizeBudget',
  ]);
  assert.match(problems[0]?.message ?? '', /unknown key "cmdlin" \(did you mean cmdline\?\)/);
  assert.match(problems[2]?.message ?? '', /"!lesss" removes nothing: the base has no package "lesss"/);
});

test('errors found after loading (unknown package at resolve time) point into the right file', () => {
  const dir = folder({
    'base.yaml': 'packages:\n  - bash\n  - systemdd\n',
    'child.yaml': 'extends: base.yaml\npackages:\n  - curl\n  - htopp\n',
  });
  const loaded = loadSpec(join(dir, 'child.yaml'));
  assert.deepEqual(names(loaded), ['bash', 'systemdd', 'curl', 'htopp']);
  const inBase = specError(loaded, ['packages', 1], 'unknown package "systemdd"');
  assert.match(
    inBase.message,
    new RegExp(`^${join(dir, 'base.yaml')}:3:5: packages\\[1\\]: unknown package`),
  );
  const inChild = specError(loaded, ['packages', 3], 'unknown package "htopp"');
  assert.match(
    inChild.message,
    new RegExp(`^${join(dir, 'child.yaml')}:4:5: packages\\[1\\]: unknown package`),
  );
  // A value nobody wrote (a default) is placed in the spec being built.
  assert.equal(loaded.place(['kernel', 'cmdline']).file, join(dir, 'child.yaml'));
});

test('extends: cycles, missing files, bad values and unknown tags are refused at the extends node', () => {
  const dir = folder({
    'a.yaml': 'packages: [bash]\nextends: b.yaml\n',
    'b.yaml': 'extends: a.yaml\n',
    'self.yaml': 'extends: ./self.yaml\n',
    'missing.yaml': '\nextends: nowhere.yaml\n',
    'number.yaml': 'extends: 3\n',
    'tag.yaml': 'extends: default\npackages: [!foo bar]\n',
  });
  const [cycle] = problemsOf(() => loadSpec(join(dir, 'a.yaml')));
  assert.equal(cycle?.file, join(dir, 'b.yaml'));
  assert.deepEqual([cycle?.line, cycle?.col, cycle?.path], [1, 10, 'extends']);
  assert.match(cycle?.message ?? '', /a\.yaml → .*b\.yaml → .*a\.yaml is a cycle/);
  assert.match(problemsOf(() => loadSpec(join(dir, 'self.yaml')))[0]?.message ?? '', /is a cycle/);
  const [missing] = problemsOf(() => loadSpec(join(dir, 'missing.yaml')));
  assert.deepEqual([missing?.line, missing?.col], [2, 10]);
  assert.match(missing?.message ?? '', /cannot extend "nowhere.yaml": .*nowhere.yaml does not exist/);
  assert.match(
    problemsOf(() => loadSpec(join(dir, 'number.yaml')))[0]?.message ?? '',
    /expected "default" or the path of a spec file, got a number/,
  );
  const [tag] = problemsOf(() => loadSpec(join(dir, 'tag.yaml')));
  assert.deepEqual([tag?.line, tag?.col, tag?.message], [2, 12, 'unknown YAML tag !foo']);
});

test('a removal in a spec that extends nothing is an error, not silently ignored', () => {
  const dir = folder({ 'hook.yaml': 'packages: [bash, "!less"]\n' });
  const [problem] = problemsOf(() => loadSpec(join(dir, 'hook.yaml')));
  assert.match(problem?.message ?? '', /"!less" removes nothing: this spec extends no other/);
});
