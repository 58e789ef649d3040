/**
 * The bundles the image carries, run as the OS runs them: Debian trixie's qjs with the flags of
 * the unit files, trixie's socat and bash on PATH (osie/test-runner/runtime.ts), against a test
 * Docker engine on a unix socket and a UDP receiver on loopback.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FakeDockerEngine } from '../osie/bootkit/fake-docker-engine.ts';
import { qjsBuildOptions } from '../osie/bundle-options.ts';
import { OSIE_ENABLED_UNITS, OSIE_REQUIRED_PACKAGES, QJS_FLAGS } from '../osie/manifest.ts';
import { qjsRuntime } from '../osie/test-runner/runtime.ts';
import { osieFiles } from '../src/pipeline/osie.ts';
import { parseInstallSection } from '../src/rootfs/systemd-units.ts';
import { loadSpec } from '../src/specfile/load.ts';

const run = promisify(execFile);

interface Bundles {
  dir: string;
  path: (name: string) => string;
  /** The command that runs a bundle as its unit does, and the environment with trixie's tools. */
  qjs: (name: string, args?: string[]) => [string, string[]];
  env: NodeJS.ProcessEnv;
}

async function writeBundles(): Promise<Bundles> {
  const runtime = await qjsRuntime();
  const dir = await mkdtemp(join(tmpdir(), 'hook-osie-'));
  for (const [treePath, file] of await osieFiles()) {
    if (treePath.endsWith('.js') || treePath.startsWith('usr/bin/')) {
      await writeFile(join(dir, treePath.split('/').pop()!), file.data);
    }
  }
  const [command, ...prefix] = runtime.qjs as [string, ...string[]];
  return {
    dir,
    path: (name) => join(dir, name),
    qjs: (name, args = []) => [command, [...prefix, ...QJS_FLAGS, join(dir, name), ...args]],
    env: { ...process.env, PATH: `${runtime.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  };
}

test('bundles are byte-identical across runs, import only qjs modules, and hold the units the builder enables', async () => {
  const first = new Map([...(await osieFiles())].map(([path, file]) => [path, file.data]));
  const second = new Map([...(await osieFiles())].map(([path, file]) => [path, file.data]));
  assert.deepEqual([...first.keys()], [...second.keys()]);
  for (const [path, data] of first) assert.deepEqual(data, second.get(path), path);
  for (const unit of OSIE_ENABLED_UNITS.filter((u) => first.has(`usr/lib/systemd/system/${u}`))) {
    const text = new TextDecoder().decode(first.get(`usr/lib/systemd/system/${unit}`));
    assert.ok(parseInstallSection(text).wantedBy.length > 0, `${unit} has an [Install] WantedBy=`);
  }
  for (const [path, data] of first) {
    if (!path.endsWith('.js') && !path.startsWith('usr/bin/')) continue;
    const text = new TextDecoder().decode(data);
    const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(imports)].sort(), ['os', 'std'], `${path} imports only qjs's modules`);
    assert.ok(!text.includes(process.cwd()), `no host path leaks into ${path}`);
    assert.ok(!/\brequire\(/.test(text), `${path} has no CommonJS require`);
  }
});

test('the default spec selects every package the OS services and early boot need', () => {
  const { spec } = loadSpec();
  const selected = new Set(spec.packages.map((entry) => (typeof entry === 'string' ? entry : entry.name)));
  for (const required of OSIE_REQUIRED_PACKAGES) {
    assert.ok(selected.has(required.name), `${required.name} (${required.neededBy}: ${required.why})`);
  }
  assert.ok(!selected.has('nodejs'), 'nothing in the OS runs on Node');
});

test('OS code that imports a Node module does not bundle', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hook-osie-node-'));
  try {
    const entry = join(dir, 'main.ts');
    await writeFile(entry, "import { readFileSync } from 'node:fs';\nreadFileSync('/proc/cmdline');\n");
    await assert.rejects(build(qjsBuildOptions(entry)), /Could not resolve "node:fs"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("every bundle runs under trixie's qjs and answers --help; start-up is measured", async (t) => {
  const bundles = await writeBundles();
  try {
    for (const name of ['hook-bootkit', 'hook-docker', 'hook-network', 'hook-syslog']) {
      const [command, args] = bundles.qjs(`${name}.js`, ['--help']);
      const { stdout } = await run(command, args, { env: bundles.env });
      assert.match(stdout, new RegExp(`^Usage: ${name}`), name);
    }
    // /usr/bin/docker runs through its #! line: the kernel passes that line's one argument and
    // the file to /usr/bin/qjs, which must see a module without -m.
    const docker = await readFile(bundles.path('docker'), 'utf8');
    const shebang = docker.split('\n', 1)[0] ?? '';
    assert.equal(shebang, '#!/usr/bin/qjs --no-unhandled-rejection');
    const runtime = await qjsRuntime();
    const [qjs, ...prefix] = runtime.qjs as [string, ...string[]];
    const { stdout } = await run(
      qjs,
      [...prefix, shebang.split(' ')[1] as string, bundles.path('docker'), '--help'],
      {
        env: bundles.env,
      },
    );
    assert.match(stdout, /^Usage: {2}docker /);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const [command, args] = bundles.qjs('hook-docker.js', ['--help']);
      const started = process.hrtime.bigint();
      await run(command, args, { env: bundles.env });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    t.diagnostic(`qjs start-up, hook-docker --help: median ${times[7]?.toFixed(1)} ms (host, through ld.so)`);
  } finally {
    await rm(bundles.dir, { recursive: true, force: true });
  }
});

test('the hook-network and hook-docker bundles write their files from a command line', async () => {
  const bundles = await writeBundles();
  const { path } = bundles;
  try {
    const cmdline = path('cmdline');
    await writeFile(
      cmdline,
      `syslog_host=10.0.2.2 insecure_registries=10.0.2.2:5000 HTTP_PROXY=http://p:3128 interface=eth0${' '.repeat(1024)}\n`,
    );
    const root = path('root');
    await run(...bundles.qjs('hook-network.js', ['--cmdline', cmdline, '--root', root]), {
      env: bundles.env,
    });
    assert.match(
      await readFile(join(root, 'run/systemd/network/10-hook-dhcp.network'), 'utf8'),
      /Name=eth0\n/,
    );
    await run(...bundles.qjs('hook-docker.js', ['--cmdline', cmdline, '--root', root]), { env: bundles.env });
    assert.deepEqual(JSON.parse(await readFile(join(root, 'etc/docker/daemon.json'), 'utf8')), {
      'log-driver': 'journald',
      'log-opts': { tag: '{{.Name}}' },
      'userland-proxy': false,
      'insecure-registries': ['10.0.2.2:5000'],
    });
    assert.match(
      await readFile(join(root, 'run/hook/docker.env'), 'utf8'),
      /^HTTP_PROXY="http:\/\/p:3128"$/m,
    );
    assert.equal((await stat(join(root, 'run/hook/docker.env'))).mode & 0o777, 0o600);
    assert.ok((await stat(join(root, 'worker'))).isDirectory());
  } finally {
    await rm(bundles.dir, { recursive: true, force: true });
  }
});

test('the hook-bootkit bundle starts the worker through an engine socket and stops on SIGTERM', async () => {
  const bundles = await writeBundles();
  const { path } = bundles;
  const engine = new FakeDockerEngine();
  const socket = path('docker.sock');
  await engine.listen(socket);
  engine.pullable.set('10.0.2.2:5000/tink-worker:latest', undefined);
  await writeFile(
    path('cmdline'),
    'docker_registry=10.0.2.2:5000 registry_password=zz-secret-zz worker_id=m1\n',
  );
  const [command, args] = bundles.qjs('hook-bootkit.js', ['--cmdline', path('cmdline'), '--socket', socket]);
  const child = spawn(command, args, { env: bundles.env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (engine.containers.get('tink-worker')?.running !== true) {
      assert.ok(Date.now() < deadline, `the worker never started; output:\n${output}`);
      await sleep(20);
    }
    // The docker command sees what hook-bootkit made, through the same socket.
    const runtime = await qjsRuntime();
    const [qjs, ...prefix] = runtime.qjs as [string, ...string[]];
    const ps = await run(
      qjs,
      [...prefix, '--no-unhandled-rejection', path('docker'), '-H', `unix://${socket}`, 'ps'],
      {
        env: bundles.env,
      },
    );
    assert.match(
      ps.stdout,
      /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES\n0001c{8} +10\.0\.2\.2:5000\/tink-worker:latest .* tink-worker\n$/,
    );
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /msg="started the worker container"/);
    assert.ok(!output.includes('zz-secret-zz'));
  } finally {
    child.kill('SIGKILL');
    await engine.close();
    await rm(bundles.dir, { recursive: true, force: true });
  }
});

test('the hook-syslog bundle sends each journal entry, redacted, as one UDP datagram', async () => {
  const bundles = await writeBundles();
  const { path } = bundles;
  // syslog_host may not be a loopback address; "localhost" is a name, which bash resolves.
  const receiver = createSocket('udp4');
  const datagrams: Buffer[] = [];
  receiver.on('message', (message) => datagrams.push(message));
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  const entries = [
    { MESSAGE: 'first line\nsecond line', PRIORITY: '6', SYSLOG_IDENTIFIER: 'hook-bootkit', _PID: '7' },
    {
      MESSAGE: 'Kernel command line: registry_password=pa55-word-x syslog_host=x',
      PRIORITY: '5',
      SYSLOG_FACILITY: '0',
    },
    { MESSAGE: `long ${'é'.repeat(1500)}`, SYSLOG_IDENTIFIER: 'tink-worker' },
    { MESSAGE: 'the worker said REGISTRY_PASSWORD=pa55-word-x', SYSLOG_IDENTIFIER: 'tink-worker' },
  ];
  await writeFile(path('entries.json'), `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
  // A journalctl that prints these entries and ends, as `journalctl -o json` would.
  const fakeBin = path('bin');
  await run('mkdir', [fakeBin]);
  await writeFile(join(fakeBin, 'journalctl'), `#!/bin/sh\ncat '${path('entries.json')}'\n`);
  await chmod(join(fakeBin, 'journalctl'), 0o755);
  await writeFile(path('cmdline'), `syslog_host=localhost:${port} registry_password=pa55-word-x\n`);
  try {
    const [command, args] = bundles.qjs('hook-syslog.js', ['--cmdline', path('cmdline')]);
    const { stdout } = await run(command, args, {
      env: { ...bundles.env, PATH: `${fakeBin}:${bundles.env.PATH}` },
    });
    assert.match(stdout, /msg="forwarding the journal" syslog_host=localhost:\d+/);
    const deadline = Date.now() + 5000;
    while (datagrams.length < entries.length && Date.now() < deadline) await sleep(10);
    await sleep(100);
    const texts = datagrams.map((d) => d.toString('utf8'));
    assert.equal(texts.length, entries.length, `one datagram per entry:\n${texts.join('\n---\n')}`);
    assert.match(texts[0] ?? '', /^<30>1 - \S+ hook-bootkit 7 - - first line\nsecond line$/);
    assert.match(texts[1] ?? '', /^<5>1 .* - - Kernel command line: registry_password=\*\*\* syslog_host=x$/);
    assert.ok(
      (datagrams[2]?.length ?? 0) < 2200 && (datagrams[2]?.length ?? 0) > 2000,
      'a long entry is cut, not split',
    );
    assert.match(texts[3] ?? '', /REGISTRY_PASSWORD=\*\*\*$/);
    assert.ok(!texts.join('').includes('pa55-word-x'), 'the password never leaves the machine');
  } finally {
    receiver.close();
    await rm(bundles.dir, { recursive: true, force: true });
  }
});
