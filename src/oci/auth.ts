/**
 * Registry authentication: the `WWW-Authenticate` challenge a registry answers 401 with,
 * HTTP Basic with the user's credentials, and Bearer tokens from the challenge's realm
 * (the Docker token protocol: GET realm?service=…&scope=…, Basic credentials when given,
 * anonymous otherwise). Credentials and tokens are registered as secrets so that no error
 * or log line can show them.
 */
import { HookError, registerSecret } from '../errors.ts';

export type Challenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

export interface Credentials {
  username: string;
  password: string;
}

/** Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`; undefined for other schemes. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = (match[1] as string).toLowerCase();
  const params: Record<string, string> = {};
  const paramPattern = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (const param of (match[2] as string).matchAll(paramPattern)) {
    params[(param[1] as string).toLowerCase()] =
      param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
  }
  if (scheme === 'basic') return params.realm === undefined ? { scheme } : { scheme, realm: params.realm };
  if (scheme === 'bearer' && params.realm) {
    const challenge: Challenge = { scheme, realm: params.realm };
    if (params.service !== undefined) challenge.service = params.service;
    if (params.scope !== undefined) challenge.scope = params.scope;
    return challenge;
  }
  return undefined;
}

export function basicAuthorization(credentials: Credentials): string {
  const encoded = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  registerSecret(encoded);
  return `Basic ${encoded}`;
}

/** Fetches a Bearer token for the scopes from the challenge's realm. */
export async function fetchBearerToken(
  challenge: Extract<Challenge, { scheme: 'bearer' }>,
  scopes: readonly string[],
  credentials: Credentials | undefined,
  context: { reference: string; timeoutMs: number },
): Promise<string> {
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    throw new HookError(
      'E_OCI',
      `Cannot authenticate for ${context.reference}: bad token realm "${challenge.realm}"`,
    );
  }
  if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  if (credentials) url.searchParams.set('account', credentials.username);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = basicAuthorization(credentials);

  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(context.timeoutMs) });
  } catch (error) {
    throw new HookError(
      'E_OCI',
      `Cannot authenticate for ${context.reference}: token service ${url.origin} unreachable (${describeFetchError(error)})`,
      { cause: error },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new HookError(
      'E_OCI',
      `Cannot authenticate for ${context.reference}: token service ${url.origin} answered HTTP ${response.status} ${response.statusText}`,
      {
        hint:
          response.status === 401 || response.status === 403
            ? 'Check the registry username and password'
            : undefined,
      },
    );
  }
  let token: unknown;
  try {
    const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    token = body.token ?? body.access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') {
    throw new HookError(
      'E_OCI',
      `Cannot authenticate for ${context.reference}: token service ${url.origin} returned no token`,
    );
  }
  registerSecret(token);
  return token;
}

/** A short reason for a failed fetch() (its `cause` carries the system error). */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
