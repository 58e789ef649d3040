/**
 * The one parser for the kernel command line (`/proc/cmdline`, read as latin1 so that each byte
 * is one character). It splits words exactly like the kernel's own `next_arg()` (lib/cmdline.c),
 * so a value means here what it meant to the kernel:
 *
 * - whitespace is the kernel's `isspace()`: space, `\t \n \v \f \r` and 0xA0 (the kernel's ctype
 *   table is latin1 and marks NBSP as a space), not JavaScript's `\s`;
 * - `"` toggles quoting anywhere in a word, and quoted whitespace does not split;
 * - a value that starts with `"` loses that quote and a closing one at the end of the word
 *   (`tink_worker_image="quay.io/x:v1"` → `quay.io/x:v1`), as does a word that starts with `"`;
 * - `key=value` splits at the first `=` after the first character; a bare key maps to `''`.
 *
 * Keys are case-sensitive and the last occurrence wins. The typed view of the keys Tinkerbell's
 * Smee sends is in settings.ts.
 */

const KERNEL_SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r', '\u00a0']);

/** Parses a command line into key → value. Never throws, whatever the input. */
export function parseCmdline(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const [key, value] of cmdlineWords(text)) {
    // Delete first so that iteration order reflects the winning (last) occurrence.
    result.delete(key);
    result.set(key, value ?? '');
  }
  return result;
}

/** The words of a command line as [key, value] (value undefined for a bare key), in order. */
export function cmdlineWords(cmdline: string): [string, string | undefined][] {
  // The kernel's command line is a C string: nothing after a NUL exists for it.
  const text = cmdline.split('\0', 1)[0] as string;
  const words: [string, string | undefined][] = [];
  let at = skipSpaces(text, 0);
  while (at < text.length) {
    // lib/cmdline.c next_arg(): `start` is `args` after an opening quote, `i` its loop index.
    let start = at;
    let inQuote = false;
    let quoted = false;
    if (text[start] === '"') {
      start++;
      inQuote = true;
      quoted = true;
    }
    let i = 0;
    let equals = 0;
    for (; start + i < text.length; i++) {
      const char = text[start + i] as string;
      if (KERNEL_SPACE.has(char) && !inQuote) break;
      // `equals == 0` doubles as "none yet" in the kernel: a `=` at offset 0 never splits.
      if (equals === 0 && char === '=') equals = i;
      if (char === '"') inQuote = !inQuote;
    }
    const end = start + i;
    // The kernel cuts the word at end-1 when it began with a quote and ends with one.
    const cut = quoted && i > 0 && text[end - 1] === '"' ? end - 1 : end;
    if (equals === 0) {
      words.push([text.slice(start, cut), undefined]);
    } else {
      let valueStart = start + equals + 1;
      let valueEnd = cut;
      if (text[valueStart] === '"') {
        valueStart++;
        if (text[end - 1] === '"') valueEnd = Math.min(valueEnd, end - 1);
      }
      words.push([text.slice(start, start + equals), text.slice(valueStart, Math.max(valueStart, valueEnd))]);
    }
    at = skipSpaces(text, end < text.length ? end + 1 : end);
  }
  return words;
}

function skipSpaces(text: string, from: number): number {
  let at = from;
  while (at < text.length && KERNEL_SPACE.has(text[at] as string)) at++;
  return at;
}

/** Comma-separated list → trimmed, non-empty items. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
