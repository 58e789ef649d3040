import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { isHookError } from '../errors.ts';
import { readPasswordStdin, type SecretInput } from './password.ts';

/** A stand-in terminal: records raw-mode changes; what is "typed" is written to it. */
function terminal(): { input: PassThrough & SecretInput; modes: boolean[]; output: string[] } {
  const input = new PassThrough() as PassThrough & SecretInput;
  const modes: boolean[] = [];
  input.isTTY = true;
  input.isRaw = false;
  input.setRawMode = (mode: boolean) => {
    modes.push(mode);
    input.isRaw = mode;
    return input;
  };
  return { input, modes, output: [] };
}

test('on a terminal: raw mode before the prompt, nothing echoed, Backspace and Ctrl-U edit, mode restored', async () => {
  const tty = terminal();
  const reading = readPasswordStdin(tty.input, { write: (text: string) => tty.output.push(text) });
  assert.deepEqual(tty.modes, [true], 'echo is off before anything is typed');
  tty.input.write('wrong\x15pa');
  tty.input.write('sx\x7fs w\bword\r');
  assert.equal(await reading, 'pass word');
  assert.deepEqual(tty.output, ['Password: ', '\n'], 'the prompt and a newline, never the typed text');
  assert.deepEqual(tty.modes, [true, false]);
});

test('on a terminal: Ctrl-C cancels, Ctrl-D on an empty line is no password (E_USAGE)', async () => {
  for (const [typed, message] of [
    ['abc\x03', /cancelled/],
    ['\x04', /No password given/],
  ] as const) {
    const tty = terminal();
    const reading = readPasswordStdin(tty.input, { write: () => undefined });
    tty.input.write(typed);
    await assert.rejects(
      reading,
      (error: unknown) => isHookError(error) && error.code === 'E_USAGE' && message.test(error.message),
    );
    assert.deepEqual(tty.modes, [true, false], 'raw mode restored');
  }
});

test('from a pipe: everything, one trailing newline trimmed, no prompt', async () => {
  const pipe = new PassThrough() as PassThrough & SecretInput;
  const output: string[] = [];
  const reading = readPasswordStdin(pipe, { write: (text: string) => output.push(text) });
  pipe.end('p@ss word\n\n');
  assert.equal(await reading, 'p@ss word\n');
  assert.deepEqual(output, []);
});
