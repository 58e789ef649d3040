/**
 * When hook-status may write the status onto a console on its own, between two prompts. Pure
 * code: decisions over /proc text and the files the shells write (see
 * osie/files/etc/profile.d/hook-status.sh).
 *
 * The status is printed above the prompt by the shell itself (PROMPT_COMMAND) whenever it
 * changed, which can never interleave with anything. A console nobody types on would then only
 * show it after the next Enter, so the service also writes it itself, but only into a shell
 * that provably sits at an empty prompt, where nothing else is writing and the terminal shows
 * exactly the prompt:
 *
 * - the shell is the terminal's foreground process group (no command runs: `tpgid == pgrp` in
 *   /proc/<pid>/stat) and is asleep in pselect6(2), where readline waits for a key;
 * - it has read nothing since it printed that prompt: its read(2) count (`syscr` of
 *   /proc/<pid>/task/<pid>/io, the shell's own: /proc/<pid>/io also adds the counts of the
 *   children it reaps, so a background job ending would look like a key) is the one its
 *   PROMPT_COMMAND recorded, plus the reads that recording itself made (calibrated by the shell
 *   at login). One key typed — even one not yet echoed — adds a read, and the service leaves
 *   that console to the next prompt.
 *
 * It then writes `\r`, clears the line, the status, and the prompt again, as the shell had it:
 * readline's idea of the screen (an empty line after the prompt) stays true.
 */

/** A login shell on a console, as it registered itself (`/run/hook/console/<pid>`). */
export interface Registration {
  /** `/dev/ttyS1`, `/dev/tty1`. */
  tty: string;
  /** read(2) calls one recording of the shell's io file makes from the one that took the value on. */
  ioDelta: number;
}

/** What the shell's last PROMPT_COMMAND recorded (`/run/hook/console/<pid>.prompt`). */
export interface PromptRecord {
  /** Its read(2) count when it recorded. */
  syscr: number;
  /** The prompt as the shell printed it (`${PS1@P}`). */
  prompt: string;
}

/** `<tty>\n<ioDelta>\n`; undefined unless both are sane. */
export function parseRegistration(text: string): Registration | undefined {
  const [tty, delta] = text.split('\n');
  if (tty === undefined || !/^\/dev\/[A-Za-z0-9/._-]+$/.test(tty) || tty.startsWith('/dev/pts/'))
    return undefined;
  const ioDelta = Number(delta);
  if (!Number.isInteger(ioDelta) || ioDelta < 0 || ioDelta > 16) return undefined;
  return { tty, ioDelta };
}

/** `<syscr>\n<prompt>`. */
export function parsePromptRecord(text: string): PromptRecord | undefined {
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  const syscr = Number(text.slice(0, newline));
  if (!Number.isSafeInteger(syscr) || syscr < 0) return undefined;
  return { syscr, prompt: text.slice(newline + 1) };
}

/** pselect6's syscall number, by /proc/sys/kernel/arch; undefined for others. */
export function pselectSyscall(arch: string): number | undefined {
  if (arch === 'x86_64') return 270;
  if (arch === 'aarch64') return 72;
  return undefined;
}

export interface ProcStat {
  state: string;
  pgrp: number;
  /** The foreground process group of the process's terminal. */
  tpgid: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // state ppid pgrp session tty_nr tpgid ...
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  if (fields[0] === undefined || !Number.isInteger(pgrp) || !Number.isInteger(tpgid)) return undefined;
  return { state: fields[0], pgrp, tpgid };
}

/** `syscr` of /proc/<pid>/task/<pid>/io. */
export function parseSyscr(text: string): number | undefined {
  const match = /^syscr: (\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface ShellSnapshot {
  stat: string;
  /** /proc/<pid>/syscall: `<nr> <args…>`, or `running`. */
  syscall: string;
  io: string;
}

/** Whether the shell sits at an empty prompt (see the top of this file). */
export function atEmptyPrompt(
  snapshot: ShellSnapshot,
  registration: Registration,
  prompt: PromptRecord,
  pselect: number | undefined,
): boolean {
  if (pselect === undefined) return false;
  const stat = parseProcStat(snapshot.stat);
  if (stat === undefined || stat.state !== 'S' || stat.tpgid !== stat.pgrp) return false;
  if (snapshot.syscall.split(' ')[0] !== String(pselect)) return false;
  return parseSyscr(snapshot.io) === prompt.syscr + registration.ioDelta;
}

/** What goes onto the terminal: back to column 0, clear the prompt's line, the status, the prompt. */
export function terminalText(status: string, prompt: string): string {
  const lines = status.replace(/\n$/, '').split('\n');
  return `\r\x1b[K${lines.join('\r\n')}\r\n${prompt}`;
}
