/**
 * A small Docker Engine API client over the unix socket, with nothing but node:http. It
 * negotiates the API version (the lower of the engine's and ours), so it works with any engine
 * from Docker 20.10 on.
 */
import http from 'node:http';

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
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: ContainerState;
  Config: { Image: string; Env: string[] | null };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
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

export interface DockerClientOptions {
  socketPath?: string;
  /** Idle time after which a request is abandoned (a stalled pull); default 10 minutes. */
  idleTimeoutMs?: number;
}

interface RawResponse {
  status: number;
  body: string;
}

/** `X-Registry-Auth`: base64url of the JSON credentials, as the Engine API expects. */
export function encodeRegistryAuth(auth: RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth), 'utf8').toString('base64url');
}

/** The lower of two `major.minor` API versions. */
export function lowerApiVersion(a: string, b: string): string {
  const parse = (v: string) => v.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [aMajor = 0, aMinor = 0] = parse(a);
  const [bMajor = 0, bMinor = 0] = parse(b);
  return aMajor < bMajor || (aMajor === bMajor && aMinor <= bMinor) ? a : b;
}

/**
 * Splits the engine's multiplexed log stream (8-byte header per frame: stream, 0, 0, 0, size
 * big-endian) into text; a TTY container's raw stream is returned as it is.
 */
export function demuxLogs(data: Buffer): string {
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    const stream = data[offset];
    const size = data.readUInt32BE(offset + 4);
    if (stream === undefined || stream > 2 || data[offset + 1] !== 0 || offset + 8 + size > data.length) {
      return data.toString('utf8');
    }
    chunks.push(data.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return offset === data.length ? Buffer.concat(chunks).toString('utf8') : data.toString('utf8');
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

  /**
   * POST /images/create. The progress stream is read to its end: an `{"error":…}` line means the
   * pull failed even though the HTTP status was 200.
   */
  async pullImage(name: string, tag: string, auth?: RegistryAuth): Promise<void> {
    const query = new URLSearchParams({ fromImage: name, tag });
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers['X-Registry-Auth'] = encodeRegistryAuth(auth);
    const response = await this.request('POST', `/images/create?${query}`, undefined, headers);
    if (response.status !== 200) throw apiError(`pull ${name}:${tag}`, response);
    for (const line of response.body.split('\n')) {
      if (line.trim() === '') continue;
      let event: { error?: unknown; errorDetail?: { message?: unknown } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        continue;
      }
      if (event.error !== undefined) {
        throw new DockerApiError(`pull ${name}:${tag} failed: ${String(event.error)}`, response.status);
      }
    }
  }

  /** GET /images/{name}/json; `undefined` when the image is not present. */
  async inspectImage(reference: string): Promise<{ Id: string } | undefined> {
    const response = await this.request('GET', `/images/${encodeURIComponent(reference)}/json`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw apiError(`inspect image ${reference}`, response);
    return JSON.parse(response.body) as { Id: string };
  }

  async listContainers(all = true): Promise<ContainerSummary[]> {
    const response = await this.request('GET', `/containers/json?all=${all ? 1 : 0}`);
    if (response.status !== 200) throw apiError('list containers', response);
    return JSON.parse(response.body) as ContainerSummary[];
  }

  /** GET /containers/{id}/json; `undefined` when there is no such container. */
  async inspectContainer(nameOrId: string): Promise<ContainerInspect | undefined> {
    const response = await this.request('GET', `/containers/${encodeURIComponent(nameOrId)}/json`);
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw apiError(`inspect container ${nameOrId}`, response);
    return JSON.parse(response.body) as ContainerInspect;
  }

  /** DELETE /containers/{id}?force=1; returns false when there was no such container. */
  async removeContainer(nameOrId: string): Promise<boolean> {
    const response = await this.request('DELETE', `/containers/${encodeURIComponent(nameOrId)}?force=1`);
    if (response.status === 404) return false;
    if (response.status !== 204 && response.status !== 200) throw apiError(`remove ${nameOrId}`, response);
    return true;
  }

  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const query = new URLSearchParams({ name });
    const response = await this.request('POST', `/containers/create?${query}`, body);
    if (response.status !== 201) throw apiError(`create ${name}`, response);
    return (JSON.parse(response.body) as { Id: string }).Id;
  }

  async startContainer(nameOrId: string): Promise<void> {
    const response = await this.request('POST', `/containers/${encodeURIComponent(nameOrId)}/start`);
    if (response.status !== 204 && response.status !== 304) throw apiError(`start ${nameOrId}`, response);
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
    const response = await this.requestBuffer('GET', this.versioned(path));
    if (response.status !== 200) throw apiError(`logs ${nameOrId}`, { ...response, body: '' });
    return demuxLogs(response.body);
  }

  private versioned(path: string): string {
    return `${this.versionPrefix ?? `/v${CLIENT_API_VERSION}`}${path}`;
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    return this.raw(method, this.versioned(path), body, headers);
  }

  private async raw(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<RawResponse> {
    const response = await this.requestBuffer(method, path, body, headers);
    return { status: response.status, body: response.body.toString('utf8') };
  }

  private requestBuffer(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Buffer }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const allHeaders: Record<string, string | number> = { Host: 'docker', ...headers };
    if (payload !== undefined) {
      allHeaders['Content-Type'] = 'application/json';
      allHeaders['Content-Length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const request = http.request(
        { socketPath: this.socketPath, method, path, headers: allHeaders },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      request.setTimeout(this.idleTimeoutMs, () => {
        request.destroy(new Error(`Docker API ${method} ${path}: no data for ${this.idleTimeoutMs} ms`));
      });
      request.on('error', reject);
      request.end(payload);
    });
  }
}

function apiError(what: string, response: RawResponse): DockerApiError {
  let message = response.body.trim();
  try {
    const parsed = JSON.parse(response.body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: keep the raw text.
  }
  return new DockerApiError(
    `Docker API: ${what} failed (HTTP ${response.status}): ${message}`,
    response.status,
  );
}
