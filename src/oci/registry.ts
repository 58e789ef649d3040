/**
 * A client for the OCI distribution (Docker Registry HTTP API v2): manifests and indexes,
 * blob pulls verified against their digest while they stream, monolithic blob pushes that
 * skip blobs the registry already has, manifest pushes. HTTPS by default; plain HTTP for
 * registries declared insecure. Authentication follows the registry's 401 challenge.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HookError, registerSecret } from '../errors.ts';
import type { Challenge, Credentials } from './auth.ts';
import { basicAuthorization, describeFetchError, fetchBearerToken, parseChallenge } from './auth.ts';
import { parseManifestOrIndex } from './parse.ts';
import { formatPlatform, selectPlatform } from './platform.ts';
import type { ImageReference } from './reference.ts';
import { DOCKER_HUB, formatReference, manifestSelector } from './reference.ts';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from './types.ts';
import { INDEX_MEDIA_TYPES, MANIFEST_ACCEPT } from './types.ts';

export interface RegistryClientOptions {
  /** Plain HTTP: for every registry (`true`) or for these hosts (`host[:port]`). */
  insecure?: boolean | readonly string[];
  username?: string;
  password?: string;
  /** Timeout of one request other than a blob transfer (default 60 s). */
  timeoutMs?: number;
  /** Timeout of one blob transfer (default 30 min). */
  blobTimeoutMs?: number;
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
  json: ImageManifest | ImageIndex;
}

type Access = 'pull' | 'push';

/** A request body: bytes in memory, or a stream of known length made afresh for each attempt. */
type RequestBody = Uint8Array | StreamedBody;
type StreamedBody = { size: number; open: () => NodeJS.ReadableStream };

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const HASH_ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

/** `sha256:<hex>` of some bytes. */
export function digestOf(data: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function hashFor(digest: string, reference: string): ReturnType<typeof createHash> {
  const algorithm = HASH_ALGORITHMS[digest.slice(0, digest.indexOf(':'))];
  if (!algorithm)
    throw new HookError('E_OCI', `Cannot verify ${digest} of ${reference}: unsupported digest algorithm`);
  return createHash(algorithm);
}

function digestMismatch(reference: string, what: string, expected: string, actual: string): HookError {
  return new HookError(
    'E_CHECKSUM',
    `Digest mismatch for ${what} of ${reference}: expected ${expected}, got ${actual}`,
    { hint: 'The registry (or something between) served corrupted content; the data was discarded' },
  );
}

/** `registry.errors` of a registry error body, e.g. ` (UNAUTHORIZED: authentication required)`. */
function errorDetails(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    const parts = (parsed.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': '));
    const text = parts.filter(Boolean).join('; ');
    return text ? ` (${text.slice(0, 300)})` : '';
  } catch {
    return '';
  }
}

