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

/** Registers a secret (e.g. a registry password) so that it is masked in every error and log line. */
export function registerSecret(value: string): void {
  if (value.length >= 3) secretValues.add(value);
}

/** Masks registered secrets, userinfo in URLs and `password=`-style values. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secretValues) out = out.split(secret).join('***');
  out = out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s:]+(?::[^/@\s]*)?@/gi, '$1***@');
  out = out.replace(/\b(registry_password|password|passwd|token)=([^\s&]+)/gi, '$1=***');
  return out;
}

export function isHookError(error: unknown): error is HookError {
  return error instanceof HookError;
}
