/**
 * A running QEMU virtual machine driven through its serial console: wait for output, type
 * lines, run shell commands, power off. The console arrives on QEMU's stdout and is kept in
 * memory (carriage returns removed) and, optionally, in a log file (raw) and on a terminal.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { HookError } from '../../../src/errors.ts';
import { type Accel, type QemuCommandOptions, qemuCommand } from '../../../src/qemu/command.ts';
import { chooseAccel, findQemuBinary } from '../../../src/qemu/host.ts';
import { exitCodeOf, spawnQemu } from '../../../src/qemu/process.ts';
import { cleanConsoleText, lastLines, stripAnsi } from '../../../src/qemu/text.ts';
import { MonitorClient } from './monitor.ts';

export interface VmOptions extends Omit<QemuCommandOptions, 'console' | 'monitorSocket' | 'accel'> {
  /** Default: chooseAccel(arch) — TCG unless HOOK_QEMU_ACCEL asks for KVM. */
  accel?: Accel;
  /** Raw serial output is written here as it arrives. */
  logFile?: string;
  /** Also copy the console to this stream (`true` = stdout). */
  echo?: boolean | NodeJS.WritableStream;
  /** QEMU binary to use instead of the one found on PATH. */
  binary?: string;
}

export interface WaitForOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /** Offset in the console text to scan from (see `mark()`); default 0, i.e. since boot. */
  since?: number;
}

export interface RunOptions {
  /** Default 60 s. */
  timeoutMs?: number;
}

export interface RunResult {
  /** What the command printed, without the echoed command line, escape sequences, CRs or trailing newlines. */
  output: string;
  exitCode: number;
}

export interface PowerOffOptions {
  /** Ask the guest first (ACPI power button) and give it `timeoutMs` to power off by itself. */
  acpi?: boolean;
  /** Default 10 s. */
  timeoutMs?: number;
}

interface Waiter {
  pattern: RegExp;
  since: number;
  resolve: (match: RegExpMatchArray) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const ERROR_TAIL_LINES = 30;
let runCounter = 0;

export class Vm {
  readonly command: { binary: string; args: string[] };
  readonly accel: Accel;
  readonly logFile: string | undefined;
  /** Resolves with QEMU's exit code (128 + signal number if it was killed) once the log is flushed. */
  readonly exited: Promise<number>;
  /** `performance.now()` when QEMU was started. */
  readonly startedAt: number;

  private readonly child: ChildProcess;
  private readonly monitorClient: MonitorClient;
  private readonly workDir: string;
  private readonly decoder = new StringDecoder('utf8');
  private readonly waiters = new Set<Waiter>();
  private text = '';
  private stderrText = '';
  private exitCode: number | undefined;

