/**
 * A client for QEMU's human monitor (HMP) served on a unix socket (`-monitor unix:PATH,server=on`).
 * Each command opens its own connection: QEMU serves one client at a time, and a fresh
 * connection starts at a known state (banner, then the `(qemu) ` prompt).
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { HookError } from '../../../src/errors.ts';
import { cleanConsoleText } from '../../../src/qemu/text.ts';

const PROMPT = '(qemu) ';

export interface MonitorCommandOptions {
  /** Default 10 s; covers waiting for QEMU to create the socket after start. */
  timeoutMs?: number;
}

export class MonitorClient {
  readonly socketPath: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(socketPath: string) {
    this.socketPath = socketPath;
  }

  /**
   * Runs one HMP command and returns its output (echo and prompt removed). Commands that end
   * QEMU (`quit`) resolve with what was printed before the connection closed.
   */
  command(command: string, options: MonitorCommandOptions = {}): Promise<string> {
    const run = () => this.runCommand(command, options.timeoutMs ?? 10_000);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runCommand(command: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const socket = await this.connectWithRetry(deadline);
    try {
      return await exchange(socket, command, deadline);
    } finally {
      socket.destroy();
    }
  }

  private async connectWithRetry(deadline: number): Promise<Socket> {
    for (;;) {
      try {
        return await openSocket(this.socketPath);
      } catch (error) {
        // QEMU creates the socket a moment after it starts.
        if (Date.now() >= deadline) {
          throw new HookError('E_QEMU', `Cannot reach the QEMU monitor at ${this.socketPath}`, {
            cause: error,
          });
        }
        await delay(50);
      }
    }
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Waits for the prompt, sends the command, collects output until the next prompt or close. */
function exchange(socket: Socket, command: string, deadline: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    let sentAt = -1;
    const timer = setTimeout(
      () => fail(new HookError('E_QEMU', `QEMU monitor did not answer "${command}" in time`)),
      Math.max(0, deadline - Date.now()),
    );
    const finish = (text: string) => {
      clearTimeout(timer);
      resolve(text);
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (sentAt < 0) {
        if (!received.endsWith(PROMPT)) return;
        sentAt = received.length;
        socket.write(`${command}\n`);
        return;
      }
      if (received.endsWith(PROMPT)) finish(commandOutput(received.slice(sentAt, -PROMPT.length)));
    });
    socket.once('close', () => {
      if (sentAt < 0) fail(new HookError('E_QEMU', 'QEMU monitor closed the connection before its prompt'));
      else finish(commandOutput(received.slice(sentAt)));
    });
    socket.once('error', (error) =>
      fail(new HookError('E_QEMU', 'QEMU monitor connection failed', { cause: error })),
    );
  });
}

/** Drops the echoed command line (readline redraws it keystroke by keystroke) and cleans up. */
function commandOutput(raw: string): string {
  const text = cleanConsoleText(raw);
  const newline = text.indexOf('\n');
  return (newline < 0 ? '' : text.slice(newline + 1)).trimEnd();
}
