/**
 * Runs Debian's real `docker-registry` (distribution 2.8) on 127.0.0.1 for a test: a free
 * port, a temporary storage directory, optionally htpasswd (bcrypt) authentication. The
 * registry's log (stderr, including its access log) is kept in `logPath` for assertions.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Require HTTP basic authentication with this user (htpasswd, bcrypt). */
  auth?: { username: string; password: string };
}

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

function configYaml(storageDir: string, port: number, htpasswdPath: string | undefined): string {
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
  if (htpasswdPath) lines.push('auth:', '  htpasswd:', '    realm: hook-test', `    path: ${htpasswdPath}`);
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
  let htpasswdPath: string | undefined;
  if (options.auth) {
    htpasswdPath = join(workDir, 'htpasswd');
    const line = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password]);
    writeFileSync(htpasswdPath, line);
  }
  const port = await freePort();
  const configPath = join(workDir, 'config.yml');
  writeFileSync(configPath, configYaml(storageDir, port, htpasswdPath));

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
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, logPath, () => exited);
  } catch (error) {
    await stop();
    throw error;
  }
  t?.after(stop);
  return { url, host, storageDir, logPath, log: () => readFileSync(logPath, 'utf8'), stop };
}
