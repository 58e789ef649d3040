import { mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HookError, redactSecrets } from '../errors.ts';
import { replaceAtomically } from '../util/atomic-write.ts';
import { sha256Meter } from './sha256-meter.ts';

/** An HTTP failure; `status` is set when the server answered, `retryable` when trying again may help. */
export class HttpError extends HookError {
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(
    message: string,
    options: { status?: number | undefined; retryable: boolean; cause?: unknown; hint?: string },
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
  /**
   * An attempt that receives nothing (no connection, no headers, no body bytes) for this
   * long is aborted as stalled and tried again (default 30 s).
   */
  stallTimeoutMs?: number;
  /** After this long without data, `onWait` is told every second or so (default 5 s). */
  waitNoticeMs?: number;
  /** Told why a request is not progressing: waiting for data, or about to be retried. */
  onWait?: (message: string) => void;
}

export interface GetOptions extends RetryOptions {
  /** Largest body accepted; refused (not retried) as soon as the header or the stream says more. */
  maxBytes?: number;
}

export interface DownloadOptions extends GetOptions {
  /** Expected SHA-256 (hex); a mismatch is E_CHECKSUM and is not retried. */
  sha256?: string;
  /** Expected size in bytes; a body that grows past it is cut off (E_CHECKSUM). */
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

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const DEFAULT_WAIT_NOTICE_MS = 5_000;

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

function formatIdle(ms: number): string {
  return ms >= 1000 ? `${Math.floor(ms / 1000)} s` : `${Math.round(ms)} ms`;
}

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
    if (i > 0) {
      options.onWait?.(
        `retrying ${describeUrl(url)} (attempt ${i + 1} of ${attempts}): ${lastError?.message}`,
      );
      await sleep(Math.min(cap, base * 2 ** (i - 1)));
    }
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

/**
 * Watches one attempt: `touch()` on every sign of life; after `waitNoticeMs` of silence
 * `onWait` is told, and after `stallTimeoutMs` the current request is destroyed with a
 * retryable E_HTTP error (kept in `stalled`, since the stream may report its own reason).
 */
class Watchdog {
  stalled: HttpError | undefined;
  #last = performance.now();
  #request: http.ClientRequest | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(url: string, options: RetryOptions) {
    const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    const noticeMs = options.waitNoticeMs ?? DEFAULT_WAIT_NOTICE_MS;
    const tick = Math.max(10, Math.min(1000, Math.floor(Math.min(stallMs, noticeMs) / 4)));
    this.#timer = setInterval(() => {
      const idle = performance.now() - this.#last;
      if (idle >= stallMs) {
        this.stalled ??= new HttpError(
          `GET ${describeUrl(url)} stalled: no data for ${formatIdle(stallMs)}`,
          { retryable: true },
        );
        this.#request?.destroy(this.stalled);
        this.stop();
      } else if (idle >= noticeMs) {
        options.onWait?.(`waiting for ${describeUrl(url)} (${formatIdle(idle)} without data)`);
      }
    }, tick);
    this.#timer.unref();
  }

  attach(request: http.ClientRequest): void {
    this.#request = request;
    request.on('socket', (socket) => socket.on('connect', () => this.touch()));
  }

  touch(): void {
    this.#last = performance.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Opens a GET request, following redirects, and resolves with a 200 response. */
function openResponse(url: string, watchdog: Watchdog, redirects = 0): Promise<http.IncomingMessage> {
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
        watchdog.touch();
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
          openResponse(new URL(location, target).toString(), watchdog, redirects + 1).then(resolve, reject);
          return;
        }
        if (status !== 200) {
          response.resume();
          const retryable = status >= 500 || status === 408 || status === 429;
          reject(
            new HttpError(
              `GET ${describeUrl(url)} failed: HTTP ${status} ${response.statusMessage ?? ''}`.trim(),
              { status, retryable },
            ),
          );
          return;
        }
        resolve(response);
      },
    );
    watchdog.attach(request);
    request.on('error', (error) => reject(watchdog.stalled ?? error));
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

/** Not an HttpError: a body over its cap is not a network problem, so not retried or treated as offline. */
function tooLarge(url: string, what: string, limit: number): HookError {
  return new HookError('E_HTTP', `GET ${describeUrl(url)}: ${what}, more than the limit of ${limit} bytes`, {
    hint: 'The mirror serves something other than what was asked for; check the mirror URL',
  });
}

