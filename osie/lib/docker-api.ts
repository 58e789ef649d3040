/**
 * A small Docker Engine API client over the unix socket (platform/unix-http.ts: socat, one
 * process per request). It negotiates the API version (the lower of the engine's and ours), so
 * it works with any engine from Docker 20.10 on. Used by hook-bootkit and by the `docker`
 * command of the image (osie/docker-cli).
 */
import { base64UrlEncode, concatBytes, readUint32BE, utf8Decode, utf8Encode } from './platform/bytes.ts';
import { LineSplitter } from './platform/process.ts';
import { type UnixHttpResponse, unixHttpRequest } from './platform/unix-http.ts';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** The API version this client is written against (Docker 20.10). */
export const CLIENT_API_VERSION = '1.41';

export class DockerApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'DockerApiError';
    this.status = status;
  }
}

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Pid?: number;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: ContainerState;
  Config: { Image: string; Env: string[] | null; Tty?: boolean };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command?: string;
  Created?: number;
  State: string;
  Status?: string;
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
}

export interface ContainerCreateBody {
  Image: string;
  Env: string[];
  HostConfig: {
    NetworkMode: string;
    Privileged: boolean;
    Binds: string[];
    PidMode: string;
  };
}

/** One line of the engine's progress stream (pull): `{"status":…,"id":…}` or `{"error":…}`. */
export interface ProgressEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
}

export interface DockerClientOptions {
  socketPath?: string;
  /** Idle time after which a request is abandoned (a stalled pull); default 10 minutes. */
  idleTimeoutMs?: number;
}

export interface TextResponse {
  status: number;
  body: string;
}

/** `X-Registry-Auth`: base64url of the JSON credentials, as the Engine API expects. */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return base64UrlEncode(utf8Encode(JSON.stringify(auth)));
}

/** The lower of two `major.minor` API versions. */
export function lowerApiVersion(a: string, b: string): string {
  const parse = (v: string) => v.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [aMajor = 0, aMinor = 0] = parse(a);
  const [bMajor = 0, bMinor = 0] = parse(b);
  return aMajor < bMajor || (aMajor === bMajor && aMinor <= bMinor) ? a : b;
}

/** `a=1&b=x%2Fy` from a record (values percent-encoded; undefined values left out). */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
}

/**
 * Splits the engine's multiplexed log stream (8-byte header per frame: stream, 0, 0, 0, size
 * big-endian) into text; a TTY container's raw stream is returned as it is.
 */
export function demuxLogs(data: Uint8Array): string {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    const stream = data[offset];
    const size = readUint32BE(data, offset + 4);
    if (stream === undefined || stream > 2 || data[offset + 1] !== 0 || offset + 8 + size > data.length) {
      return utf8Decode(data);
    }
    chunks.push(data.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return offset === data.length ? utf8Decode(concatBytes(chunks)) : utf8Decode(data);
}

/**
 * The same, for a stream that arrives in pieces (`logs --follow`): each frame's payload goes to
 * `onFrame` with its stream (1 stdout, 2 stderr) as soon as it is complete.
 */
export class LogDemuxer {
  private pending: Uint8Array = new Uint8Array(0);
  constructor(private readonly onFrame: (stream: 1 | 2, payload: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    this.pending = this.pending.length === 0 ? chunk.slice() : concatBytes([this.pending, chunk]);
    let offset = 0;
    while (offset + 8 <= this.pending.length) {
      const size = readUint32BE(this.pending, offset + 4);
      if (offset + 8 + size > this.pending.length) break;
      const stream = this.pending[offset] === 2 ? 2 : 1;
      this.onFrame(stream, this.pending.subarray(offset + 8, offset + 8 + size));
      offset += 8 + size;
    }
    this.pending = this.pending.subarray(offset);
  }
}

/** Parses one line of a progress stream; undefined for a blank or non-JSON line. */
export function parseProgressLine(line: string): ProgressEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    if (typeof value !== 'object' || value === null) return undefined;
    const event: ProgressEvent = {};
    if (typeof value.status === 'string') event.status = value.status;
    if (typeof value.id === 'string') event.id = value.id;
    if (typeof value.progress === 'string') event.progress = value.progress;
    const detail = value.errorDetail as { message?: unknown } | undefined;
    if (value.error !== undefined) event.error = String(value.error);
    else if (typeof detail?.message === 'string') event.error = detail.message;
    return event;
  } catch {
    return undefined;
  }
}