export class RegistryClient {
  readonly #insecure: boolean | readonly string[];
  readonly #credentials: Credentials | undefined;
  readonly #timeoutMs: number;
  readonly #blobTimeoutMs: number;
  readonly #challenges = new Map<string, Challenge>();
  readonly #tokens = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#insecure = options.insecure ?? false;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#blobTimeoutMs = options.blobTimeoutMs ?? 30 * 60_000;
    if (options.username !== undefined || options.password !== undefined) {
      const password = (options.password ?? '').replace(/\r?\n$/, '');
      registerSecret(password);
      this.#credentials = { username: options.username ?? '', password };
    }
  }

  /** Base URL of a registry's API (Docker Hub's lives on registry-1.docker.io). */
  baseUrl(registry: string): string {
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    const insecure =
      this.#insecure === true || (Array.isArray(this.#insecure) && this.#insecure.includes(registry));
    return `${insecure ? 'http' : 'https'}://${host}`;
  }

  /** GET a manifest or index by tag or digest; the bytes are checked against the digest. */
  async getManifest(ref: ImageReference, selector = manifestSelector(ref)): Promise<FetchedManifest> {
    const url = `${this.baseUrl(ref.registry)}/v2/${ref.repository}/manifests/${selector}`;
    const response = await this.#request(ref, 'pull', 'GET', url, {
      headers: { accept: MANIFEST_ACCEPT },
      action: 'fetch the manifest of',
    });
    if (response.status !== 200) throw await this.#statusError(ref, 'fetch the manifest of', response);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const reference = formatReference(ref);
    if (bytes.byteLength > MAX_MANIFEST_BYTES) {
      throw new HookError('E_OCI', `Cannot fetch the manifest of ${reference}: larger than 4 MiB`);
    }
    const expected = selector.includes(':')
      ? selector
      : (response.headers.get('docker-content-digest') ?? undefined);
    const digest = digestOf(bytes, expected?.startsWith('sha512:') ? 'sha512' : 'sha256');
    if (expected !== undefined && expected !== digest)
      throw digestMismatch(reference, 'the manifest', expected, digest);
    const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
    const json = parseManifestOrIndex(bytes, `the manifest of ${reference}`, INDEX_MEDIA_TYPES, contentType);
    const mediaType = json.mediaType ?? contentType ?? '';
    return { mediaType, digest, bytes, json };
  }

  /** The image manifest for `platform`, following an index or manifest list when there is one. */
  async getImageManifest(
    ref: ImageReference,
    platform: Platform,
  ): Promise<FetchedManifest & { json: ImageManifest }> {
    const top = await this.getManifest(ref);
    if (!INDEX_MEDIA_TYPES.includes(top.mediaType) && !('manifests' in top.json)) {
      return top as FetchedManifest & { json: ImageManifest };
    }
    const manifests = (top.json as ImageIndex).manifests ?? [];
    const chosen = selectPlatform(manifests, platform);
    if (!chosen) {
      const available = manifests.map((m) => formatPlatform(m.platform)).join(', ') || 'none';
      throw new HookError(
        'E_OCI',
        `Cannot pull ${formatReference(ref)}: no image for ${formatPlatform(platform)} (available: ${available})`,
      );
    }
    const manifest = await this.getManifest(ref, chosen.digest);
    if ('manifests' in manifest.json) {
      throw new HookError('E_OCI', `Cannot pull ${formatReference(ref)}: the index names another index`);
    }
    return manifest as FetchedManifest & { json: ImageManifest };
  }

  /**
   * Streams a blob, hashing as it goes; the last step throws a digest-mismatch error when the
   * bytes are not the ones named, so a consumer must not trust the data before the end.
   */
  async *blobChunks(ref: ImageReference, digest: string, expectedSize?: number): AsyncGenerator<Uint8Array> {
    const reference = formatReference(ref);
    const hash = hashFor(digest, reference);
    const url = `${this.baseUrl(ref.registry)}/v2/${ref.repository}/blobs/${digest}`;
    const response = await this.#request(ref, 'pull', 'GET', url, {
      action: `fetch blob ${digest} of`,
      blob: true,
    });
    if (response.status !== 200) throw await this.#statusError(ref, `fetch blob ${digest} of`, response);
    if (!response.body)
      throw new HookError('E_OCI', `Cannot fetch blob ${digest} of ${reference}: empty response`);
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (expectedSize !== undefined && size > expectedSize) {
        throw new HookError(
          'E_CHECKSUM',
          `Blob ${digest} of ${reference} is larger than the ${expectedSize} bytes its descriptor gives`,
        );
      }
      hash.update(chunk);
      yield chunk;
    }
    const actual = `${digest.slice(0, digest.indexOf(':'))}:${hash.digest('hex')}`;
    if (actual !== digest) throw digestMismatch(reference, `blob ${digest}`, digest, actual);
    if (expectedSize !== undefined && size !== expectedSize) {
      throw new HookError(
        'E_CHECKSUM',
        `Blob ${digest} of ${reference} has ${size} bytes, its descriptor gives ${expectedSize}`,
      );
    }
  }

  /** A whole blob in memory, verified. */
  async fetchBlob(ref: ImageReference, digest: string, expectedSize?: number): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.blobChunks(ref, digest, expectedSize)) chunks.push(chunk);
    return new Uint8Array(Buffer.concat(chunks));
  }

  async hasBlob(ref: ImageReference, digest: string, access: Access = 'pull'): Promise<boolean> {
    const url = `${this.baseUrl(ref.registry)}/v2/${ref.repository}/blobs/${digest}`;
    const response = await this.#request(ref, access, 'HEAD', url, { action: `check blob ${digest} of` });
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await this.#statusError(ref, `check blob ${digest} of`, response);
  }

  /**
   * Uploads a blob unless the repository has it (HEAD first). With `mountFrom` (a repository on
   * the same registry) the registry is first asked to mount it from there.
   */
  async pushBlob(
    ref: ImageReference,
    blob: { digest: string; data: Uint8Array },
    options: { mountFrom?: string } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    const reference = formatReference(ref);
    const actual = digestOf(blob.data, blob.digest.startsWith('sha512:') ? 'sha512' : 'sha256');
    if (actual !== blob.digest) throw digestMismatch(reference, 'a blob to push', blob.digest, actual);
    return this.#uploadBlob(ref, blob.digest, blob.data, options);
  }

  /**
   * Like pushBlob for a blob too large to hold in memory: its bytes are streamed from `open()`
   * (called once per upload attempt) with a Content-Length of `size`. The caller vouches for
   * `digest`; the registry checks it against what it received (`?digest=` on the final PUT).
   */
  async pushBlobStream(
    ref: ImageReference,
    blob: { digest: string; size: number; open: () => NodeJS.ReadableStream },
    options: { mountFrom?: string } = {},
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    return this.#uploadBlob(ref, blob.digest, { size: blob.size, open: blob.open }, options);
  }

  async #uploadBlob(
    ref: ImageReference,
    digest: string,
    body: RequestBody,
    options: { mountFrom?: string },
  ): Promise<'exists' | 'mounted' | 'uploaded'> {
    const reference = formatReference(ref);
    if (await this.hasBlob(ref, digest, 'push')) return 'exists';

    const base = this.baseUrl(ref.registry);
    const action = `push blob ${digest} to`;
    let startUrl = `${base}/v2/${ref.repository}/blobs/uploads/`;
    const extraScopes: string[] = [];
    if (options.mountFrom !== undefined && options.mountFrom !== ref.repository) {
      startUrl += `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(options.mountFrom)}`;
      extraScopes.push(`repository:${options.mountFrom}:pull`);
    }
    const started = await this.#request(ref, 'push', 'POST', startUrl, { action, extraScopes });
    if (started.status === 201) {
      await started.arrayBuffer();
      return 'mounted';
    }
    if (started.status !== 202) throw await this.#statusError(ref, action, started);
    await started.arrayBuffer();
    const location = started.headers.get('location');
    if (!location)
      throw new HookError('E_OCI', `Cannot ${action} ${reference}: the registry gave no upload location`);
    const uploadUrl = new URL(location, `${base}/`);
    uploadUrl.searchParams.set('digest', digest);
    const finished = await this.#request(ref, 'push', 'PUT', uploadUrl.toString(), {
      action,
      body,
      headers: { 'content-type': 'application/octet-stream' },
      blob: true,
    });
    if (finished.status !== 201) throw await this.#statusError(ref, action, finished);
    await finished.arrayBuffer();
    return 'uploaded';
  }

  /** PUT a manifest (or index) under the reference's tag, or its digest when it has no tag; returns its digest. */
  async putManifest(ref: ImageReference, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    const selector = ref.tag ?? ref.digest ?? digest;
    const url = `${this.baseUrl(ref.registry)}/v2/${ref.repository}/manifests/${selector}`;
    const action = 'push the manifest of';
    const response = await this.#request(ref, 'push', 'PUT', url, {
      action,
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    if (response.status !== 201 && response.status !== 200)
      throw await this.#statusError(ref, action, response);
    await response.arrayBuffer();
    const stored = response.headers.get('docker-content-digest');
    if (stored && stored !== digest)
      throw digestMismatch(formatReference(ref), 'the pushed manifest', digest, stored);
    return digest;
  }

  async #authorization(
    ref: ImageReference,
    access: Access,
    extraScopes: readonly string[],
  ): Promise<string | undefined> {
    const challenge = this.#challenges.get(ref.registry);
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic')
      return this.#credentials ? basicAuthorization(this.#credentials) : undefined;
    const scopes = [
      `repository:${ref.repository}:${access === 'push' ? 'pull,push' : 'pull'}`,
      ...extraScopes,
    ];
    const key = `${ref.registry} ${scopes.join(' ')}`;
    let token = this.#tokens.get(key);
    if (token === undefined) {
      token = await fetchBearerToken(challenge, scopes, this.#credentials, {
        reference: formatReference(ref),
        timeoutMs: this.#timeoutMs,
      });
      this.#tokens.set(key, token);
    }
    return `Bearer ${token}`;
  }

  /** One request, answering an authentication challenge once (a fresh token on a second 401). */
  async #request(
    ref: ImageReference,
    access: Access,
    method: string,
    url: string,
    init: {
      action: string;
      headers?: Record<string, string>;
      body?: RequestBody;
      blob?: boolean;
      extraScopes?: readonly string[];
    },
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': 'hook-ts', ...init.headers };
      const authorization = await this.#authorization(ref, access, init.extraScopes ?? []);
      if (authorization) headers.authorization = authorization;
      const timeoutMs = init.blob ? this.#blobTimeoutMs : this.#timeoutMs;
      let response: Response;
      try {
        response =
          init.body !== undefined && !(init.body instanceof Uint8Array)
            ? await sendStreamed(url, method, headers, init.body, timeoutMs)
            : await fetch(url, {
                method,
                headers,
                body: init.body,
                redirect: 'follow',
                signal: AbortSignal.timeout(timeoutMs),
              });
      } catch (error) {
        const reason = describeFetchError(error);
        throw new HookError(
          'E_OCI',
          `Cannot ${init.action} ${formatReference(ref)}: ${new URL(url).origin} unreachable (${reason})`,
          {
            cause: error,
            hint: url.startsWith('https:')
              ? 'If the registry speaks plain HTTP, declare it insecure'
              : 'Check that the registry is running and reachable',
          },
        );
      }
      if (response.status !== 401 || attempt > 0) return response;
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      if (!challenge) return response;
      const previous = this.#challenges.get(ref.registry);
      // A Basic challenge answered with our credentials already, or none to give: nothing more to try.
      if (challenge.scheme === 'basic' && (!this.#credentials || previous?.scheme === 'basic'))
        return response;
      await response.arrayBuffer();
      this.#challenges.set(ref.registry, challenge);
      if (previous?.scheme === 'bearer') {
        for (const key of [...this.#tokens.keys()])
          if (key.startsWith(`${ref.registry} `)) this.#tokens.delete(key);
      }
    }
  }

  async #statusError(ref: ImageReference, action: string, response: Response): Promise<HookError> {
    const body = await response.text().catch(() => '');
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    let hint: string | undefined;
    if (response.status === 401) {
      hint = this.#credentials
        ? 'The registry refused the credentials: check the username and password'
        : 'The registry requires authentication: give a username and password';
    } else if (response.status === 403) {
      hint = 'The credentials lack permission for this repository';
    } else if (response.status === 404) {
      hint = 'Check the repository name and tag';
    }
    return new HookError(
      'E_OCI',
      `Cannot ${action} ${formatReference(ref)}: ${status}${errorDetails(body)}`,
      {
        hint,
      },
    );
  }
}

