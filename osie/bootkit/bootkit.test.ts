import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRegistryAuth } from '../lib/docker-api.ts';
import { createLogger } from '../lib/log.ts';
import { makeTempDir, removeTree, writeFile } from '../lib/platform/fs.ts';
import { Stop, sleep } from '../lib/platform/timers.ts';
import type { WorkerState } from '../lib/worker-state.ts';
import { type Peer, startPeer } from '../test-runner/peer.ts';
import { runBootkit } from './bootkit.ts';
import type { FakeContainer, RecordedRequest, StartBehavior } from './fake-engine-types.ts';

const PASSWORD = 'hunter2-Very-Secret';

/** The test engine (fake-docker-engine.ts), a Node peer on a real unix socket. */
class Engine {
  constructor(private readonly peer: Peer) {}
  listen = (socketPath: string) => this.peer.call('listen', socketPath);
  setPullable = (ref: string, auth?: string) => this.peer.call('setPullable', ref, auth ?? null);
  addLocalImage = (ref: string) => this.peer.call('addLocalImage', ref);
  pushStartBehavior = (behavior: StartBehavior) => this.peer.call('pushStartBehavior', behavior);
  setContainer = (container: FakeContainer) => this.peer.call('setContainer', container);
  container = (name: string) => this.peer.call<FakeContainer | null>('container', name);
  crash = (name: string, exitCode: number, logs: string) => this.peer.call('crash', name, exitCode, logs);
  requests = () => this.peer.call<RecordedRequest[]>('requests');
  async requestsTo(method: string, pattern: RegExp): Promise<RecordedRequest[]> {
    return (await this.requests()).filter((r) => r.method === method && pattern.test(r.path));
  }
  async close(): Promise<void> {
    await this.peer.call('close');
    await this.peer.close();
  }
}

interface Harness {
  engine: Engine;
  lines: string[];
  /** What bootkit published for the console, in order. */
  states: WorkerState[];
  cmdlinePath: string;
  socketPath: string;
  start(): void;
  stop(): Promise<void>;
}

async function harness(cmdline: string, options: { engineUp?: boolean } = {}): Promise<Harness> {
  const dir = makeTempDir('hook-bootkit-');
  const cmdlinePath = `${dir}/cmdline`;
  const socketPath = `${dir}/docker.sock`;
  writeFile(cmdlinePath, `${cmdline}\n`);
  const engine = new Engine(await startPeer('fake-engine'));
  if (options.engineUp !== false) await engine.listen(socketPath);
  const lines: string[] = [];
  const states: WorkerState[] = [];
  const stop = new Stop();
  let running: Promise<void> | undefined;
  return {
    engine,
    lines,
    states,
    cmdlinePath,
    socketPath,
    start() {
      running = runBootkit({
        log: createLogger({ component: 'hook-bootkit', write: (line) => lines.push(line) }),
        cmdlinePath,
        socketPath,
        startCheckMs: 30,
        watchIntervalMs: 30,
        stableMs: 10_000,
        backoffInitialMs: 20,
        backoffMaxMs: 80,
        reportState: (state) => states.push(state),
        stop,
      });
    },
    async stop() {
      stop.stop();
      await running;
      await engine.close();
      removeTree(dir);
    },
  };
}

async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const workerRunning = (h: Harness) => async () => (await h.engine.container('tink-worker'))?.running === true;

test('pulls with credentials from docker_registry, replaces the old container, creates the exact worker', async () => {
  const h = await harness(
    `console=ttyS0 docker_registry=reg.test:5000 registry_username=admin registry_password=${PASSWORD} ` +
      'grpc_authority=10.0.2.2 worker_id=52:54:00:12:34:56 tinkerbell_tls=false HTTP_PROXY=http://proxy:3128',
  );
  const auth = encodeRegistryAuth({ username: 'admin', password: PASSWORD, serveraddress: 'reg.test:5000' });
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', auth);
  await h.engine.setContainer({
    id: 'old0'.padEnd(64, '0'),
    name: 'tink-worker',
    body: { Image: 'old', Env: [] },
    running: false,
    exitCode: 0,
    logs: '',
  });
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    await waitFor(
      'the first watch',
      async () => (await h.engine.requestsTo('GET', /tink-worker\/json/)).length >= 3,
    );

    const pulls = await h.engine.requestsTo('POST', /images\/create/);
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]!.path, '/v1.41/images/create?fromImage=reg.test%3A5000%2Ftink-worker&tag=latest');
    assert.equal(pulls[0]!.headers['x-registry-auth'], auth);
    assert.ok(
      h.lines.some((l) => l.includes('msg="pulling the worker image"') && l.includes('sends_login=true')),
    );
    assert.equal(
      (await h.engine.requestsTo('DELETE', /^\/v1\.41\/containers\/tink-worker\?force=1$/)).length,
      1,
    );

    const creates = await h.engine.requestsTo('POST', /containers\/create/);
    assert.equal(creates.length, 1);
    assert.equal(creates[0]!.path, '/v1.41/containers/create?name=tink-worker');
    assert.deepEqual(JSON.parse(creates[0]!.body), {
      Image: 'reg.test:5000/tink-worker:latest',
      Env: [
        'DOCKER_REGISTRY=reg.test:5000',
        'REGISTRY_USERNAME=admin',
        `REGISTRY_PASSWORD=${PASSWORD}`,
        // Passed through unchanged, as Hook does (Smee always sends a port).
        'TINKERBELL_GRPC_AUTHORITY=10.0.2.2',
        'TINKERBELL_TLS=false',
        'TINKERBELL_INSECURE_TLS=',
        'WORKER_ID=52:54:00:12:34:56',
        'ID=52:54:00:12:34:56',
        'HTTP_PROXY=http://proxy:3128',
        'HTTPS_PROXY=',
        'NO_PROXY=',
      ],
      HostConfig: {
        NetworkMode: 'host',
        Privileged: true,
        Binds: ['/worker:/worker', '/var/run/docker.sock:/var/run/docker.sock', '/dev:/dev', '/run:/run'],
        PidMode: 'host',
      },
    });
    assert.ok(h.lines.some((l) => l.includes('msg="the worker container is running"')));
  } finally {
    await h.stop();
  }
  assert.ok(!h.lines.join('\n').includes(PASSWORD), 'the password never reaches the log');
});

