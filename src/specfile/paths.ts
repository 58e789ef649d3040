/**
 * Paths and globs written in hook.yaml, normalised before anything uses them: `./etc//x`
 * is `etc/x`, so two entries naming one file are seen as one. What cannot name a file of
 * the image is refused with the reason: the root itself (`.`), a directory (`usr/.`, `etc/`),
 * `..` (climbing out of the root), absolute paths, control characters.
 */

export type Checked = { value: string; problem?: undefined } | { value?: undefined; problem: string };

/** Linux's limits: PATH_MAX and NAME_MAX, in bytes. */
const MAX_PATH_BYTES = 4095;
const MAX_NAME_BYTES = 255;

const RELATIVE = 'write it relative to the root of the OS, without the leading "/"';

/** The first control character of `text`, as U+XXXX, or undefined. */
export function controlCharacter(text: string): string | undefined {
  const match = /[\u0000-\u001f\u007f]/.exec(text);
  return match ? `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

/**
 * Splits a relative path into its names, dropping empty and `.` segments (`//`, `./`), and
 * says why it is unusable when it is.
 */
function segments(raw: string, what: 'path' | 'pattern'): { parts: string[] } | { problem: string } {
  if (raw.trim() === '') return { problem: `the ${what} is empty` };
  const control = controlCharacter(raw);
  if (control !== undefined) return { problem: `it contains a control character (${control})` };
  if (raw.startsWith('/')) return { problem: RELATIVE };
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES)
    return { problem: `it is longer than ${MAX_PATH_BYTES} bytes` };
  const written = raw.split('/');
  if (written.includes('..')) return { problem: '".." is not allowed' };
  const parts = written.filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) return { problem: `it names the image root, not a file` };
  const last = written[written.length - 1];
  if (last === '' || last === '.') {
    return {
      problem:
        what === 'path'
          ? `it ends with "/${last}", which names a directory: give the path of the file itself`
          : `it ends with "/${last}", which matches no file: write "${parts.join('/')}/**" for everything below it`,
    };
  }
  const long = parts.find((part) => Buffer.byteLength(part) > MAX_NAME_BYTES);
  if (long !== undefined)
    return { problem: `the name "${long.slice(0, 32)}…" is longer than ${MAX_NAME_BYTES} bytes` };
  return { parts };
}

/** A file or link path inside the image: `./etc//x` → `etc/x`. */
export function normalizeOsPath(raw: string): Checked {
  const split = segments(raw, 'path');
  if ('problem' in split) return { problem: split.problem };
  const value = split.parts.join('/');
  if (PROTECTED_PATHS.has(value) || PROTECTED_PATHS.has(canonicalPath(value))) {
    return {
      problem: `/${value} is a directory every image needs; a file or link there would replace it and everything in it`,
    };
  }
  return { value };
}

/** A glob on paths relative to some root, normalised like a path: `./usr//share/doc/**` → `usr/share/doc/**`. */
export function normalizeGlob(raw: string): Checked {
  const split = segments(raw, 'pattern');
  if ('problem' in split) return { problem: split.problem };
  return { value: split.parts.join('/') };
}

/** Directories (and the merged-/usr links to them) that the build always creates. */
const PROTECTED_PATHS = new Set([
  'bin',
  'sbin',
  'lib',
  'lib64',
  'usr',
  'usr/bin',
  'usr/sbin',
  'usr/lib',
  'usr/lib64',
  'usr/share',
  'etc',
  'etc/systemd',
  'etc/systemd/system',
  'usr/lib/systemd',
  'usr/lib/systemd/system',
  'usr/lib/modules',
  'var',
  'var/lib',
  'dev',
  'proc',
  'sys',
  'run',
  'tmp',
  'root',
]);

const MERGED_USR = /^(bin|sbin|lib|lib64)(\/|$)/;

/**
 * The path after the merged-/usr links (`bin/x` is `usr/bin/x`): two spec entries with the
 * same canonical path name the same file.
 */
export function canonicalPath(path: string): string {
  return path.replace(MERGED_USR, 'usr/$1$2');
}