/**
 * One request whose body is streamed from disk, through node:http(s) rather than fetch: Node
 * 20's fetch reads a stream body without backpressure (measured: a 130 MB blob put 131 MB of
 * buffers in memory before the server had taken it), while a pipeline into http.request keeps
 * a few chunks in flight. Sent with Content-Length (some registries refuse chunked uploads);
 * redirects are not followed (the upload URL is the registry's own).
 */
function sendStreamed(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: StreamedBody,
  timeoutMs: number,
): Promise<Response> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Response>((resolve, reject) => {
    const request = send(
      target,
      { method, headers: { ...headers, 'content-length': String(body.size) } },
      (incoming) => {
        const status = incoming.statusCode ?? 502;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value === undefined) continue;
          for (const one of Array.isArray(value) ? value : [value]) responseHeaders.append(name, one);
        }
        const noBody = status === 204 || status === 304;
        if (noBody) incoming.resume();
        resolve(
          new Response(noBody ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
            status,
            statusText: incoming.statusMessage ?? '',
            headers: responseHeaders,
          }),
        );
      },
    );
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    pipeline(body.open(), request).catch(reject);
  });
}

/** Descriptor sanity: a digest of a known algorithm and a non-negative size. */
export function checkDescriptor(descriptor: Descriptor, reference: string): void {
  if (!/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(descriptor.digest ?? '')) {
    throw new HookError('E_OCI', `Bad descriptor in ${reference}: digest "${descriptor.digest}"`);
  }
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
    throw new HookError('E_OCI', `Bad descriptor in ${reference}: size "${descriptor.size}"`);
  }
}
