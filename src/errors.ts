/**
 * Errors the user sees. Every failure that reaches the CLI is a HookError with a stable
 * code (documented in the README), a message saying what failed and why, and an optional
 * hint saying what to do. Secrets are redacted before they reach a message.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_SPEC'
  | 'E_MIRROR'
  | 'E_SIGNATURE'
  | 'E_CHECKSUM'
  | 'E_HTTP'
  | 'E_INDEX'
  | 'E_RESOLVE'
  | 'E_UNKNOWN_PACKAGE'
  | 'E_ARCHIVE_FORMAT'
  | 'E_UNSAFE_PATH'
  | 'E_KERNEL'
  | 'E_BUDGET'
  | 'E_QEMU'
  | 'E_OCI'
  | 'E_IO';

export class HookError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HookError';
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redactSecrets(options.hint);
  }
}

const secretValues = new Set<string>();

/**
 * Secrets at least this long are masked wherever they appear; shorter ones only as a whole token
 * (not next to a letter, digit, `_`, `.` or `-`), so that a 1-character password does not turn
 * every such letter of every message into `***` (which would also spell out where it occurs).
 * Same rule as the OS services' osie/lib/redact.ts.
 */
const MIN_SUBSTRING_SECRET = 6;
const TOKEN_CHAR = /[\p{L}\p{N}_.-]/u;

/** Registers a secret (e.g. a registry password) so that it is masked in every error and log line, whatever its length. */
export function registerSecret(value: string): void {
  if (value !== '') secretValues.add(value);
}

/** Masks registered secrets, userinfo in URLs and `password=`-style values. */
export function redactSecrets(text: string): string {
  let out = text;
  // Longest first, so a short secret inside a longer one cannot leave the longer one's remainder.
  for (const secret of [...secretValues].sort((a, b) => b.length - a.length)) out = maskSecret(out, secret);
  out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(?::[^/@\s]*)?@/gi, '$1***@');
  out = out.replace(/\b(registry_password|password|passwd|token)=([^\s&]+)/gi, '$1=***');
  return out;
}

function maskSecret(text: string, secret: string): string {
  if (secret.length >= MIN_SUBSTRING_SECRET) return text.split(secret).join('***');
  let out = '';
  let copied = 0;
  for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + secret.length)) {
    const before = text[at - 1];
    const after = text[at + secret.length];
    if ((before !== undefined && TOKEN_CHAR.test(before)) || (after !== undefined && TOKEN_CHAR.test(after)))
      continue;
    out += `${text.slice(copied, at)}***`;
    copied = at + secret.length;
  }
  return out + text.slice(copied);
}

export function isHookError(error: unknown): error is HookError {
  return error instanceof HookError;
}
