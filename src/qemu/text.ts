/** Cleaning up what a serial console or the QEMU monitor printed. */

// CSI sequences (colours, cursor moves), OSC sequences (titles), character-set selection
// (`ESC ( B`) and the other two-byte escapes (`ESC 7`, `ESC c`).
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-~]|\x1b[0-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Escape sequences and carriage returns removed: what a person would read. */
export function cleanConsoleText(text: string): string {
  return stripAnsi(text).replaceAll('\r', '');
}

/** The last `count` lines of `text` (a trailing newline does not count as an empty line). */
export function lastLines(text: string, count: number): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(Math.max(0, lines.length - count)).join('\n');
}