test('credentials are not sent to a registry other than docker_registry', async () => {
  const h = await harness(
    `tink_worker_image=quay.test/tinkerbell/tink-agent:v1 docker_registry=reg.test:5000 registry_username=admin registry_password=${PASSWORD}`,
  );
  await h.engine.setPullable('quay.test/tinkerbell/tink-agent:v1', undefined);
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    const pulls = await h.engine.requestsTo('POST', /images\/create/);
    assert.equal(pulls[0]!.path, '/v1.41/images/create?fromImage=quay.test%2Ftinkerbell%2Ftink-agent&tag=v1');
    assert.equal(pulls[0]!.headers['x-registry-auth'], undefined);
    assert.equal((await h.engine.container('tink-worker'))?.body.Image, 'quay.test/tinkerbell/tink-agent:v1');
  } finally {
    await h.stop();
  }
});

test('a failed pull counts as success when the image is already present (embedded image)', async () => {
  const h = await harness('docker_registry=reg.test:5000');
  await h.engine.addLocalImage('reg.test:5000/tink-worker:latest');
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    assert.equal((await h.engine.requestsTo('POST', /images\/create/)).length, 1);
    assert.ok(
      h.lines.some(
        (l) => l.includes('using the image already present locally') && l.includes('manifest unknown'),
      ),
    );
  } finally {
    await h.stop();
  }
});

test('a failed pull without a local image is logged and retried with growing delays', async () => {
  const h = await harness('docker_registry=reg.test:5000');
  try {
    h.start();
    await waitFor('three retries', () => h.lines.filter((l) => l.includes('delay_ms=')).length >= 3);
    assert.ok((await h.engine.requestsTo('POST', /images\/create/)).length >= 3);
    assert.equal((await h.engine.requestsTo('POST', /containers\/create/)).length, 0);
    assert.ok(h.lines.some((l) => l.startsWith('level=error') && l.includes('not present locally')));
    const delays = h.lines.flatMap((l) => l.match(/delay_ms=(\d+)/)?.[1] ?? []).map(Number);
    assert.deepEqual(delays.slice(0, 3), [20, 40, 80]);
    // The registry comes back: the next attempt succeeds.
    await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
    await waitFor('the worker to run', workerRunning(h));
  } finally {
    await h.stop();
  }
});

test('a worker that exits right after start is logged with exit code and logs, then restarted', async () => {
  const h = await harness(`docker_registry=reg.test:5000 registry_username=u registry_password=${PASSWORD}`);
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  await h.engine.pushStartBehavior({
    exitCode: 3,
    logs: `cannot reach tink server (password ${PASSWORD})\n`,
  });
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    assert.equal((await h.engine.requestsTo('POST', /containers\/create/)).length, 2);
    const failure = h.lines.find((l) => l.includes('stopped right after start'));
    assert.ok(failure !== undefined);
    assert.match(failure, /exit code 3/);
    assert.match(failure, /cannot reach tink server/);
    assert.ok(!h.lines.join('\n').includes(PASSWORD));
  } finally {
    await h.stop();
  }
});

test('a 2-character password never reaches the log, even quoted back by a crashing worker', async () => {
  const h = await harness('docker_registry=reg.test:5000 registry_username=u registry_password=pw');
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  await h.engine.pushStartBehavior({
    exitCode: 3,
    logs: 'env: REGISTRY_PASSWORD=pw\nlogin "pw" rejected for u:pw@reg.test:5000 (pwned? no)\n',
  });
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    const failure = h.lines.find((l) => l.includes('stopped right after start')) ?? '';
    assert.match(failure, /REGISTRY_PASSWORD=\*\*\*/);
    assert.match(failure, /login \\"\*\*\*\\" rejected for u:\*\*\*@reg.test:5000 \(pwned\? no\)/);
    for (const line of h.lines) assert.ok(!/(^|[^\p{L}\p{N}_.-])pw([^\p{L}\p{N}_.-]|$)/u.test(line), line);
  } finally {
    await h.stop();
  }
});

