/**
 * HTTP/1.1 for the Docker Engine API, free of I/O: a request's bytes, and a push parser for the
 * response that takes the bytes in whatever pieces they arrive and hands the body on as it comes
 * (Docker's pull progress and `logs --follow` are long streams). Bodies framed by Content-Length,
 * by chunked transfer coding (RFC 9112 §7.1: sizes in hex, extensions and trailers skipped) or
 * by the end of the connection; 1xx interim responses are skipped. Requests always say
 * `Connection: close`: one request per connection (see unix-http.ts).
 */
import { concatBytes, latin1Decode, utf8Encode } from './bytes.ts';

export interface HttpRequest {
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

export class HttpParseError extends Error {
  constructor(message: string) {
    super(`malformed HTTP response: ${message}`);
    this.name = 'HttpParseError';
  }
}

/** The bytes of a request. Header values must not hold CR or LF (checked: header injection). */
export function serializeRequest(request: HttpRequest, host = 'docker'): Uint8Array {
  const lines = [`${request.method} ${request.path} HTTP/1.1`, `Host: ${host}`, 'Connection: close'];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new Error(`invalid HTTP header ${JSON.stringify(name)}`);
    }
    lines.push(`${name}: ${value}`);
  }
  if (/[\s]/.test(request.path)) throw new Error(`invalid HTTP request path ${JSON.stringify(request.path)}`);
  const body = request.body;
  if (body !== undefined || request.method === 'POST' || request.method === 'PUT') {
    lines.push(`Content-Length: ${body?.length ?? 0}`);
  }
  const head = utf8Encode(`${lines.join('\r\n')}\r\n\r\n`);
  return body === undefined ? head : concatBytes([head, body]);
}

export interface ResponseHead {
  status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Map<string, string>;
}

export interface ResponseHandlers {
  head(head: ResponseHead): void;
  data(chunk: Uint8Array): void;
  end(): void;
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf' }
  | { kind: 'trailers' }
  | { kind: 'until-close' }
  | { kind: 'done' };

export class ResponseParser {
  private state: State = { kind: 'head' };
  private buffer: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly handlers: ResponseHandlers,
    private readonly method = 'GET',
  ) {}

  /** Whether the whole response has been read. */
  get done(): boolean {
    return this.state.kind === 'done';
  }

  push(chunk: Uint8Array): void {
    if (this.state.kind === 'done') return;
    this.buffer = this.buffer.length === 0 ? chunk.slice() : concatBytes([this.buffer, chunk]);
    this.run();
  }

  /** The connection ended: completes a response read until close, or fails an unfinished one. */
  finish(): void {
    if (this.state.kind === 'done') return;
    if (this.state.kind === 'until-close') {
      this.state = { kind: 'done' };
      this.handlers.end();
      return;
    }
    throw new HttpParseError(
      this.state.kind === 'head' && this.buffer.length === 0
        ? 'the connection closed without a response'
        : 'the connection closed before the response was complete',
    );
  }

  private run(): void {
    for (;;) {
      const state = this.state;
      switch (state.kind) {
        case 'head': {
          const end = findCrlfCrlf(this.buffer);
          if (end < 0) {
            if (this.buffer.length > MAX_HEAD_BYTES) throw new HttpParseError('the header is over 64 KiB');
            return;
          }
          const head = parseHead(latin1Decode(this.buffer.subarray(0, end)));
          this.buffer = this.buffer.subarray(end + 4);
          if (head.status >= 100 && head.status < 200 && head.status !== 101) continue;
          this.handlers.head(head);
          this.state = bodyState(head, this.method);
          if (this.state.kind === 'done') {
            this.handlers.end();
            return;
          }
          continue;
        }
        case 'length': {
          if (this.buffer.length === 0) return;
          const take = Math.min(state.remaining, this.buffer.length);
          this.handlers.data(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          const remaining = state.remaining - take;
          if (remaining > 0) {
            this.state = { kind: 'length', remaining };
            return;
          }
          this.state = { kind: 'done' };
          this.handlers.end();
          return;
        }
        case 'chunk-size': {
          const line = this.takeLine();
          if (line === undefined) return;
          const match = /^([0-9A-Fa-f]+)[ \t]*(;.*)?$/.exec(line);
          if (match === null || (match[1] as string).length > 12) {
            throw new HttpParseError(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
          }
          const size = Number.parseInt(match[1] as string, 16);
          this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: size };
          continue;
        }
        case 'chunk-data': {
          if (this.buffer.length === 0) return;
          const take = Math.min(state.remaining, this.buffer.length);
          this.handlers.data(this.buffer.subarray(0, take));
          this.buffer = this.buffer.subarray(take);
          const remaining = state.remaining - take;
          this.state = remaining > 0 ? { kind: 'chunk-data', remaining } : { kind: 'chunk-crlf' };
          if (remaining > 0) return;
          continue;
        }
        case 'chunk-crlf': {
          const line = this.takeLine();
          if (line === undefined) return;
          if (line !== '') throw new HttpParseError('a chunk is longer than its size says');
          this.state = { kind: 'chunk-size' };
          continue;
        }
        case 'trailers': {
          const line = this.takeLine();
          if (line === undefined) return;
          if (line !== '') continue;
          this.state = { kind: 'done' };
          this.handlers.end();
          return;
        }
        case 'until-close': {
          if (this.buffer.length > 0) this.handlers.data(this.buffer);
          this.buffer = new Uint8Array(0);
          return;
        }
        case 'done':
          return;
      }
    }
  }

  /** One CRLF-terminated line (without it), or undefined when it has not fully arrived. */
  private takeLine(): string | undefined {
    for (let i = 0; i + 1 < this.buffer.length; i++) {
      if (this.buffer[i] === 0x0d && this.buffer[i + 1] === 0x0a) {
        const line = latin1Decode(this.buffer.subarray(0, i));
        this.buffer = this.buffer.subarray(i + 2);
        return line;
      }
    }
    if (this.buffer.length > MAX_CHUNK_LINE) throw new HttpParseError('a chunk line is over 4 KiB');
    return undefined;
  }
}

function findCrlfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a && bytes[i + 2] === 0x0d && bytes[i + 3] === 0x0a)
      return i;
  }
  return -1;
}

function parseHead(text: string): ResponseHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (match === null) throw new HttpParseError(`bad status line ${JSON.stringify(statusLine.slice(0, 60))}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /^[ \t]/.test(line)) {
      throw new HttpParseError(`bad header line ${JSON.stringify(line.slice(0, 60))}`);
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(match[1]), headers };
}

function bodyState(head: ResponseHead, method: string): State {
  if (method === 'HEAD' || head.status === 204 || head.status === 304) return { kind: 'done' };
  const encoding = head.headers.get('transfer-encoding');
  if (encoding !== undefined) {
    if (!/(^|,)\s*chunked\s*$/i.test(encoding)) return { kind: 'until-close' };
    return { kind: 'chunk-size' };
  }
  const length = head.headers.get('content-length');
  if (length !== undefined) {
    if (!/^\d{1,15}$/.test(length)) throw new HttpParseError(`bad Content-Length ${JSON.stringify(length)}`);
    const remaining = Number(length);
    return remaining === 0 ? { kind: 'done' } : { kind: 'length', remaining };
  }
  return { kind: 'until-close' };
}
