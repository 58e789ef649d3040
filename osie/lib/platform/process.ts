/**
 * This process and its children on QuickJS: arguments, environment, stdout/stderr (unbuffered:
 * one write() per call, so journald gets each log line at once), exit, signals, and child
 * processes with pipes read through the event loop (os.setReadHandler).
 *
 * qjs quirks this layer hides:
 * - os.exec forks and execs; a program that cannot be executed exits 127 in the child, so spawn()
 *   looks the program up in PATH first and throws ENOENT itself;
 * - a child's exit is found with waitpid(WNOHANG): on SIGCHLD, and every 100 ms while children
 *   run, because qjs checks pending signals only between select() calls and can sleep through
 *   one that arrives just before select();
 * - SIGPIPE gets a (no-op) handler so that writing to a pipe whose reader died returns EPIPE
 *   instead of killing the service; a handled signal, unlike an ignored one, is reset to its
 *   default in the programs we start.
 */
import * as os from 'quickjs:os';
import * as std from 'quickjs:std';
import { utf8Decode, utf8Encode } from './bytes.ts';
import { EAGAIN, EINTR, ENOENT, EPIPE, SystemError } from './errors.ts';
import { exists, stat, writeAll } from './fs.ts';

export const SIGINT: number = os.SIGINT;
export const SIGTERM: number = os.SIGTERM;
export const SIGKILL: number = os.SIGKILL;

os.signal(os.SIGPIPE, () => {});

/** The program's arguments, without the interpreter and the script. */
export function args(): string[] {
  return scriptArgs.slice(1);
}

/**
 * The command that started this program, up to and including the script (e.g.
 * `/usr/bin/qjs -m /usr/lib/hook/hook-syslog.js`), read from /proc/self/cmdline so that an
 * interpreter run through a dynamic loader (as the tests do) is repeated exactly.
 */
export function selfCommand(): string[] {
  const words = readProcWords('/proc/self/cmdline');
  const script = scriptArgs[0] ?? '';
  const index = words.indexOf(script, 1);
  if (index < 0) throw new Error(`cannot find the script ${script} in /proc/self/cmdline`);
  return words.slice(0, index + 1);
}

function readProcWords(path: string): string[] {
  const fd = os.open(path, os.O_RDONLY);
  if (fd < 0) throw new SystemError(`open ${path}`, -fd);
  const chunks: number[] = [];
  const buffer = new ArrayBuffer(4096);
  for (;;) {
    const n = os.read(fd, buffer, 0, buffer.byteLength);
    if (n <= 0) break;
    chunks.push(...new Uint8Array(buffer, 0, n));
  }
  os.close(fd);
  return utf8Decode(new Uint8Array(chunks)).split('\0').slice(0, -1);
}

export function getenv(name: string): string | undefined {
  return std.getenv(name);
}

export function environ(): Record<string, string> {
  return std.getenviron();
}

export function pid(): number {
  return os.getpid();
}

export function writeStdout(text: string): void {
  writeAll(1, utf8Encode(text));
}

export function writeStderr(text: string): void {
  writeAll(2, utf8Encode(text));
}

export function writeStdoutBytes(bytes: Uint8Array): void {
  writeAll(1, bytes);
}

export function writeStderrBytes(bytes: Uint8Array): void {
  writeAll(2, bytes);
}

/** Ends the program now, whatever timers or handlers are pending. */
export function exit(code: number): never {
  return std.exit(code);
}

const signalHandlers = new Map<number, Set<() => void>>();

/** Calls `handler` on each `signal`; returns a function that removes it. */
export function onSignal(signal: number, handler: () => void): () => void {
  let handlers = signalHandlers.get(signal);
  if (handlers === undefined) {
    const set = new Set<() => void>();
    handlers = set;
    signalHandlers.set(signal, set);
    os.signal(signal, () => {
      for (const h of [...set]) h();
    });
  }
  handlers.add(handler);
  return () => handlers.delete(handler);
}

export function kill(processId: number, signal: number = SIGTERM): void {
  os.kill(processId, signal);
}

/** A read end (a child's stdout or stderr): data arrives through the event loop. */
export class PipeReader {
  private open = true;
  constructor(readonly fd: number) {}

