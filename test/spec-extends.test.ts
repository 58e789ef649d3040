/**
 * Layered specs end to end: `hook build --print-spec` shows the merged spec (YAML that loads
 * back to the same spec, and JSON), errors in a base are reported in the base file through the
 * CLI, and a real build of a spec that extends a base that extends the default: the base's
 * file and removal reach the OS, a second build is up to date, and editing the base (not the
 * spec built) rebuilds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { loadSpec, parseSpec } from '../src/specfile/load.ts';
import { effectiveSpec } from '../src/specfile/show.ts';
import { osFiles, osText } from './helpers/os-files.ts';

const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));

function hook(...args: string[]) {
  const result = spawnSync(process.execPath, [HOOK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hook-spec-extends-'));
  await mkdir(join(dir, 'team'));
  await writeFile(
    join(dir, 'team', 'base.yaml'),
    [
      'extends: default',
      'name: team-os',
      'packages: ["!less"]',
      'files:',
      '  - { path: etc/team/motd, source: motd.txt, mode: "0600" }',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'team', 'motd.txt'), 'managed by the team\n');
  await writeFile(
    join(dir, 'site.yaml'),
    ['extends: team/base.yaml', 'kernel:', '  cmdline: console=ttyS1,115200', 'packages: [jq]', ''].join(
      '\n',
    ),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

test('--print-spec: the merged spec with defaults, as YAML that loads back to the same spec, and as JSON', () => {
  const yaml = hook('build', join(dir, 'site.yaml'), '--print-spec', '--arch', 'aarch64');
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(
    yaml.stdout,
    /^# The spec hook build reads: .*hook\.yaml ← .*team\/base\.yaml ← .*site\.yaml\n/,
  );
  const printed = parse(yaml.stdout) as Record<string, unknown>;
  assert.equal(printed.name, 'team-os');
  assert.equal(printed.arch, 'aarch64', '--arch shows in the spec printed');
  assert.deepEqual(printed.kernel && (printed.kernel as { cmdline: string }).cmdline, 'console=ttyS1,115200');
  const names = (printed.packages as (string | { name: string })[]).map((p) =>
    typeof p === 'string' ? p : p.name,
  );
  assert.ok(names.includes('jq') && names.includes('docker.io') && !names.includes('less'), names.join(' '));

  const loaded = loadSpec(join(dir, 'site.yaml'));
  // The YAML is a spec of its own: it builds the same OS (sources are absolute paths now).
  const reloaded = parseSpec(yaml.stdout, 'printed.yaml', tmpdir(), undefined, { allowOutsideSources: true });
  assert.deepEqual(reloaded.spec, { ...loaded.spec, arch: 'aarch64' });

  const json = hook('build', join(dir, 'site.yaml'), '--print-spec', '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), effectiveSpec(loaded));
});

test('through the CLI, an error in a base is reported at its line in the base file (exit 1)', async () => {
  const bad = join(dir, 'bad');
  await mkdir(bad);
  await writeFile(
    join(bad, 'base.yaml'),
    'extends: default\nsystemd:\n  enable: [dockerr.service]\n  mask: yes\n',
  );
  await writeFile(join(bad, 'hook.yaml'), 'extends: base.yaml\npackages: ["!lesss"]\n');
  const result = hook('build', join(bad, 'hook.yaml'), '--print-spec');
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`${join(bad, 'base.yaml')}:4:9: systemd\\.mask: expected a list of strings`),
  );
  assert.match(
    result.stderr,
    new RegExp(`${join(bad, 'hook.yaml')}:2:12: packages\\[0\\]: "!lesss" removes nothing`),
  );
});

test('a build of a spec extending a base extending the default: up to date until the base changes', {
  timeout: 20 * 60_000,
}, async () => {
  const outDir = join(dir, 'out');
  const first = await build({
    specFile: join(dir, 'site.yaml'),
    arch: 'x86_64',
    outDir,
    reporter: silentReporter,
  });
  assert.equal(first.upToDate, false);
  assert.deepEqual(first.warnings, [], 'no warning (maintainer scripts included)');
  const files = await osFiles(join(outDir, 'initramfs-x86_64'));
  assert.equal(
    osText(files, 'etc/team/motd'),
    'managed by the team\n',
    "the base's file, read from the base's folder",
  );
  assert.equal((files.get('etc/team/motd')?.mode ?? 0) & 0o7777, 0o600);
  assert.ok(files.has('usr/bin/jq'), "the spec's package");
  assert.ok(!files.has('usr/bin/less'), 'the package the base removed');
  assert.match(osText(files, 'usr/lib/os-release') ?? '', /VARIANT_ID=team-os/);
  const lock = await readFile(join(outDir, 'hook-x86_64.lock'), 'utf8');
  assert.doesNotMatch(lock, /"name": "less"/);

  const again = await build({
    specFile: join(dir, 'site.yaml'),
    arch: 'x86_64',
    outDir,
    reporter: silentReporter,
  });
  assert.equal(again.upToDate, true, 'nothing changed');
  await writeFile(join(dir, 'team', 'motd.txt'), 'managed by the team, edited\n');
  const sourceEdited = await build({
    specFile: join(dir, 'site.yaml'),
    arch: 'x86_64',
    outDir,
    reporter: silentReporter,
  });
  assert.equal(sourceEdited.upToDate, false, 'a source named by the base changed: rebuilt');
  const base = await readFile(join(dir, 'team', 'base.yaml'), 'utf8');
  await writeFile(join(dir, 'team', 'base.yaml'), base.replace('name: team-os', 'name: team-os-2'));
  const rebuilt = await build({
    specFile: join(dir, 'site.yaml'),
    arch: 'x86_64',
    outDir,
    reporter: silentReporter,
  });
  assert.equal(rebuilt.upToDate, false, 'the base changed: rebuilt');
  const after = await osFiles(join(outDir, 'initramfs-x86_64'));
  assert.match(osText(after, 'usr/lib/os-release') ?? '', /VARIANT_ID=team-os-2/);
});