export class DockerClient {
  readonly socketPath: string;
  private readonly idleTimeoutMs: number;
  private versionPrefix: string | undefined;

  constructor(options: DockerClientOptions = {}) {
    this.socketPath = options.socketPath ?? DEFAULT_DOCKER_SOCKET;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  }

  /** GET /_ping: resolves when the engine answers OK. */
  async ping(): Promise<void> {
    const response = await this.raw('GET', '/_ping');
    if (response.status !== 200) throw apiError('ping', response);
  }

  /** GET /version, then uses min(engine's ApiVersion, ours) for every later call. */
  async negotiateVersion(): Promise<string> {
    const response = await this.raw('GET', '/version');
    if (response.status !== 200) throw apiError('version', response);
    const engine = (JSON.parse(response.body) as { ApiVersion?: string }).ApiVersion ?? CLIENT_API_VERSION;
    const version = lowerApiVersion(engine, CLIENT_API_VERSION);
    this.versionPrefix = `/v${version}`;
    return version;
  }

  /** The parsed body of a GET that must answer 200 (`/version`, `/info`, ...). */
  async getJson<T>(path: string, what: string): Promise<T> {
    const response = await this.request('GET', path);
    if (response.status !== 200) throw apiError(what, response);
    return JSON.parse(response.body) as T;
  }

  /**
   * POST /images/create. The progress stream is read to its end, each event passed to
   * `onProgress` as it arrives: an `{"error":…}` line means the pull failed even though the HTTP
   * status was 200.
   */
  async pullImage(
    name: string,
    tag: string,
    auth?: RegistryAuth,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers['X-Registry-Auth'] = encodeRegistryAuth(auth);
    let failure: string | undefined;
    const lines = new LineSplitter((line) => {
      const event = parseProgressLine(line);
      if (event === undefined) return;
      if (event.error !== undefined && failure === undefined) failure = event.error;
      onProgress?.(event);
    });
    const response = await this.stream(
      'POST',
      `/images/create?${queryString({ fromImage: name, tag })}`,
      (chunk) => lines.push(chunk),
      headers,
    );
    lines.end();
    if (response.status !== 200) throw apiError(`pull ${name}:${tag}`, response);
    if (failure !== undefined) {
      throw new DockerApiError(`pull ${name}:${tag} failed: ${failure}`, response.status);
    }
  }

