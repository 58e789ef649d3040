/**
 * Errors the user sees. Every failure that reaches the CLI is a HookError with a stable
 * code (documented in the README), a message saying what failed and why, and an optional
 * hint saying what to do. Secrets are redacted before they reach a message.
 */
import { Redactor } from '../osie/lib/redact.ts';

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

/**
 * The builder masks secrets with the same rule set as the OS services (osie/lib/redact.ts): the
 * value of every credential key, URL passwords, and every registered secret (long ones
 * anywhere, short ones as whole tokens).
 */
const redactor = new Redactor();

/** Registers a secret (e.g. a registry password) so that it is masked in every error and log line, whatever its length. */
export function registerSecret(value: string): void {
  redactor.add(value);
}

/** The text with every registered secret, credential value and URL password masked. */
export function redactSecrets(text: string): string {
  return redactor.redact(text);
}

export function isHookError(error: unknown): error is HookError {
  return error instanceof HookError;
}
