/**
 * deb822 control-file syntax (Packages indexes, Release files, control files): stanzas
 * separated by blank lines, `Field: value` lines, continuation lines starting with a space
 * or tab, `#` comments (only in some files; accepted everywhere outside values).
 */
import { HookError } from '../errors.ts';

export type Stanza = Record<string, string>;

/**
 * Parses every stanza. Field names keep their case as written; look-ups should use the
 * canonical case Debian uses (`Package`, `Version`, `Depends`, ...). Multi-line values keep
 * their line structure (leading space of continuation lines removed, `.` lines kept as is).
 */
export function parseDeb822(text: string, source = 'input'): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastField: string | undefined;
  let lineNumber = 0;
  let start = 0;
  const length = text.length;
  while (start <= length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNumber++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      current = undefined;
      lastField = undefined;
      if (end === length) break;
      continue;
    }
    const first = line.charCodeAt(0);
    if (first === 0x23 /* # */) continue;
    if (first === 0x20 || first === 0x09) {
      if (!current || lastField === undefined) {
        throw new HookError(
          'E_INDEX',
          `Cannot parse ${source} line ${lineNumber}: continuation line outside a field`,
        );
      }
      current[lastField] = `${current[lastField]}\n${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new HookError('E_INDEX', `Cannot parse ${source} line ${lineNumber}: expected "Field: value"`);
    }
    if (!current) {
      current = {};
      stanzas.push(current);
    }
    lastField = line.slice(0, colon);
    current[lastField] = line.slice(colon + 1).trim();
    if (end === length) break;
  }
  return stanzas;
}
