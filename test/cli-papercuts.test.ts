/**
 * The command line as a new user meets it: a missing spec is a usage error (exit 2) for every
 * command that takes one; `--help` shows each default once; `hook packages fetch` says what it
 * downloaded and what was cached, and names a damaged cache file it fetched again;
 * `--password-stdin` on a real terminal (util-linux `script` gives the command a pty) prompts
 * and does not echo, and the password typed is the one the registry checks.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { casPath } from '../src/debian/cache.ts';
import { startRegistry } from './helpers/registry.ts';

const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));
const ACTION_SPEC = fileURLToPath(new URL('./fixtures/worker/action.yaml', import.meta.url));

function hook(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [HOOK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
    ...(input === undefined ? {} : { input }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hook-cli-papercuts-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a spec that does not exist is a usage error (exit 2, E_USAGE) for build, run and image build', () => {
  const missing = join(dir, 'nope.yaml');
  for (const args of [
    ['build', missing],
    ['build', missing, '--print-spec'],
    ['run', missing],
    ['image', 'build', missing, '--oci-dir', join(dir, 'oci'), '--tag', 't'],
  ]) {
    const result = hook(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(
      result.stderr,
      new RegExp(`^error E_USAGE: No spec file ${missing}: it does not exist`, 'm'),
    );
  }
});

test('--help shows each default once, for every command', () => {
  for (const args of [
    [],
    ['build'],
    ['run'],
    ['inspect'],
    ['image'],
    ['image', 'build'],
    ['packages'],
    ['packages', 'resolve'],
    ['packages', 'fetch'],
  ]) {
    const help = hook([...args, '--help']);
    assert.equal(help.code, 0, args.join(' '));
    // One entry per argument or option: its first line and the indented lines that continue it.
    const entries: string[] = [];
    for (const line of help.stdout.split('\n')) {
      if (/^ {2}\S/.test(line)) entries.push(line);
      else if (/^ {3,}\S/.test(line) && entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
    }
    for (const entry of entries) {
      const defaults = entry.match(/\bdefault\b/g) ?? [];
      assert.ok(defaults.length <= 1, `hook ${args.join(' ')} --help says the default twice: ${entry}`);
    }
  }
});

test('packages fetch: packages, bytes downloaded and already cached; a damaged cache file is named', {
  timeout: 5 * 60_000,
}, () => {
  const cache = join(dir, 'cache');
  const fetch = () => hook(['packages', 'fetch', 'hostname', '--arch', 'amd64', '--cache', cache]);
  const first = fetch();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /✓ fetch: \d+ packages, [\d.]+ [KM]iB downloaded, 0 B already cached \(/);
  assert.match(
    first.stdout,
    /^\d+ packages, [\d.]+ [KM]iB \(\d+ bytes\) verified in the cache: [\d.]+ [KM]iB downloaded, 0 B already cached\n$/,
  );
  const second = fetch();
  assert.match(second.stderr, /✓ fetch: \d+ packages, 0 B downloaded, [\d.]+ [KM]iB already cached \(/);

  const resolved = JSON.parse(
    hook(['packages', 'resolve', 'hostname', '--arch', 'amd64', '--cache', cache, '--json']).stdout,
  ) as { name: string; sha256: string; size: number }[];
  const hostname = resolved.find((p) => p.name === 'hostname');
  assert.ok(hostname);
  // One byte of the cached .deb changed: it is deleted, fetched again, and named.
  const path = casPath(cache, hostname.sha256);
  const bytes = spawnSync('sh', ['-c', `printf X | dd of=${path} bs=1 seek=100 conv=notrunc 2>/dev/null`]);
  assert.equal(bytes.status, 0);
  const repaired = hook(['packages', 'fetch', 'hostname', '--arch', 'amd64', '--cache', cache, '--json']);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(
    repaired.stderr,
    /warning: cache entry for package file pool\/main\/h\/hostname\/hostname_[^ ]+\.deb .* is damaged/,
  );
  const summary = JSON.parse(repaired.stdout) as Record<string, unknown>;
  assert.deepEqual(summary.repaired, ['hostname']);
  assert.equal(summary.downloadedBytes, hostname.size);
  assert.equal(summary.cachedBytes, (summary.bytes as number) - hostname.size);
});

/** Runs `hook args` on a pseudo-terminal (util-linux `script`), typing `typed` once it prompts. */
function onTerminal(args: string[], typed: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, HOOK, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let output = '';
  let sent = false;
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (!sent && output.includes('Password: ')) {
      sent = true;
      child.stdin.write(`${typed}\r`);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

test('--password-stdin on a terminal prompts and does not echo; from a pipe it reads stdin', {
  timeout: 10 * 60_000,
}, async (t) => {
  const password = 'Typed-s3cret-9f2';
  const registry = await startRegistry(t, { auth: { username: 'hook', password } });
  const push = (tag: string) => [
    'image',
    'build',
    ACTION_SPEC,
    '--push',
    `${registry.host}/test/action:${tag}`,
    '--insecure',
    '--username',
    'hook',
    '--password-stdin',
  ];
  const typed = await onTerminal(push('tty'), password);
  assert.equal(typed.code, 0, typed.output);
  assert.match(typed.output, /Password: /);
  assert.ok(!typed.output.includes(password), `the password was echoed:\n${typed.output}`);
  assert.match(typed.output, new RegExp(`pushed ${registry.host}/test/action@sha256:[0-9a-f]{64}`));

  const wrong = await onTerminal(push('wrong'), 'not-the-password');
  assert.notEqual(wrong.code, 0, 'the registry refuses a wrong password: what is typed is what is sent');
  assert.ok(!wrong.output.includes('not-the-password'));

  const piped = hook(push('pipe'), `${password}\n`);
  assert.equal(piped.code, 0, piped.stderr);
  assert.doesNotMatch(piped.stderr, /Password:/, 'no prompt when stdin is a pipe');
});
