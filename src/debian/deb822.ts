/**
 * deb822 control-file syntax (Packages indexes, Release files, control files): stanzas
 * separated by blank lines, `Field: value` lines, continuation lines starting with a space
 * or tab, `#` comments (only in some files; accepted everywhere outside values).
 */
import { HookError } from '../errors.ts';

export type Stanza = Record<string, string>;

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;

/**
 * Parses every stanza. Field names keep their case as written; look-ups should use the
 * canonical case Debian uses (`Package`, `Version`, `Depends`, ...). Multi-line values keep
 * their line structure (leading space of continuation lines removed, `.` lines kept as is).
 */
export function parseDeb822(text: string, source = 'input'): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastField: string | undefined;
  // Continuation lines are collected and joined once: concatenating line by line is quadratic.
  let continued: string[] | undefined;
  const closeField = () => {
    if (current && lastField !== undefined && continued) current[lastField] = continued.join('\n');
    continued = undefined;
  };
  scanLines(text, (start, end) => {
    if (isBlankLine(text, start, end)) {
      closeField();
      current = undefined;
      lastField = undefined;
      return;
    }
    const first = text.charCodeAt(start);
    if (first === HASH) return;
    if (first === SPACE || first === TAB) {
      if (!current || lastField === undefined) {
        throw new HookError(
          'E_INDEX',
          `Cannot parse ${source} line ${lineNumberAt(text, start)}: continuation line outside a field`,
        );
      }
      continued ??= [current[lastField] as string];
      continued.push(text.slice(start + 1, end));
      return;
    }
    const colon = fieldColon(text, start, end);
    if (colon < 0) {
      throw new HookError(
        'E_INDEX',
        `Cannot parse ${source} line ${lineNumberAt(text, start)}: expected "Field: value"`,
      );
    }
    closeField();
    if (!current) {
      current = {};
      stanzas.push(current);
    }
    lastField = text.slice(start, colon);
    current[lastField] = trimmedSlice(text, colon + 1, end);
  });
  closeField();
  return stanzas;
}

/**
 * Calls `onLine(start, end)` for every line of `text`, `end` excluding the newline and one
 * carriage return before it. Stops after the last line (a final newline adds no empty line
 * after it that matters: an empty line only ends a stanza).
 */
export function scanLines(text: string, onLine: (start: number, end: number) => void): void {
  const length = text.length;
  let start = 0;
  while (start <= length) {
    let next = text.indexOf('\n', start);
    if (next < 0) next = length;
    const end = next > start && text.charCodeAt(next - 1) === CR ? next - 1 : next;
    onLine(start, end);
    start = next + 1;
  }
}

/** Whether the line holds only whitespace (as `String.prototype.trim` understands it). */
export function isBlankLine(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isAsciiSpace(c)) continue;
    // Anything else outside ASCII may still be Unicode whitespace: let trim decide.
    return c > 0x7f ? text.slice(i, end).trim() === '' : false;
  }
  return true;
}

/** The offset of the colon ending the field name of a field line, or -1 when there is none. */
export function fieldColon(text: string, start: number, end: number): number {
  const colon = text.indexOf(':', start);
  return colon > start && colon < end ? colon : -1;
}

/** `text.slice(start, end).trim()` without slicing the surrounding whitespace first. */
export function trimmedSlice(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isAsciiSpace(text.charCodeAt(from))) from++;
  while (to > from && isAsciiSpace(text.charCodeAt(to - 1))) to--;
  const edgeIsAscii = from === to || (text.charCodeAt(from) < 0x80 && text.charCodeAt(to - 1) < 0x80);
  return edgeIsAscii ? text.slice(from, to) : text.slice(from, to).trim();
}

function isAsciiSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === 0x0a || c === 0x0b || c === 0x0c;
}

/** 1-based line number of the line starting at `offset` (only computed for error messages). */
export function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