  /** GET /images/{name}/json; `undefined` when the image is not present. */
  async inspectImage(reference: string): Promise<({ Id: string } & Record<string, unknown>) | undefined> {
    const response = await this.request('GET', `/images/${encodeURIComponent(reference)}/json`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw apiError(`inspect image ${reference}`, response);
    return JSON.parse(response.body) as { Id: string };
  }

  async listImages(): Promise<ImageSummary[]> {
    return this.getJson<ImageSummary[]>('/images/json', 'list images');
  }

  async listContainers(all = true): Promise<ContainerSummary[]> {
    return this.getJson<ContainerSummary[]>(`/containers/json?all=${all ? 1 : 0}`, 'list containers');
  }

  /** GET /containers/{id}/json; `undefined` when there is no such container. */
  async inspectContainer(nameOrId: string): Promise<ContainerInspect | undefined> {
    const response = await this.request('GET', `/containers/${encodeURIComponent(nameOrId)}/json`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw apiError(`inspect container ${nameOrId}`, response);
    return JSON.parse(response.body) as ContainerInspect;
  }

  /** DELETE /containers/{id}; returns false when there was no such container. */
  async removeContainer(nameOrId: string, force = true): Promise<boolean> {
    const response = await this.request(
      'DELETE',
      `/containers/${encodeURIComponent(nameOrId)}${force ? '?force=1' : ''}`,
    );
    if (response.status === 404) return false;
    if (response.status !== 204 && response.status !== 200) throw apiError(`remove ${nameOrId}`, response);
    return true;
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const response = await this.request('POST', `/containers/create?${queryString({ name })}`, body);
    if (response.status !== 201) throw apiError(`create ${name}`, response);
    return (JSON.parse(response.body) as { Id: string }).Id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    const response = await this.request('POST', `/containers/${encodeURIComponent(nameOrId)}/start`);
    if (response.status !== 204 && response.status !== 304) throw apiError(`start ${nameOrId}`, response);
  }

  /** POST /containers/{id}/stop (or /restart) with the engine's grace period `t` seconds. */
  async stopContainer(nameOrId: string, action: 'stop' | 'restart', seconds?: number): Promise<void> {
    const query = seconds === undefined ? '' : `?t=${seconds}`;
    const response = await this.request(
      'POST',
      `/containers/${encodeURIComponent(nameOrId)}/${action}${query}`,
    );
    if (response.status !== 204 && response.status !== 304) throw apiError(`${action} ${nameOrId}`, response);
  }

  /** POST /containers/{id}/wait: resolves with the exit code when the container stops. */
  async waitContainer(nameOrId: string): Promise<number> {
    const response = await this.request('POST', `/containers/${encodeURIComponent(nameOrId)}/wait`);
    if (response.status !== 200) throw apiError(`wait ${nameOrId}`, response);
    return (JSON.parse(response.body) as { StatusCode: number }).StatusCode;
  }

  /** The last `tail` lines of stdout and stderr. */
  async containerLogs(nameOrId: string, tail = 20): Promise<string> {
    const path = `/containers/${encodeURIComponent(nameOrId)}/logs?stdout=1&stderr=1&tail=${tail}`;
    const response = await unixHttpRequest({
      socketPath: this.socketPath,
      method: 'GET',
      path: this.versioned(path),
      idleTimeoutMs: this.idleTimeoutMs,
    });
    if (response.status !== 200) throw apiError(`logs ${nameOrId}`, textOf(response));
    return demuxLogs(response.body);
  }

  /**
   * Streams a request's body to `onData` as it arrives (logs --follow, pull progress); resolves
   * at its end with the status (and, for an error status, the body as text).
   */
  async stream(
    method: string,
    path: string,
    onData: (chunk: Uint8Array) => void,
    headers: Record<string, string> = {},
  ): Promise<TextResponse> {
    let status = 0;
    const errorBody: Uint8Array[] = [];
    await unixHttpRequest({
      socketPath: this.socketPath,
      method,
      path: this.versioned(path),
      headers,
      idleTimeoutMs: this.idleTimeoutMs,
      onData: (chunk, head) => {
        status = head.status;
        if (head.status >= 200 && head.status < 300) onData(chunk);
        else errorBody.push(chunk.slice());
      },
    }).then((response) => {
      status = response.status;
    });
    return { status, body: utf8Decode(concatBytes(errorBody)) };
  }

  private versioned(path: string): string {
    return `${this.versionPrefix ?? `/v${CLIENT_API_VERSION}`}${path}`;
  }

  /** Any API call (path without the version prefix): status and body as text, whatever they are. */
  async request(method: string, path: string, body?: unknown): Promise<TextResponse> {
    return this.raw(method, this.versioned(path), body);
  }

  private async raw(method: string, path: string, body?: unknown): Promise<TextResponse> {
    const options: Parameters<typeof unixHttpRequest>[0] = {
      socketPath: this.socketPath,
      method,
      path,
      idleTimeoutMs: this.idleTimeoutMs,
    };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers = { 'Content-Type': 'application/json' };
    }
    return textOf(await unixHttpRequest(options));
  }
}

function textOf(response: UnixHttpResponse): TextResponse {
  return { status: response.status, body: utf8Decode(response.body) };
}

/** The engine's own message in an error response (`{"message":…}`), or the body as it is. */
export function engineMessage(response: TextResponse): string {
  try {
    const parsed = JSON.parse(response.body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the raw text.
  }
  return response.body.trim();
}

function apiError(what: string, response: TextResponse): DockerApiError {
  return new DockerApiError(
    `Docker API: ${what} failed (HTTP ${response.status}): ${engineMessage(response)}`,
    response.status,
  );
}