/**
 * A pass-through that keeps the watchdog fed and stops the stream as soon as more than
 * `limit` bytes have come (the error from `exceeded`), so nothing unbounded is buffered.
 */
function guard(
  watchdog: Watchdog,
  limit: number | undefined,
  exceeded: (received: number) => Error,
): { stream: Transform; received: () => number } {
  let received = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      watchdog.touch();
      received += chunk.length;
      if (limit !== undefined && received > limit) callback(exceeded(received));
      else callback(null, chunk);
    },
  });
  return { stream, received: () => received };
}

/**
 * One attempt: open, check the announced length against `limit`, then stream the body
 * through the guard into `sink` (which must consume `source` with `pipeline`, so an error
 * on any side ends the others). Truncation and stalls become retryable E_HTTP errors.
 */
async function receive(
  url: string,
  options: GetOptions,
  limit: { bytes: number | undefined; refuse: (what: string) => HookError },
  sink: (source: [http.IncomingMessage, Transform]) => Promise<void>,
): Promise<void> {
  const watchdog = new Watchdog(url, options);
  try {
    const response = await openResponse(url, watchdog);
    response.on('error', () => {}); // reported through the pipeline; none may go unhandled
    const expected = expectedLength(response);
    if (limit.bytes !== undefined && expected !== undefined && expected > limit.bytes) {
      response.destroy();
      throw limit.refuse(`the server announces ${expected} bytes`);
    }
    const body = guard(watchdog, limit.bytes, (received) =>
      limit.refuse(`received ${received} bytes so far`),
    );
    try {
      await sink([response, body.stream]);
    } catch (error) {
      response.destroy();
      if (watchdog.stalled) throw watchdog.stalled;
      if (error instanceof HookError) throw error;
      // A connection lost mid-body is reported as the truncation it is.
      if (expected !== undefined && body.received() < expected && isRetryableError(error)) {
        throw truncated(url, body.received(), expected);
      }
      throw error;
    }
    if (watchdog.stalled) throw watchdog.stalled;
    if (expected !== undefined && body.received() !== expected)
      throw truncated(url, body.received(), expected);
  } finally {
    watchdog.stop();
  }
}

/** GETs a (small) resource into memory, refusing more than `maxBytes`. */
export function httpGet(url: string, options: GetOptions = {}): Promise<Buffer> {
  return withRetries(url, options, async () => {
    const chunks: Buffer[] = [];
    const refuse = (what: string) => tooLarge(url, what, options.maxBytes as number);
    await receive(url, options, { bytes: options.maxBytes, refuse }, async ([response, body]) => {
      await pipeline(response, body, async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      });
    });
    return Buffer.concat(chunks);
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
  // The declared size is the cap when there is one: a longer body is already wrong.
  const limit =
    options.size !== undefined
      ? {
          bytes: Math.min(options.size, options.maxBytes ?? Number.POSITIVE_INFINITY),
          refuse: (what: string) => checksumError(label, `${what}, the index says ${options.size}`),
        }
      : {
          bytes: options.maxBytes,
          refuse: (what: string) => tooLarge(url, what, options.maxBytes as number),
        };
  return withRetries(url, options, async () => {
    return replaceAtomically(dest, async (temp) => {
      const meter = sha256Meter(options.onBytes);
      // The file is opened (and closed) here, not lazily by the stream: a stream still opening
      // when the attempt fails created its file after the clean-up had removed it (seen in CI).
      const file = await open(temp, 'wx');
      try {
        await receive(url, options, limit, async ([response, body]) => {
          await pipeline(response, body, meter.stream, file.createWriteStream());
        });
      } finally {
        await file.close();
      }
      const received = meter.size();
      const sha256 = meter.digest();
      if (options.size !== undefined && received !== options.size) {
        throw checksumError(label, `received ${received} bytes, expected ${options.size}`);
      }
      if (options.sha256 !== undefined && sha256 !== options.sha256.toLowerCase()) {
        throw checksumError(label, `SHA-256 is ${sha256}, expected ${options.sha256}`);
      }
      return { path: dest, size: received, sha256 };
    });
  });
}
