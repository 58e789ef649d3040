/**
 * Runs Debian's real `docker-registry` (distribution 2.8) on 127.0.0.1 for a test: a free
 * port, a temporary storage directory, optionally htpasswd (bcrypt) authentication, optionally
 * TLS with a certificate from a CA made for the test. The registry's log (stderr, including
 * its access log) is kept in `logPath` for assertions.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `http://127.0.0.1:<port>`, or `https://…` with TLS */
  url: string;
  /** With TLS: the PEM of the CA that signed the registry's certificate. */
  caPem?: string;
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
  /**
   * Serve HTTPS with a certificate for these IP addresses (default 127.0.0.1 and 10.0.2.2,
   * the host as a QEMU guest sees it), signed by a CA made for this registry (`caPem`).
   */
  tls?: boolean | { ips: string[] };
  /** Serve this storage directory (another registry's `storageDir`) instead of a new one. */
  storageDir?: string;
  /** Listen on this port instead of a free one. */
  port?: number;
}

/** A CA made for one test, and a server certificate it signed (ECDSA P-256, valid 2 days). */
export interface TestCertificates {
  caPem: string;
  caPath: string;
  certPath: string;
  keyPath: string;
}

/** Makes a CA and a certificate for the given IP addresses with openssl, in `dir`. */
export function makeTestCertificates(dir: string, ips: readonly string[]): TestCertificates {
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=hook-test-ca',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.crt'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(
    'req',
    ...ec,
    '-subj',
    '/CN=hook-test-registry',
    '-keyout',
    path('server.key'),
    '-out',
    path('server.csr'),
  );
  writeFileSync(
    path('server.ext'),
    `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path('server.csr'),
    '-CA',
    path('ca.crt'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    path('server.ext'),
    '-out',
    path('server.crt'),
  );
  return {
    caPem: readFileSync(path('ca.crt'), 'utf8'),
    caPath: path('ca.crt'),
    certPath: path('server.crt'),
    keyPath: path('server.key'),
  };
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

function configYaml(
  storageDir: string,
  port: number,
  auth: AuthConfig | undefined,
  tls?: TestCertificates,
): string {
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
  if (tls) lines.push('  tls:', `    certificate: ${tls.certPath}`, `    key: ${tls.keyPath}`);
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

/** The status of GET <url>/v2/, over HTTPS trusting only `caPem` when given. */
export function registryStatus(url: string, caPem?: string): Promise<number> {
  if (caPem === undefined)
    return fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });
  return new Promise((resolve, reject) => {
    const request = httpsGet(`${url}/v2/`, { ca: caPem, timeout: 1000 }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', reject);
  });
}

async function waitUntilServing(
  url: string,
  logPath: string,
  exited: () => boolean,
  caPem?: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`docker-registry exited early:\n${readFileSync(logPath, 'utf8')}`);
    try {
      const status = await registryStatus(url, caPem);
      if (status === 200 || status === 401) return;
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
  const storageDir = options.storageDir ?? join(workDir, 'storage');
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
  const port = options.port ?? (await freePort());
  const tls =
    options.tls === undefined || options.tls === false
      ? undefined
      : makeTestCertificates(workDir, options.tls === true ? ['127.0.0.1', '10.0.2.2'] : options.tls.ips);
  const configPath = join(workDir, 'config.yml');
  writeFileSync(configPath, configYaml(storageDir, port, authConfig, tls));

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
  const url = `${tls ? 'https' : 'http'}://${host}`;
  const stop = async () => {
    if (!exited && child.pid !== undefined) child.kill('SIGTERM');
    await exit;
    await tokenService?.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, logPath, () => exited, tls?.caPem);
  } catch (error) {
    await stop();
    throw error;
  }
  t?.after(stop);
  const tokenRequests = tokenService?.requests ?? [];
  return {
    url,
    host,
    storageDir,
    logPath,
    log: () => readFileSync(logPath, 'utf8'),
    tokenRequests,
    stop,
    ...(tls ? { caPem: tls.caPem } : {}),
  };
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
