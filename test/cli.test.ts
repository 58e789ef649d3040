/**
 * The `hook` command as a user runs it: help, exit codes, and the archive commands against
 * the real Debian archive (indexes from the shared cache).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildDefaultOs } from './helpers/built-os.ts';

const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));

function hook(...args: string[]) {
  const result = spawnSync(process.execPath, [HOOK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help lists every command, and each command has its own help', () => {
  const top = hook('--help');
  assert.equal(top.code, 0);
  for (const command of ['build', 'run', 'inspect', 'image', 'packages'])
    assert.match(top.stdout, new RegExp(`\\n  ${command}\\b`));
  for (const args of [
    ['build'],
    ['run'],
    ['inspect'],
    ['image', 'build'],
    ['packages', 'resolve'],
    ['packages', 'fetch'],
  ]) {
    const help = hook(...args, '--help');
    assert.equal(help.code, 0, args.join(' '));
    assert.match(help.stdout, /^Usage: hook /);
    assert.match(help.stdout, /Options:/);
  }
});

test('usage errors exit with 2 and say what is wrong', () => {
  const badArch = hook('build', '--arch', 'sparc');
  assert.equal(badArch.code, 2);
  assert.match(badArch.stderr, /Unknown architecture "sparc"/);
  assert.equal(hook('frobnicate').code, 2);
});

test('packages resolve prints the sorted closure; an unknown name gets suggestions', {
  timeout: 5 * 60_000,
}, () => {
  const resolved = hook('packages', 'resolve', 'iptables', '--arch', 'amd64');
  assert.equal(resolved.code, 0, resolved.stderr);
  const lines = resolved.stdout.trim().split('\n');
  assert.ok(lines.length > 3);
  for (const line of lines) assert.match(line, /^[a-z0-9][a-z0-9+.-]* \S+$/);
  const names = lines.map((l) => l.split(' ')[0] as string);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  assert.ok(names.includes('iptables') && names.includes('libc6'));

  const json = JSON.parse(hook('packages', 'resolve', 'iptables', '--arch', 'amd64', '--json').stdout);
  assert.deepEqual(
    json.map((p: { name: string; version: string }) => `${p.name} ${p.version}`),
    lines,
  );

  const unknown = hook('packages', 'resolve', 'iptablez', '--arch', 'amd64');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /E_UNKNOWN_PACKAGE: Unknown package "iptablez"/);
  assert.match(unknown.stderr, /hint: Did you mean: .*iptables/);
});

test('inspect shows segments, packages and the largest files of a build', {
  timeout: 20 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  const shown = hook('inspect', `${image.outDir}/initramfs-x86_64`, '--top', '5');
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^initramfs-x86_64: [\d.]+ MiB compressed, [\d.]+ MiB uncompressed/);
  assert.match(shown.stdout, /\nkernel-modules(-\d+)? +\d+/);
  assert.match(shown.stdout, /\ndocker\.io +\d+ +[\d.]+ MiB/);
  assert.match(shown.stdout, /\/usr\/sbin\/dockerd \(docker\.io\)/);
  const missing = hook('inspect', '/nonexistent/initramfs-x86_64');
  assert.equal(missing.code, 2, 'a missing file is a usage error');
  assert.match(missing.stderr, /E_USAGE: No such file/);
});
