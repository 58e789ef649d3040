/**
 * Strings from hook.yaml that end up inside generated files (os-release, passwd, shadow,
 * unit symlinks, link targets): each is checked when the spec is loaded, against the syntax
 * of the file it lands in, so no value can add a line or a field to it.
 */
import { controlCharacter } from './paths.ts';

/** os-release values (VERSION_ID, VARIANT_ID): printable, nothing a shell would interpret. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~+-]{0,63}$/;
/** `name` is os-release's VARIANT_ID: lower case, digits, `.`, `_`, `-` (os-release(5)). */
export const IMAGE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * systemd unit names (systemd.unit(5), unit_name_is_valid): a prefix of letters, digits and
 * `:_.\-`, an optional `@instance` (which may also hold `@`, and is empty for a template),
 * a known type suffix, at most 255 characters.
 */
const UNIT_TYPES = [
  'service',
  'socket',
  'device',
  'mount',
  'automount',
  'swap',
  'target',
  'path',
  'timer',
  'slice',
  'scope',
];
export const UNIT_PATTERN = new RegExp(
  `^[A-Za-z0-9:_.\\\\-]+(@[A-Za-z0-9:_.\\\\@-]*)?\\.(${UNIT_TYPES.join('|')})$`,
);

export function unitNameProblem(name: string): string | undefined {
  if (name.length > 255) return 'a unit name is at most 255 characters';
  if (!UNIT_PATTERN.test(name)) {
    return `expected a systemd unit name such as docker.service or getty@tty1.service (letters, digits, ":_.\\-", one "@", a type: ${UNIT_TYPES.join(', ')})`;
  }
  return undefined;
}

/**
 * Account names: Debian adduser's SYS_NAME_REGEX `^[a-z_][-a-z0-9_]*\$?$` (system accounts
 * may start with `_`), at most 32 characters as useradd allows.
 */
export const ACCOUNT_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,30}\$?$/;

/**
 * Absolute paths written into /etc/passwd (home, shell) and the image config (workingDir):
 * no `:` (the passwd field separator), no spaces or control characters.
 */
export function accountPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'expected an absolute path such as /bin/sh';
  if (path.length > 4095) return 'it is longer than 4095 characters';
  const bad = /[^A-Za-z0-9._+@/-]/.exec(path);
  if (bad) {
    return `it contains ${describeCharacter(bad[0])}; paths here may hold letters, digits and . _ + @ / -`;
  }
  if (path.split('/').includes('..')) return '".." is not allowed';
  return undefined;
}

/** Symlink targets are written as they are: any bytes but NUL and control characters. */
export function linkTargetProblem(target: string): string | undefined {
  if (target === '') return 'the target is empty';
  if (Buffer.byteLength(target) > 4095) return 'it is longer than 4095 bytes';
  const control = controlCharacter(target);
  if (control !== undefined) return `it contains a control character (${control})`;
  return undefined;
}

/** Suites and components end up in archive URLs: `trixie-security`, `non-free-firmware`, `updates/main`. */
export function archiveNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name)) return 'expected letters, digits and . _ - /';
  if (name.split('/').some((part) => part === '' || part === '.' || part === '..'))
    return 'empty, "." and ".." path segments are not allowed';
  return undefined;
}

export function describeCharacter(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code < 0x20 || code === 0x7f ? `a control character (${hex})` : `"${char}" (${hex})`;
}

/**
 * A value for an error message: JSON-quoted (so a newline shows as `\n` and cannot fake a
 * second message line) and cut to `max` characters.
 */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

/**
 * A registry as Docker names it in image references and in /etc/docker/certs.d/<host>/:
 * a DNS name or IPv4 address, or an IPv6 address in brackets, with an optional port. The
 * value becomes a folder name in the OS, so nothing else (no "/", no "..") is allowed.
 */
export function registryHostProblem(host: string): string | undefined {
  const match =
    /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(?::(\d{1,5}))?$/.exec(
      host,
    );
  if (!match || host.length > 253)
    return 'expected host or host:port, e.g. registry.lan, 10.0.0.5:5000 or [fd00::5]:5000 (no scheme, no path)';
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is not 1-65535`;
  return undefined;
}
