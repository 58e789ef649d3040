/**
 * A small HTTP(S) GET client for the archive: retries transient failures with capped
 * exponential backoff, streams downloads to a temporary file beside the destination while
 * hashing them, and renames only a complete, verified file into place.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HookError, redactSecrets } from '../errors.ts';
import { sha256Meter } from './sha256-meter.ts';

/** An HTTP failure; `status` is set when the server answered, `retryable` when trying again may help. */
export class HttpError extends HookError {
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { status?: number; retryable: boolean; cause?: unknown; hint?: string },
  ) {
    super('E_HTTP', message, { cause: options.cause, hint: options.hint });
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

export interface RetryOptions {
  /** Total attempts, first included (default 4). */
  attempts?: number;
  /** Delay before the second attempt; doubles each time (default 200 ms). */
  baseDelayMs?: number;
  /** Longest delay between attempts (default 5 s). */
  maxDelayMs?: number;
  /** Idle socket timeout (default 30 s). */
  timeoutMs?: number;
}

export interface DownloadOptions extends RetryOptions {
  /** Expected SHA-256 (hex); a mismatch is E_CHECKSUM and is not retried. */
  sha256?: string;
  /** Expected size in bytes. */
  size?: number;
  /** How to name the file in a checksum error (default: the URL). */
  label?: string;
  /** Called with the bytes received so far in this attempt. */
  onBytes?: (received: number) => void;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const MAX_REDIRECTS = 5;

export function describeUrl(url: string): string {
  return redactSecrets(url);
}

function isRetryableError(error: unknown): boolean {
  if (error instanceof HttpError) return error.retryable;
  if (error instanceof HookError) return false;
  const code = (error as { code?: string } | undefined)?.code;
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  return /socket hang up|aborted|premature close/i.test(String((error as Error | undefined)?.message ?? ''));
}

function toHttpError(url: string, error: unknown): HookError {
  if (error instanceof HookError) return error;
  const code = (error as { code?: string } | undefined)?.code;
  const reason = code ?? (error as Error | undefined)?.message ?? String(error);
  return new HttpError(`GET ${describeUrl(url)} failed: ${reason}`, {
    retryable: isRetryableError(error),
    cause: error,
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `attempt` until it succeeds, fails for good, or runs out of attempts. */
export async function withRetries<T>(
  url: string,
  options: RetryOptions,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 5000;
  let lastError: HookError | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(Math.min(cap, base * 2 ** (i - 1)));
    try {
      return await attempt();
    } catch (error) {
      lastError = toHttpError(url, error);
      if (!(lastError instanceof HttpError) || !lastError.retryable) throw lastError;
    }
  }
  const final = lastError as HookError;
  throw new HttpError(`${final.message} (gave up after ${attempts} attempts)`, {
    status: final instanceof HttpError ? final.status : undefined,
    retryable: false,
    cause: final,
    hint: 'Check the mirror URL and the network; set HOOK_MIRROR or --mirror to use another mirror',
  });
}

/** Opens a GET request, following redirects, and resolves with a 200 response. */
function openResponse(url: string, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(
        new HttpError(`Cannot GET ${describeUrl(url)}: only http and https are supported`, {
          retryable: false,
        }),
      );
      return;
    }
    const request = client.get(
      target,
      { headers: { 'user-agent': 'hook-ts', accept: '*/*' } },
      (response) => {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (status >= 300 && status < 400 && location) {
          response.resume();
          if (redirects >= MAX_REDIRECTS) {
            reject(
              new HttpError(`GET ${describeUrl(url)}: too many redirects`, { status, retryable: false }),
            );
            return;
          }
          openResponse(new URL(location, target).toString(), timeoutMs, redirects + 1).then(resolve, reject);
          return;
        }
        if (status !== 200) {
          response.resume();
          const retryable = status >= 500 || status === 408 || status === 429;
          reject(
            new HttpError(
              `GET ${describeUrl(url)} failed: HTTP ${status} ${response.statusMessage ?? ''}`.trim(),
              {
                status,
                retryable,
              },
            ),
          );
          return;
        }
        resolve(response);
      },
    );
    request.setTimeout(timeoutMs, () => {
      request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' }));
    });
    request.on('error', reject);
  });
}

function expectedLength(response: http.IncomingMessage): number | undefined {
  const header = response.headers['content-length'];
  if (header === undefined) return undefined;
  const value = Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function truncated(url: string, received: number, expected: number): HttpError {
  return new HttpError(`GET ${describeUrl(url)}: body truncated (${received} of ${expected} bytes)`, {
    retryable: true,
  });
}

/** GETs a (small) resource into memory. */
export function httpGet(url: string, options: RetryOptions = {}): Promise<Buffer> {
  return withRetries(url, options, async () => {
    const response = await openResponse(url, options.timeoutMs ?? 30_000);
    const expected = expectedLength(response);
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of response) {
        chunks.push(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
    } catch (error) {
      if (expected !== undefined && received < expected && isRetryableError(error)) {
        throw truncated(url, received, expected);
      }
      throw error;
    }
    const body = Buffer.concat(chunks);
    if (expected !== undefined && body.length !== expected) throw truncated(url, body.length, expected);
    return body;
  });
}

function checksumError(label: string, detail: string): HookError {
  return new HookError('E_CHECKSUM', `Checksum mismatch for ${label}: ${detail}`, {
    hint: 'The mirror served different content than the signed index says; try again later or use another mirror',
  });
}

/**
 * Streams `url` to `dest`. The data goes to a temporary file in the same directory, hashed
 * as it arrives; size and SHA-256 are checked before the rename, so `dest` is either absent
 * or complete and correct. The temporary file is removed on any failure.
 */
export async function downloadToFile(
  url: string,
  dest: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  await mkdir(dirname(dest), { recursive: true });
  const label = options.label ?? describeUrl(url);
  return withRetries(url, options, async () => {
    const temp = join(
      dirname(dest),
      `.${basename(dest)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    try {
      const response = await openResponse(url, options.timeoutMs ?? 30_000);
      const expected = expectedLength(response);
      if (options.size !== undefined && expected !== undefined && expected !== options.size) {
        response.resume();
        throw checksumError(label, `the server sends ${expected} bytes, the index says ${options.size}`);
      }
      const meter = sha256Meter(options.onBytes);
      try {
        await pipeline(response, meter.stream, createWriteStream(temp, { flags: 'wx' }));
      } catch (error) {
        // A connection lost mid-body is reported as the truncation it is.
        if (expected !== undefined && meter.size() < expected && isRetryableError(error)) {
          throw truncated(url, meter.size(), expected);
        }
        throw error;
      }
      const received = meter.size();
      if (expected !== undefined && received !== expected) throw truncated(url, received, expected);
      const sha256 = meter.digest();
      if (options.size !== undefined && received !== options.size) {
        throw checksumError(label, `received ${received} bytes, expected ${options.size}`);
      }
      if (options.sha256 !== undefined && sha256 !== options.sha256.toLowerCase()) {
        throw checksumError(label, `SHA-256 is ${sha256}, expected ${options.sha256}`);
      }
      await rename(temp, dest);
      return { path: dest, size: received, sha256 };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  });
}
