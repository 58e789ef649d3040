/**
 * `--password-stdin`: the password is read from stdin. From a pipe, all of it (one trailing
 * newline trimmed), as `docker login --password-stdin` does; on a terminal, a prompt on stderr
 * and one line typed without echo (the terminal in raw mode, restored afterwards), so the
 * password never shows on the screen or in a scrollback.
 */
import { HookError } from '../errors.ts';

/** What is read from: process.stdin, or a stand-in in tests. */
export interface SecretInput extends NodeJS.EventEmitter {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  isRaw?: boolean;
  resume(): unknown;
  pause(): unknown;
  [Symbol.asyncIterator](): AsyncIterableIterator<unknown>;
}

export async function readPasswordStdin(
  input: SecretInput = process.stdin,
  output: { write(text: string): unknown } = process.stderr,
  prompt = 'Password: ',
): Promise<string> {
  if (input.isTTY === true && typeof input.setRawMode === 'function')
    return readHidden(input, output, prompt);
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const ENTER = new Set(['\r', '\n']);
const BACKSPACE = new Set(['\x7f', '\b']);
const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_U = '\x15';

/** One line from a terminal with echo off; Ctrl-C aborts, Ctrl-U clears, Backspace deletes. */
function readHidden(
  input: SecretInput,
  output: { write(text: string): unknown },
  prompt: string,
): Promise<string> {
  // Echo off before the prompt shows: what is typed as soon as it appears is not echoed either.
  const wasRaw = input.isRaw === true;
  input.setRawMode?.(true);
  output.write(prompt);
  input.resume();
  let typed = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ENTER.has(char)) return finish();
        if (char === CTRL_C)
          return finish(
            new HookError('E_USAGE', 'Password entry cancelled', { hint: 'Run the command again' }),
          );
        if (char === CTRL_D) {
          if (typed === '') return finish(new HookError('E_USAGE', 'No password given'));
          return finish();
        }
        if (BACKSPACE.has(char)) typed = [...typed].slice(0, -1).join('');
        else if (char === CTRL_U) typed = '';
        else if (char >= ' ') typed += char;
      }
      return undefined;
    };
    input.on('data', onData);
  });
}