test('invalid settings are reported once, not once per retry cycle', async () => {
  const h = await harness('grpc_authority=[::1 worker_id=x');
  try {
    h.start();
    await waitFor(
      'three cycles',
      () => h.lines.filter((l) => l.includes('neither tink_worker_image')).length >= 3,
    );
    const warnings = h.lines.filter((l) => l.startsWith('level=warn') && l.includes('grpc_authority'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /TINKERBELL_GRPC_AUTHORITY/);
  } finally {
    await h.stop();
  }
});

test('a worker that dies later is noticed by the watch and restarted', async () => {
  const h = await harness('docker_registry=reg.test:5000');
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    await h.engine.crash('tink-worker', 137, 'killed\n');
    await waitFor(
      'a second create',
      async () => (await h.engine.requestsTo('POST', /containers\/create/)).length === 2,
    );
    await waitFor('the worker to run again', workerRunning(h));
    assert.ok(h.lines.some((l) => l.startsWith('level=error') && l.includes('exit code 137')));
  } finally {
    await h.stop();
  }
});

test('without tink_worker_image and docker_registry it logs why and re-reads the command line', async () => {
  const h = await harness('console=ttyS0 worker_id=x');
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  try {
    h.start();
    await waitFor(
      'two complaints',
      () => h.lines.filter((l) => l.includes('neither tink_worker_image')).length >= 2,
    );
    assert.equal((await h.engine.requests()).length, 0, 'the engine is not contacted without an image');
    writeFile(h.cmdlinePath, 'docker_registry=reg.test:5000\n');
    await waitFor('the worker to run', workerRunning(h));
  } finally {
    await h.stop();
  }
});

test('waits for the engine to come up', async () => {
  const h = await harness('docker_registry=reg.test:5000', { engineUp: false });
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  try {
    h.start();
    await waitFor('a complaint', () => h.lines.some((l) => l.includes('does not answer')));
    await h.engine.listen(h.socketPath);
    await waitFor('the worker to run', workerRunning(h));
  } finally {
    await h.stop();
  }
});

test('a running worker with the same configuration is adopted, not recreated', async () => {
  const h = await harness('docker_registry=reg.test:5000 worker_id=w1');
  let worker: FakeContainer | null = null;
  await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
  try {
    h.start();
    await waitFor('the worker to run', workerRunning(h));
    worker = await h.engine.container('tink-worker');
  } finally {
    await h.stop();
  }
  const again = await harness('docker_registry=reg.test:5000 worker_id=w1');
  await again.engine.setContainer(worker!);
  try {
    again.start();
    await waitFor('adoption', () => again.lines.some((l) => l.includes('adopting the running worker')));
    await waitFor(
      'a watch',
      async () => (await again.engine.requestsTo('GET', /tink-worker\/json/)).length >= 2,
    );
    assert.equal((await again.engine.requestsTo('POST', /containers\/create|images\/create/)).length, 0);
  } finally {
    await again.stop();
  }
});

test('publishes what it does for the console: waiting, pulling, failing with the reason, then running', async () => {
  const h = await harness('docker_registry=reg.test:5000');
  try {
    h.start();
    await waitFor('a failed pull', () => h.states.some((s) => s.phase === 'failing'));
    await h.engine.setPullable('reg.test:5000/tink-worker:latest', undefined);
    await waitFor('the worker to run', () => h.states.some((s) => s.phase === 'running'));
    const image = 'reg.test:5000/tink-worker:latest';
    const phases = h.states.map((s) => s.phase);
    const firstFailure = phases.indexOf('failing');
    assert.deepEqual(phases.slice(0, firstFailure + 1), ['waiting', 'pulling', 'failing']);
    const failing = h.states[firstFailure];
    assert.equal(failing?.image, image);
    assert.match(
      failing?.error ?? '',
      /cannot pull reg\.test:5000\/tink-worker:latest and it is not present locally/,
    );
    assert.deepEqual(phases.slice(-4), ['waiting', 'pulling', 'starting', 'running']);
    const running = h.states.at(-1);
    const container = (await h.engine.container('tink-worker'))?.id ?? '';
    assert.deepEqual(running, { phase: 'running', image, container: container.slice(0, 12) });
    // The worker dies: the watch publishes why.
    await h.engine.crash('tink-worker', 2, 'lost the server\n');
    await waitFor('the crash', () => h.states.at(-1)?.phase !== 'running');
    const crashed = h.states.find((s, i) => i > phases.length - 1 && s.phase === 'failing');
    assert.match(crashed?.error ?? '', /exit code 2/);
  } finally {
    await h.stop();
  }
});
