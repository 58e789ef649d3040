import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { FakeDockerEngine } from '../../osie/bootkit/fake-docker-engine.ts';
import { parseInstallSection } from '../rootfs/systemd-units.ts';
import { bundleOsie, OSIE_ENABLED_UNITS } from './osie-bundle.ts';

const run = promisify(execFile);

async function writeBundles(): Promise<{ dir: string; path: (name: string) => string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hook-osie-'));
  for (const [imagePath, data] of await bundleOsie()) {
    if (imagePath.endsWith('.js')) await writeFile(join(dir, imagePath.split('/').pop()!), data);
  }
  return { dir, path: (name) => join(dir, name) };
}

test('bundles are byte-identical across runs and hold the units the builder enables', async () => {
  const first = await bundleOsie();
  const second = await bundleOsie();
  assert.deepEqual([...first.keys()], [...second.keys()]);
  for (const [path, data] of first) assert.deepEqual(data, second.get(path), path);
  for (const unit of OSIE_ENABLED_UNITS) {
    const text = new TextDecoder().decode(first.get(`usr/lib/systemd/system/${unit}`));
    assert.ok(parseInstallSection(text).wantedBy.length > 0, `${unit} has an [Install] WantedBy=`);
  }
  const bootkit = new TextDecoder().decode(first.get('usr/lib/hook/hook-bootkit.js'));
  assert.ok(!bootkit.includes(process.cwd()), 'no host path leaks into the bundle');
});

test('every bundle runs under the host Node.js and answers --help', async () => {
  const { dir, path } = await writeBundles();
  try {
    for (const name of ['hook-bootkit', 'hook-docker', 'hook-network']) {
      const { stdout } = await run(process.execPath, [path(`${name}.js`), '--help']);
      assert.match(stdout, new RegExp(`^Usage: ${name}`), name);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the hook-network and hook-docker bundles write their files from a command line', async () => {
  const { dir, path } = await writeBundles();
  try {
    const cmdline = path('cmdline');
    await writeFile(
      cmdline,
      `syslog_host=10.0.2.2 insecure_registries=10.0.2.2:5000 HTTP_PROXY=http://p:3128 interface=eth0${' '.repeat(1024)}\n`,
    );
    const root = path('root');
    await run(process.execPath, [path('hook-network.js'), '--cmdline', cmdline, '--root', root]);
    assert.match(
      await readFile(join(root, 'run/systemd/network/10-hook-dhcp.network'), 'utf8'),
      /Name=eth0\n/,
    );
    await run(process.execPath, [path('hook-docker.js'), '--cmdline', cmdline, '--root', root]);
    assert.deepEqual(JSON.parse(await readFile(join(root, 'etc/docker/daemon.json'), 'utf8')), {
      'log-driver': 'syslog',
      'log-opts': { 'syslog-address': 'udp://10.0.2.2:514', tag: '{{.Name}}' },
      'insecure-registries': ['10.0.2.2:5000'],
    });
    assert.match(
      await readFile(join(root, 'run/hook/docker.env'), 'utf8'),
      /^HTTP_PROXY="http:\/\/p:3128"$/m,
    );
    assert.equal((await stat(join(root, 'run/hook/docker.env'))).mode & 0o777, 0o600);
    assert.ok((await stat(join(root, 'worker'))).isDirectory());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the hook-bootkit bundle starts the worker through an engine socket and stops on SIGTERM', async () => {
  const { dir, path } = await writeBundles();
  const engine = new FakeDockerEngine();
  const socket = path('docker.sock');
  await engine.listen(socket);
  engine.pullable.set('10.0.2.2:5000/tink-worker:latest', undefined);
  await writeFile(
    path('cmdline'),
    'docker_registry=10.0.2.2:5000 registry_password=zz-secret-zz worker_id=m1\n',
  );
  const child = spawn(process.execPath, [
    path('hook-bootkit.js'),
    '--cmdline',
    path('cmdline'),
    '--socket',
    socket,
  ]);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 15_000;
    while (engine.containers.get('tink-worker')?.running !== true) {
      assert.ok(Date.now() < deadline, `the worker never started; output:\n${output}`);
      await sleep(20);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /msg="started the worker container"/);
    assert.ok(!output.includes('zz-secret-zz'));
  } finally {
    child.kill('SIGKILL');
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
});
