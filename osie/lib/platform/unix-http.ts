/**
 * HTTP over a unix socket (the Docker Engine API at /var/run/docker.sock) without sockets in the
 * runtime: each request runs `socat - UNIX-CONNECT:<socket>` (Debian's socat: 0.5 MB, whose only
 * library the image did not already have is libwrap0), writes the request to its stdin and parses
 * its stdout with http1.ts. One process per request, measured at about 7 ms on the build host
 * (fork, exec, the dynamic loader with libssl, the request), against a few requests every 10 s from hook-bootkit: a
 * persistent connection would not be worth its bookkeeping.
 *
 * socat's stdin stays open until the response is complete: closing it earlier would shut down
 * the socket's write side, which Go's HTTP server (the Docker engine) takes as the client having
 * gone away, cancelling the request.
 */
import { concatBytes, utf8Decode, utf8Encode } from './bytes.ts';
import { type HttpRequest, type ResponseHead, ResponseParser, serializeRequest } from './http1.ts';
import { type PipeReader, spawn } from './process.ts';
import { clearTimer, setTimer, type Timer } from './timers.ts';

export interface UnixHttpOptions {
  socketPath: string;
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Abandon the request when no byte arrives for this long (default 10 minutes). */
  idleTimeoutMs?: number;
  /** Streams the body: each piece as it arrives (then `body` of the result is empty). */
  onData?: (chunk: Uint8Array, head: ResponseHead) => void;
}

export interface UnixHttpResponse extends ResponseHead {
  body: Uint8Array;
}

/** Why a request got no answer (the engine is not there, the socket path is wrong, ...). */
export class UnixHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnixHttpError';
  }
}

/** Characters socat's address syntax would read as separators or options. */
const SAFE_SOCKET_PATH = /^[A-Za-z0-9/._+@-]+$/;

export function unixHttpRequest(options: UnixHttpOptions): Promise<UnixHttpResponse> {
  const { socketPath } = options;
  if (!SAFE_SOCKET_PATH.test(socketPath)) {
    return Promise.reject(
      new UnixHttpError(`the socket path ${JSON.stringify(socketPath)} has characters socat cannot take`),
    );
  }
  const request: HttpRequest = { method: options.method, path: options.path };
  if (options.headers !== undefined) request.headers = options.headers;
  if (options.body !== undefined) {
    request.body = typeof options.body === 'string' ? utf8Encode(options.body) : options.body;
  }
  const bytes = serializeRequest(request);
  const idleMs = options.idleTimeoutMs ?? 600_000;
  const what = `${options.method} ${options.path.split('?')[0]} on ${socketPath}`;

  return new Promise((resolve, reject) => {
    const child = spawn(['socat', '-', `UNIX-CONNECT:${socketPath}`], {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    let settled = false;
    let timer: Timer | undefined;
    let head: ResponseHead | undefined;
    const chunks: Uint8Array[] = [];
    const stderrChunks: Uint8Array[] = [];
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimer(timer);
      child.stdin?.close();
      (child.stdout as PipeReader).close();
      if (error !== undefined) {
        child.kill();
        reject(error);
      } else {
        const response = head as ResponseHead;
        resolve({ ...response, body: concatBytes(chunks) });
      }
    };
    const armTimer = () => {
      if (timer !== undefined) clearTimer(timer);
      timer = setTimer(() => finish(new UnixHttpError(`${what}: no data for ${idleMs} ms`)), idleMs);
    };
    const parser = new ResponseParser(
      {
        head: (value) => {
          head = value;
        },
        data: (chunk) => {
          if (options.onData !== undefined) options.onData(chunk, head as ResponseHead);
          else chunks.push(chunk.slice());
        },
        end: () => finish(),
      },
      options.method,
    );
    // socat's complaints (e.g. "E connect(5, AF=1 "/run/x.sock", 13): No such file or directory").
    const stderrDone = new Promise<void>((done) =>
      (child.stderr as PipeReader).read(
        (chunk) => stderrChunks.push(chunk.slice()),
        () => done(),
      ),
    );
    (child.stdout as PipeReader).read(
      (chunk) => {
        armTimer();
        try {
          parser.push(chunk);
        } catch (error) {
          finish(error as Error);
        }
      },
      () => {
        try {
          parser.finish();
        } catch (error) {
          // Give socat a moment to say why (its stderr), then report.
          Promise.all([child.exited, stderrDone]).then(() => {
            const said = socatReason(utf8Decode(concatBytes(stderrChunks)));
            finish(
              new UnixHttpError(
                said === undefined
                  ? `${what}: ${(error as Error).message}`
                  : `cannot connect to ${socketPath}: ${said}`,
              ),
            );
          });
        }
      },
    );
    armTimer();
    const written = child.stdin?.write(bytes) ?? 0;
    if (written < 0) {
      // socat is gone already (it could not connect): its exit and stderr explain it above.
      child.stdin?.close();
    }
  });
}

/** The reason in socat's last error line (`... E connect(...): No such file or directory`). */
function socatReason(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .filter((l) => / E /.test(l))
    .pop();
  if (line === undefined) return undefined;
  const colon = line.lastIndexOf('): ');
  return colon >= 0 ? line.slice(colon + 3).trim() : line.replace(/^.* E /, '').trim();
}