  constructor(options: VmOptions) {
    this.accel = options.accel ?? chooseAccel(options.arch);
    const binary = options.binary ?? findQemuBinary(options.arch);
    this.workDir = mkdtempSync(join(tmpdir(), 'hook-qemu-'));
    const monitorSocket = join(this.workDir, 'monitor.sock');
    let command: { args: string[] };
    try {
      // Tests run the vCPUs on one host thread unless they ask otherwise: with a thread each, a
      // guest once died of a stale int3 (Oops in hash_conntrack_raw, just after the kernel
      // patched a static key there while the other vCPU ran it), a multi-threaded TCG race.
      command = qemuCommand({
        ...options,
        tcgThreads: options.tcgThreads ?? 'single',
        accel: this.accel,
        console: 'pipe',
        monitorSocket,
      });
    } catch (error) {
      rmSync(this.workDir, { recursive: true, force: true });
      throw error;
    }
    this.command = { binary, args: command.args };
    this.logFile = options.logFile;
    this.monitorClient = new MonitorClient(monitorSocket);

    const log = options.logFile === undefined ? undefined : createWriteStream(options.logFile);
    const echo = options.echo === true ? process.stdout : options.echo || undefined;
    this.startedAt = performance.now();
    this.child = spawnQemu(binary, command.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => undefined); // writes after exit: reported by sendLine
    this.child.stdout?.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      echo?.write(chunk);
      this.append(this.decoder.write(chunk));
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-8192);
      // QEMU stops the guest and waits forever after this; end it so waiters fail now.
      if (this.stderrText.includes('KVM internal error')) this.kill();
    });
    this.exited = new Promise<number>((resolve) => {
      const done = (code: number) => {
        if (this.exitCode !== undefined) return;
        this.exitCode = code;
        this.append(this.decoder.end());
        this.rejectWaiters();
        rmSync(this.workDir, { recursive: true, force: true });
        if (log === undefined) resolve(code);
        else log.end(() => resolve(code));
      };
      this.child.once('error', (error) => {
        this.stderrText += `\n${error.message}`;
        done(127);
      });
      // 'close' (not 'exit'): all console output has been read by then.
      this.child.once('close', (code, signal) => done(exitCodeOf(code, signal)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until QEMU has exited. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Console text so far (CRs removed, escape sequences kept), from `since`. */
  output(since = 0): string {
    return this.text.slice(since);
  }

  /** Current end of the console text, to pass as `since` to waitFor. */
  mark(): number {
    return this.text.length;
  }

  /** The last lines of the console, cleaned for reading. */
  tail(lines = ERROR_TAIL_LINES): string {
    return lastLines(cleanConsoleText(this.text), lines);
  }

  /** What QEMU itself printed on stderr (its own errors and warnings). */
  qemuStderr(): string {
    return this.stderrText;
  }

  /**
   * Resolves with the first match of `pattern` in the console since `options.since`. The
   * match's `index` is an offset into the whole console text, so `index + match[0].length`
   * can be the next `since`. Rejects (E_QEMU, with the last console lines) on timeout or
   * when QEMU exits first.
   */
  waitFor(pattern: RegExp | string, options: WaitForOptions = {}): Promise<RegExpMatchArray> {
    const regex =
      typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : withoutGlobalFlag(pattern);
    const since = options.since ?? 0;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const found = this.match(regex, since);
    if (found) return Promise.resolve(found);
    if (this.exitCode !== undefined) return Promise.reject(this.exitedError(regex));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pattern: regex,
        since,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(this.timeoutError(regex, timeoutMs));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Types `text` and Enter on the serial console. */
  sendLine(text: string): void {
    this.send(`${text}\n`);
  }

  /** Types raw characters on the serial console. */
  send(text: string): void {
    const stdin = this.child.stdin;
    if (this.exitCode !== undefined || !stdin || stdin.destroyed) {
      throw new HookError('E_QEMU', 'Cannot type on the serial console: QEMU is no longer running');
    }
    stdin.write(text);
  }

  /**
   * Types `command` at a shell prompt on the console, followed by an echo of a unique marker
   * with `$?`, and waits for the marker. The shell must be at a prompt; the command must be a
   * single line that can be followed by `; echo ...`.
   */
  async run(command: string, options: RunOptions = {}): Promise<RunResult> {
    runCounter += 1;
    const marker = `__HOOK_DONE_${runCounter}_${randomBytes(3).toString('hex')}_`;
    const since = this.mark();
    // In the echoed command line the marker is followed by `$?`, never by digits.
    this.sendLine(`${command}; echo "${marker}$?"`);
    const match = await this.waitFor(new RegExp(`${marker}(\\d+)`), { since, timeoutMs: options.timeoutMs });
    const region = stripAnsi(this.text.slice(since, match.index));
    return {
      output: withoutEchoedCommand(region, `${marker}$?"`).replace(/\n+$/, ''),
      exitCode: Number(match[1]),
    };
  }

  /** Runs one command on QEMU's human monitor (HMP) and returns what it printed. */
  monitor(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    return this.monitorClient.command(command, options);
  }

  /**
   * Stops the machine and resolves with QEMU's exit code: optionally asks the guest to power
   * off (ACPI), then tells QEMU to quit through the monitor, and kills it if that fails.
   */
  async powerOff(options: PowerOffOptions = {}): Promise<number> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (this.exitCode !== undefined) return this.exited;
    if (options.acpi) {
      await this.monitor('system_powerdown', { timeoutMs }).catch(() => undefined);
      if (await this.exitsWithin(timeoutMs)) return this.exited;
    }
    await this.monitor('quit', { timeoutMs: Math.min(timeoutMs, 5_000) }).catch(() => undefined);
    if (!(await this.exitsWithin(5_000))) this.kill();
    return this.exited;
  }

  /** Kills QEMU at once (SIGKILL). Safe to call at any time, any number of times. */
  kill(): void {
    if (this.exitCode === undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  private append(chunk: string): void {
    if (chunk === '') return;
    this.text += chunk.replaceAll('\r', '');
    for (const waiter of this.waiters) {
      const found = this.match(waiter.pattern, waiter.since);
      if (!found) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      waiter.resolve(found);
    }
  }

  private match(regex: RegExp, since: number): RegExpMatchArray | null {
    const found = this.text.slice(since).match(regex);
    if (found?.index !== undefined) found.index += since;
    return found;
  }

  private rejectWaiters(): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.exitedError(waiter.pattern));
    }
    this.waiters.clear();
  }

  private timeoutError(regex: RegExp, timeoutMs: number): HookError {
    return new HookError(
      'E_QEMU',
      `Timed out after ${timeoutMs} ms waiting for ${regex} on the serial console. Last console lines:\n` +
        this.tail(),
    );
  }

  private exitedError(regex: RegExp): HookError {
    const stderr = this.stderrText.trim();
    return new HookError(
      'E_QEMU',
      `QEMU exited with code ${this.exitCode} before ${regex} appeared on the serial console.` +
        (stderr ? `\nQEMU said: ${stderr.split('\n').slice(0, 10).join('\n')}` : '') +
        (this.accel === 'kvm' ? '\nKVM was used; HOOK_QEMU_ACCEL=tcg selects software emulation.' : '') +
        `\nLast console lines:\n${this.tail()}`,
    );
  }
}

/** Starts QEMU; see `Vm`. Throws E_QEMU when the emulator is missing or the options are invalid. */
export function startVm(options: VmOptions): Vm {
  return new Vm(options);
}

/** Removes everything up to and including the line where the shell echoed our command. */
function withoutEchoedCommand(region: string, echoedTail: string): string {
  const at = region.lastIndexOf(echoedTail);
  const from = at < 0 ? 0 : at + echoedTail.length;
  const newline = region.indexOf('\n', from);
  return newline < 0 ? '' : region.slice(newline + 1);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function withoutGlobalFlag(regex: RegExp): RegExp {
  return regex.global || regex.sticky ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex;
}
