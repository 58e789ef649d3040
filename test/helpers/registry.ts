/**
 * Runs Debian's real `docker-registry` (distribution 2.8) on 127.0.0.1 for a test: a free
 * port, a temporary storage directory, optionally htpasswd (bcrypt) authentication. The
 * registry's log (stderr, including its access log) is kept in `logPath` for assertions.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`: the registry part of image references. */
  host: string;
  /** Where the registry keeps its blobs and repositories. */
  storageDir: string;
  logPath: string;
  /** The log so far. */
  log(): string;
  /** Requests the token service answered (token auth only). */
  tokenRequests: TokenRequest[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /**
   * Require authentication for this user: HTTP Basic against an htpasswd file (bcrypt), or
   * with `scheme: 'token'` Bearer tokens from a token service this helper runs (the Docker
   * token protocol; RS256 JWTs signed by a throw-away self-signed certificate).
   */
  auth?: { username: string; password: string; scheme?: 'basic' | 'token' };
}

/** One request the token service answered. */
export interface TokenRequest {
  account: string | undefined;
  service: string | undefined;
  scopes: string[];
  /** The user authenticated (Basic credentials correct). */
  authenticated: boolean;
}

export const TOKEN_SERVICE = 'hook-test-registry';
const TOKEN_ISSUER = 'hook-test-issuer';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

type AuthConfig = { htpasswd: string } | { realm: string; certPath: string };

function configYaml(storageDir: string, port: number, auth: AuthConfig | undefined): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: hook-test-registry-secret',
  ];
  if (auth && 'htpasswd' in auth)
    lines.push('auth:', '  htpasswd:', '    realm: hook-test', `    path: ${auth.htpasswd}`);
  if (auth && 'realm' in auth) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${auth.realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${auth.certPath}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function waitUntilServing(url: string, logPath: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`docker-registry exited early:\n${readFileSync(logPath, 'utf8')}`);
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `docker-registry did not answer on ${url}/v2/ within 20 s:\n${readFileSync(logPath, 'utf8')}`,
  );
}

/** Starts a registry; with a test context it is stopped (and its files removed) when the test ends. */
export async function startRegistry(t?: TestContext, options: RegistryOptions = {}): Promise<TestRegistry> {
  const workDir = mkdtempSync(join(tmpdir(), 'hook-registry-'));
  const storageDir = join(workDir, 'storage');
  const logPath = join(workDir, 'registry.log');
  let authConfig: AuthConfig | undefined;
  let tokenService: TokenService | undefined;
  if (options.auth?.scheme === 'token') {
    tokenService = await startTokenService(workDir, options.auth);
    authConfig = { realm: tokenService.realm, certPath: tokenService.certPath };
  } else if (options.auth) {
    const htpasswd = join(workDir, 'htpasswd');
    writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password]));
    authConfig = { htpasswd };
  }
  const port = await freePort();
  const configPath = join(workDir, 'config.yml');
  writeFileSync(configPath, configYaml(storageDir, port, authConfig));

  const logFd = openSync(logPath, 'a');
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });

  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const stop = async () => {
    if (!exited && child.pid !== undefined) child.kill('SIGTERM');
    await exit;
    await tokenService?.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, logPath, () => exited);
  } catch (error) {
    await stop();
    throw error;
  }
  t?.after(stop);
  const tokenRequests = tokenService?.requests ?? [];
  return { url, host, storageDir, logPath, log: () => readFileSync(logPath, 'utf8'), tokenRequests, stop };
}

interface TokenService {
  realm: string;
  certPath: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Grants the requested repository actions to the right user, nothing to anyone else. */
function grantedAccess(scopes: string[], authenticated: boolean): Array<Record<string, unknown>> {
  if (!authenticated) return [];
  return scopes.flatMap((scope) => {
    const [type, name, actions] = scope.split(':');
    if (type !== 'repository' || !name || !actions) return [];
    return [{ type, name, actions: actions.split(',') }];
  });
}

async function startTokenService(
  workDir: string,
  user: { username: string; password: string },
): Promise<TokenService> {
  const keyPath = join(workDir, 'token.key');
  const certPath = join(workDir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=hook-test-token',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const requests: TokenRequest[] = [];
  const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

  const server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const authorization = request.headers.authorization;
    const authenticated = authorization === expected;
    const scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' '));
    requests.push({
      account: url.searchParams.get('account') ?? undefined,
      service: url.searchParams.get('service') ?? undefined,
      scopes,
      authenticated,
    });
    if (authorization !== undefined && !authenticated) {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end('{"details":"wrong credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer] };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: authenticated ? user.username : '',
      aud: url.searchParams.get('service') ?? '',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: grantedAccess(scopes, authenticated),
    };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(unsigned), key).toString('base64url');
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ token: `${unsigned}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