  /** Starts delivering data; `onEnd` is called once, at end of file or on a read error. */
  read(onData: (chunk: Uint8Array) => void, onEnd: (error?: SystemError) => void = () => {}): void {
    os.setReadHandler(this.fd, () => {
      const buffer = new ArrayBuffer(65536);
      const n = os.read(this.fd, buffer, 0, buffer.byteLength);
      if (n === -EINTR || n === -EAGAIN) return;
      if (n > 0) {
        onData(new Uint8Array(buffer, 0, n));
        return;
      }
      this.close();
      onEnd(n < 0 ? new SystemError('read from a pipe', -n) : undefined);
    });
  }

  /** Everything until end of file. */
  readAll(): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let total = 0;
      this.read(
        (chunk) => {
          chunks.push(chunk);
          total += chunk.length;
        },
        (error) => {
          if (error !== undefined) return reject(error);
          const out = new Uint8Array(total);
          let at = 0;
          for (const chunk of chunks) {
            out.set(chunk, at);
            at += chunk.length;
          }
          resolve(out);
        },
      );
    });
  }

  /** Each line (without its `\n`, decoded as UTF-8), then `onEnd`; a last line without `\n` counts. */
  readLines(onLine: (line: string) => void, onEnd?: (error?: SystemError) => void): void {
    const splitter = new LineSplitter(onLine);
    this.read(
      (chunk) => splitter.push(chunk),
      (error) => {
        splitter.end();
        onEnd?.(error);
      },
    );
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    os.setReadHandler(this.fd, null);
    os.close(this.fd);
  }
}

/** Splits a byte stream at `\n`; each line is decoded on its own, so a character split across chunks survives. */
export class LineSplitter {
  private pending: Uint8Array[] = [];
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    // indexOf runs natively; a loop over the bytes in JavaScript is slow in qjs (see bytes.ts).
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, start)) {
      this.pending.push(chunk.subarray(start, i));
      this.emit();
      start = i + 1;
    }
    // Copied: the caller may reuse its buffer.
    if (start < chunk.length) this.pending.push(chunk.slice(start));
  }

  end(): void {
    if (this.pending.length > 0) this.emit();
  }

  private emit(): void {
    let total = 0;
    for (const part of this.pending) total += part.length;
    const line = new Uint8Array(total);
    let at = 0;
    for (const part of this.pending) {
      line.set(part, at);
      at += part.length;
    }
    this.pending = [];
    this.onLine(utf8Decode(line));
  }
}

/** A write end (a child's stdin). Writes block until the pipe took every byte. */
export class PipeWriter {
  private open = true;
  constructor(readonly fd: number) {}

  /** Returns 0, or `-errno` (EPIPE when the reader is gone). */
  write(data: string | Uint8Array): number {
    if (!this.open) return -EPIPE;
    return writeAll(this.fd, typeof data === 'string' ? utf8Encode(data) : data);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    os.close(this.fd);
  }
}

export interface ExitStatus {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: number | null;
}

export type StdioOption = 'pipe' | 'inherit' | 'null' | number;

export interface SpawnOptions {
  stdin?: StdioOption;
  stdout?: StdioOption;
  stderr?: StdioOption;
  /** The child's whole environment (default: this process's). */
  env?: Record<string, string>;
  cwd?: string;
}

export interface Child {
  readonly pid: number;
  readonly stdin: PipeWriter | undefined;
  readonly stdout: PipeReader | undefined;
  readonly stderr: PipeReader | undefined;
  /** Resolves once the process has ended (it is reaped, never left a zombie). */
  readonly exited: Promise<ExitStatus>;
  kill(signal?: number): void;
}

const running = new Map<number, (status: ExitStatus) => void>();
let reaperTimer: unknown;
let reaperInstalled = false;

function reap(): void {
  for (const [processId, resolve] of running) {
    const [done, status] = os.waitpid(processId, os.WNOHANG);
    if (done !== processId) continue;
    running.delete(processId);
    const signal = status & 0x7f;
    resolve(signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal });
  }
  if (running.size === 0 && reaperTimer !== undefined) {
    os.clearTimeout(reaperTimer);
    reaperTimer = undefined;
  }
}

function scheduleReaper(): void {
  if (reaperTimer !== undefined) return;
  const tick = () => {
    reaperTimer = undefined;
    reap();
    if (running.size > 0) reaperTimer = os.setTimeout(tick, 100);
  };
  reaperTimer = os.setTimeout(tick, 100);
}

