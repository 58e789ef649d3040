/** Processes, pipes, signals, files and timers on qjs, against real programs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childCommand, childProgram } from '../../test-runner/child.ts';
import { utf8Decode } from './bytes.ts';
import { SystemError } from './errors.ts';
import {
  exists,
  makeTempDir,
  mkdirp,
  readBytes,
  readdir,
  readText,
  removeTree,
  stat,
  writeFile,
} from './fs.ts';
import {
  findProgram,
  kill,
  LineSplitter,
  onSignal,
  type PipeReader,
  pid,
  run,
  SIGTERM,
  selfCommand,
  spawn,
  writeStdout,
} from './process.ts';
import { Stop, StoppedError, sleep } from './timers.ts';

childProgram('echo-args', async () => {
  writeStdout(`${JSON.stringify(scriptArgs.slice(1))}\n`);
  return 3;
});

test('run: exit codes, stdout and stderr apart, stdin, environment and working directory', async () => {
  const result = await run(['sh', '-c', 'echo out; echo err >&2; cat; echo "$HOOK_X $(pwd)"; exit 7'], {
    input: 'from stdin é\n',
    env: { PATH: '/usr/bin:/bin', HOOK_X: 'set' },
    cwd: '/tmp',
  });
  assert.equal(result.code, 7);
  assert.equal(result.signal, null);
  assert.equal(result.stdout, 'out\nfrom stdin é\nset /tmp\n');
  assert.equal(result.stderr, 'err\n');
});

test('a program that does not exist is an error naming it, not exit code 127', () => {
  assert.throws(
    () => spawn(['hook-no-such-program']),
    (error: unknown) =>
      error instanceof SystemError &&
      error.message === 'spawn hook-no-such-program: No such file or directory',
  );
  assert.ok(findProgram('sh')?.endsWith('/sh'));
  assert.equal(findProgram('/nonexistent/x'), undefined);
});

test('lines across pieces: a line cut between writes, a UTF-8 character cut between reads, a last line without newline', async () => {
  const child = spawn(
    ['sh', '-c', "printf 'a'; sleep 0.1; printf 'b\\n\\303'; sleep 0.1; printf '\\251\\nlast'"],
    {
      stdout: 'pipe',
    },
  );
  const lines: string[] = [];
  await new Promise<void>((resolve) =>
    (child.stdout as PipeReader).readLines(
      (line) => lines.push(line),
      () => resolve(),
    ),
  );
  assert.deepEqual(lines, ['ab', 'é', 'last']);
  assert.deepEqual(await child.exited, { code: 0, signal: null });
  const split: string[] = [];
  const splitter = new LineSplitter((line) => split.push(line));
  for (const byte of new Uint8Array([0x78, 0x0a, 0xe2, 0x9c, 0x93, 0x0a, 0x0a]))
    splitter.push(new Uint8Array([byte]));
  splitter.end();
  assert.deepEqual(split, ['x', '✓', '']);
});

test('signals: a child killed with SIGTERM reports it; our own SIGTERM reaches onSignal, not the default action', async () => {
  const child = spawn(['sleep', '30']);
  await sleep(50);
  child.kill(SIGTERM);
  assert.deepEqual(await child.exited, { code: null, signal: SIGTERM });

  let received = 0;
  const remove = onSignal(SIGTERM, () => received++);
  kill(pid(), SIGTERM);
  const deadline = Date.now() + 2000;
  while (received === 0 && Date.now() < deadline) await sleep(10);
  remove();
  assert.equal(received, 1, 'the handler ran and the process lives on');
});

test('a dead reader gives EPIPE, not a killed process', async () => {
  const child = spawn(['true'], { stdin: 'pipe' });
  await child.exited;
  assert.equal(child.stdin?.write('x'.repeat(100_000)), -32);
});

test('selfCommand repeats this program; a child program started from it gets its arguments', async () => {
  const self = selfCommand();
  assert.ok(self[self.length - 1]?.endsWith('.js'), self.join(' '));
  assert.ok(self.includes('--no-unhandled-rejection'), 'the interpreter flags are repeated');
  const { argv, env } = childCommand('echo-args');
  const result = await run([...argv, 'one', 'two words'], { env });
  assert.equal(result.code, 3);
  assert.equal(result.stdout, '["one","two words"]\n');
});

test('files: mkdirp, modes, writes and reads, /proc files of size 0, readdir, removeTree', () => {
  const dir = makeTempDir('hook-fs-');
  try {
    mkdirp(`${dir}/a/b/c`);
    writeFile(`${dir}/a/b/c/secret`, 'é\n', 0o600);
    writeFile(`${dir}/a/plain`, new Uint8Array([1, 2, 3]));
    assert.equal(readText(`${dir}/a/b/c/secret`), 'é\n');
    assert.equal(stat(`${dir}/a/b/c/secret`)?.mode, 0o600);
    assert.deepEqual([...readBytes(`${dir}/a/plain`)], [1, 2, 3]);
    assert.deepEqual(readdir(`${dir}/a`), ['b', 'plain']);
    assert.ok(
      utf8Decode(readBytes('/proc/self/cmdline')).includes('\0'),
      '/proc files are read although their size is 0',
    );
    assert.throws(
      () => readBytes(`${dir}/missing`),
      /^SystemError: open .*missing: No such file or directory$/,
    );
    removeTree(`${dir}/a`);
    assert.ok(!exists(`${dir}/a`));
  } finally {
    removeTree(dir);
  }
});

test('timers: sleep waits; Stop ends a sleep at once with StoppedError', async () => {
  const started = Date.now();
  await sleep(60);
  assert.ok(Date.now() - started >= 55);
  const stop = new Stop();
  const waiting = sleep(10_000, stop);
  setTimeoutLike(() => stop.stop(), 30);
  const before = Date.now();
  await assert.rejects(waiting, StoppedError);
  assert.ok(Date.now() - before < 1000);
  await assert.rejects(sleep(1, stop), StoppedError, 'a stopped Stop ends later sleeps too');
});

function setTimeoutLike(fn: () => void, ms: number): void {
  sleep(ms).then(fn);
}
