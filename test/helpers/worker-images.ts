/**
 * What the worker boot tests share: the HookOS build, the test images (test/fixtures/worker:
 * a worker that reports what it sees and runs an action, the action, a worker that exits at
 * once) built with `hook image build`'s code, a Smee-style kernel command line, and a
 * registry front that is closed until told to open and records what each request carried.
 */

import assert from 'node:assert/strict';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { TestContext } from 'node:test';
import { type OciImage, pushImage } from '../../src/oci/image.ts';
import { buildContainerImage } from '../../src/pipeline/container-image.ts';
import { type BuildResult, build } from '../../src/pipeline/pipeline.ts';
import { silentReporter } from '../../src/pipeline/reporter.ts';
import type { Vm } from './qemu/vm.ts';
import { freePort } from './registry.ts';
import { tempDir } from './temp-dir.ts';

const FIXTURES = new URL('../fixtures/worker/', import.meta.url);

export const WORKER_MAC = '52:54:00:12:34:56';
/** The guest's name for the host's loopback under QEMU's user-mode network. */
export const HOST_FROM_GUEST = '10.0.2.2';
/** The console prompt of the root shell (autologin). */
export const PROMPT = /(hookos:[^\n]*# |bash-5\.2# )/;

export type TestImageName = 'worker' | 'action' | 'crash';

let osBuild: Promise<BuildResult> | undefined;

/**
 * The default spec built once per process into a temp dir (warm: seconds, with the shared cache),
 * removed when the process exits.
 */
export function buildHookOs(): Promise<BuildResult> {
  osBuild ??= tempDir('hook-worker-os-').then((outDir) =>
    build({ arch: 'x86_64', outDir, reporter: silentReporter }),
  );
  return osBuild;
}

const images = new Map<TestImageName, Promise<OciImage>>();

export function testImage(name: TestImageName): Promise<OciImage> {
  let pending = images.get(name);
  if (!pending) {
    pending = buildContainerImage({
      specFile: new URL(`${name}.yaml`, FIXTURES).pathname,
      arch: 'x86_64',
      reporter: silentReporter,
    }).then((result) => result.image);
    images.set(name, pending);
  }
  return pending;
}

/** Pushes a test image to a loopback registry (`127.0.0.1:<port>`) under `repository:tag`. */
export async function pushTestImage(
  name: TestImageName,
  registryHost: string,
  repositoryAndTag: string,
  auth?: { username: string; password: string },
): Promise<void> {
  await pushImage(await testImage(name), `${registryHost}/${repositoryAndTag}`, {
    insecure: [registryHost],
    ...(auth ?? {}),
  });
}

/** The command line Smee sends, for a worker image on the host's registry, plus `extra`. */
export function smeeCmdline(options: {
  workerImage?: string;
  insecureRegistries: string[];
  extra?: string;
}): string {
  return [
    `syslog_host=${HOST_FROM_GUEST}`,
    `grpc_authority=${HOST_FROM_GUEST}:42113`,
    'tinkerbell_tls=false',
    'tinkerbell_insecure_tls=false',
    `worker_id=${WORKER_MAC}`,
    `hw_addr=${WORKER_MAC}`,
    ...(options.workerImage ? [`tink_worker_image=${options.workerImage}`] : []),
    `insecure_registries=${options.insecureRegistries.join(',')}`,
    'facility=onprem',
    'modules=loop,squashfs,sd-mod,usb-storage',
    'intel_iommu=on',
    'iommu=pt',
    // No NTP server is reachable (and no public name may be resolved): leave time sync out.
    'systemd.mask=systemd-timesyncd.service',
    'systemd.mask=systemd-time-wait-sync.service',
    ...(options.extra ? [options.extra] : []),
    'console=tty0',
    'console=ttyS0,115200',
  ].join(' ');
}

/** One line of the worker's report (HOOK-WORKER-REPORT). */
export interface WorkerReport {
  env: string[];
  capEff: string;
  netInterfaces: string[];
  mounts: string[];
  pid1: string;
  devVda: boolean;
  dockerSocket: boolean;
}

export function parseWorkerReport(text: string): WorkerReport {
  const match = /HOOK-WORKER-REPORT (\{.*\})/.exec(text) ?? /^(\{.*\})\s*$/m.exec(text);
  if (!match?.[1]) throw new Error(`No worker report in:\n${text.slice(-2000)}`);
  return JSON.parse(match[1]) as WorkerReport;
}

export interface FrontRequest {
  method: string;
  path: string;
  /** The request carried Basic credentials (only the token endpoint ever gets them). */
  credentials: boolean;
}

export interface RegistryFront {
  port: number;
  requests: FrontRequest[];
  /** Starts listening (connections are refused until then). */
  open(): Promise<void>;
  close(): Promise<void>;
}

const FRONT_TOKEN = 'hook-test-anonymous';

/**
 * An HTTP front for a plain registry on a port of its own, closed until `open()`. It speaks
 * the Docker token protocol: `/v2/` without a token is answered with a Bearer challenge whose
 * realm is the front's `/token`, which hands anyone a token. Docker sends the credentials it
 * was given for this registry (Basic, plus `account=`) to the realm, and nothing otherwise, so
 * the recorded token requests show whether credentials were sent. Requests with the token are
 * passed to the registry.
 */
export async function startRegistryFront(t: TestContext, upstreamPort: number): Promise<RegistryFront> {
  const port = await freePort();
  const requests: FrontRequest[] = [];
  let server: Server | undefined;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const authorization = req.headers.authorization ?? '';
    const path = req.url ?? '';
    requests.push({
      method: req.method ?? '',
      path,
      credentials: /^basic /i.test(authorization) || /[?&]account=/.test(path),
    });
    if (path.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: FRONT_TOKEN, expires_in: 300 }));
      return;
    }
    if (authorization !== `Bearer ${FRONT_TOKEN}`) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${HOST_FROM_GUEST}:${port}/token",service="hook-test-front"`,
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}');
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${upstreamPort}` };
    delete headers.authorization;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(error.message);
    });
    req.pipe(upstream);
  };
  const close = async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  t.after(close);
  return {
    port,
    requests,
    async open() {
      if (server) return;
      const s = createServer(handler);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    close,
  };
}

/** The 11 variables hook-bootkit gives the worker (DESIGN.md, hook-bootkit step 3). */
export const WORKER_ENV_KEYS = [
  'DOCKER_REGISTRY',
  'REGISTRY_USERNAME',
  'REGISTRY_PASSWORD',
  'TINKERBELL_GRPC_AUTHORITY',
  'TINKERBELL_TLS',
  'TINKERBELL_INSECURE_TLS',
  'WORKER_ID',
  'ID',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
];

/** The Tinkerbell entries of a worker's environment, sorted (others, like PATH, dropped). */
export function tinkerbellEnv(env: readonly string[]): string[] {
  return env.filter((entry) => WORKER_ENV_KEYS.includes(entry.slice(0, entry.indexOf('=')))).sort();
}

/** Runs a command on the console and fails on a non-zero exit status. */
export async function sh(vm: Vm, command: string, timeoutMs = 120_000): Promise<string> {
  const result = await vm.run(command, { timeoutMs });
  assert.equal(result.exitCode, 0, `\`${command}\` failed:\n${result.output}`);
  return result.output;
}