/** Where `program` would be run from, or undefined (PATH lookup as execvp does it). */
export function findProgram(program: string, path = getenv('PATH') ?? '/usr/bin:/bin'): string | undefined {
  if (program.includes('/')) return exists(program) ? program : undefined;
  for (const dir of path.split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${program}`;
    const info = stat(candidate);
    if (info !== undefined && !info.isDirectory && (info.mode & 0o111) !== 0) return candidate;
  }
  return undefined;
}

/** Starts `argv` (looked up in PATH). Throws a SystemError when the program does not exist. */
export function spawn(argv: readonly string[], options: SpawnOptions = {}): Child {
  const [program] = argv;
  if (program === undefined) throw new Error('spawn: empty command');
  const searchPath = options.env?.PATH ?? getenv('PATH');
  if (findProgram(program, searchPath) === undefined) throw new SystemError(`spawn ${program}`, ENOENT);
  if (!reaperInstalled) {
    reaperInstalled = true;
    onSignal(os.SIGCHLD, reap);
  }
  const opened: number[] = [];
  const parentEnds: number[] = [];
  const stdio = (
    option: StdioOption | undefined,
    inheritFd: number,
    forChild: 'read' | 'write',
  ): [number, number | undefined] => {
    if (option === undefined || option === 'inherit') return [inheritFd, undefined];
    if (typeof option === 'number') return [option, undefined];
    if (option === 'null') {
      const fd = os.open('/dev/null', forChild === 'read' ? os.O_RDONLY : os.O_WRONLY);
      if (fd < 0) throw new SystemError('open /dev/null', -fd);
      opened.push(fd);
      return [fd, undefined];
    }
    const fds = os.pipe();
    if (fds === null) throw new Error('pipe() failed');
    const [readEnd, writeEnd] = fds;
    const childEnd = forChild === 'read' ? readEnd : writeEnd;
    const parentEnd = forChild === 'read' ? writeEnd : readEnd;
    opened.push(childEnd);
    parentEnds.push(parentEnd);
    return [childEnd, parentEnd];
  };
  let processId: number;
  let stdinParent: number | undefined;
  let stdoutParent: number | undefined;
  let stderrParent: number | undefined;
  try {
    const [stdinChild, stdinEnd] = stdio(options.stdin, 0, 'read');
    const [stdoutChild, stdoutEnd] = stdio(options.stdout, 1, 'write');
    const [stderrChild, stderrEnd] = stdio(options.stderr, 2, 'write');
    stdinParent = stdinEnd;
    stdoutParent = stdoutEnd;
    stderrParent = stderrEnd;
    const execOptions: os.ExecOptions = {
      block: false,
      stdin: stdinChild,
      stdout: stdoutChild,
      stderr: stderrChild,
    };
    if (options.env !== undefined) execOptions.env = options.env;
    if (options.cwd !== undefined) execOptions.cwd = options.cwd;
    processId = os.exec([...argv], execOptions);
  } catch (error) {
    for (const fd of parentEnds) os.close(fd);
    throw error;
  } finally {
    for (const fd of opened) os.close(fd);
  }
  const exited = new Promise<ExitStatus>((resolve) => running.set(processId, resolve));
  scheduleReaper();
  return {
    pid: processId,
    stdin: stdinParent === undefined ? undefined : new PipeWriter(stdinParent),
    stdout: stdoutParent === undefined ? undefined : new PipeReader(stdoutParent),
    stderr: stderrParent === undefined ? undefined : new PipeReader(stderrParent),
    exited,
    kill: (signal = SIGTERM) => {
      if (running.has(processId)) os.kill(processId, signal);
    },
  };
}

export interface RunResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** Runs `argv` to its end with `input` on its stdin; collects stdout and stderr as text. */
export async function run(
  argv: readonly string[],
  options: { input?: string | Uint8Array; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const spawnOptions: SpawnOptions = { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' };
  if (options.env !== undefined) spawnOptions.env = options.env;
  if (options.cwd !== undefined) spawnOptions.cwd = options.cwd;
  const child = spawn(argv, spawnOptions);
  const stdout = (child.stdout as PipeReader).readAll();
  const stderr = (child.stderr as PipeReader).readAll();
  if (options.input !== undefined) child.stdin?.write(options.input);
  child.stdin?.close();
  const [status, out, err] = await Promise.all([child.exited, stdout, stderr]);
  return { ...status, stdout: utf8Decode(out), stderr: utf8Decode(err) };
}
