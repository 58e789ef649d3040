/** HookOS's docker command against the test engine (a Node peer on a unix socket), on qjs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FakeContainer } from '../bootkit/fake-engine-types.ts';
import { concatBytes, utf8Decode } from '../lib/platform/bytes.ts';
import { makeTempDir, removeTree } from '../lib/platform/fs.ts';
import { startPeer } from '../test-runner/peer.ts';
import { type CliIo, dockerCli } from './cli.ts';

/** 2023-11-14T22:13:20Z, the test engine's creation time, plus two minutes. */
const NOW = 1_700_000_000_000 + 120_000;

const WORKER: FakeContainer = {
  id: `0001${'c'.repeat(60)}`,
  name: 'tink-worker',
  body: { Image: '10.0.2.2:5000/tink-worker:latest', Env: ['WORKER_ID=m1'] },
  running: true,
  exitCode: 0,
  logs: 'starting worker\nwarning: slow server\nconnected\n',
  command: '/usr/bin/tink-worker --capabilities all',
};
const ACTION: FakeContainer = {
  id: `0002${'a'.repeat(60)}`,
  name: 'action-1',
  body: { Image: 'quay.io/tinkerbell/actions/image2disk:latest', Env: [] },
  running: false,
  exitCode: 0,
  logs: 'wrote 2 GB\n',
  tty: true,
};

interface Run {
  code: number;
  out: string;
  err: string;
}

async function withEngine(
  fn: (
    docker: (...args: string[]) => Promise<Run>,
    socket: string,
    requests: () => Promise<unknown[]>,
  ) => Promise<void>,
): Promise<void> {
  const dir = makeTempDir('hook-docker-cli-');
  const engine = await startPeer('fake-engine');
  const socket = `${dir}/docker.sock`;
  try {
    await engine.call('listen', socket);
    await engine.call('setContainer', WORKER);
    await engine.call('setContainer', ACTION);
    await engine.call('addLocalImage', '10.0.2.2:5000/tink-worker:latest');
    await engine.call('addLocalImage', 'quay.io/tinkerbell/actions/image2disk:latest');
    await engine.call('setPullable', 'docker.io/library/alpine:3.20', null);
    const docker = async (...args: string[]): Promise<Run> => {
      const out: Uint8Array[] = [];
      const err: Uint8Array[] = [];
      const encoder = (list: Uint8Array[]) => (text: string) =>
        list.push(new Uint8Array([...unescape(encodeURIComponent(text))].map((c) => c.charCodeAt(0))));
      const io: CliIo = {
        out: encoder(out),
        err: encoder(err),
        outBytes: (bytes) => out.push(bytes.slice()),
        errBytes: (bytes) => err.push(bytes.slice()),
        now: () => NOW,
        env: (name) => (name === 'DOCKER_HOST' ? `unix://${socket}` : undefined),
      };
      const code = await dockerCli(args, io);
      return { code, out: utf8Decode(concatBytes(out)), err: utf8Decode(concatBytes(err)) };
    };
    await fn(docker, socket, () => engine.call<unknown[]>('requests'));
  } finally {
    await engine.close();
    removeTree(dir);
  }
}

test('ps lists running containers as Docker does; -a adds stopped ones; -q only IDs', async () => {
  await withEngine(async (docker, _socket, requests) => {
    const before = (await requests()).length;
    const ps = await docker('ps');
    assert.equal((await requests()).length, before + 1, 'one request (one socat) for docker ps');
    assert.equal(ps.code, 0);
    assert.equal(
      ps.out,
      'CONTAINER ID   IMAGE                              COMMAND                  CREATED         STATUS         PORTS     NAMES\n' +
        '0001cccccccc   10.0.2.2:5000/tink-worker:latest   "/usr/bin/tink-worke…"   2 minutes ago   Up 2 minutes             tink-worker\n',
    );
    const all = await docker('ps', '-a');
    assert.match(
      all.out,
      /^0002aaaaaaaa +quay\.io\/tinkerbell\/actions\/image2disk:latest .* Exited \(0\) 1 second ago +action-1$/m,
    );
    assert.equal((await docker('ps', '-aq')).out, '0001cccccccc\n0002aaaaaaaa\n');
    assert.equal((await docker('container', 'ls', '-q')).out, '0001cccccccc\n');
  });
});

test('images: one row per tag, newest first, sizes and ages as Docker prints them', async () => {
  await withEngine(async (docker) => {
    const images = await docker('images');
    assert.equal(images.code, 0);
    const lines = images.out.split('\n');
    assert.match(lines[0] ?? '', /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
    // Created one second later: 119 s ago is "About a minute" for go-units.
    assert.match(
      lines[1] ?? '',
      /^quay\.io\/tinkerbell\/actions\/image2disk +latest +[0-9a-f]{12} +About a minute ago +72\.6MB$/,
    );
    assert.match(
      lines[2] ?? '',
      /^10\.0\.2\.2:5000\/tink-worker +latest +[0-9a-f]{12} +2 minutes ago +72\.6MB$/,
    );
  });
});

test('logs: stdout and stderr apart, --tail, -f streams until the container stops, a TTY container raw', async () => {
  await withEngine(async (docker) => {
    const logs = await docker('logs', 'tink-worker');
    assert.equal(logs.code, 0);
    assert.equal(logs.out, 'starting worker\nconnected\n');
    assert.equal(logs.err, 'warning: slow server\n');
    assert.equal((await docker('logs', '--tail', '1', 'tink-worker')).out, 'connected\n');
    assert.equal((await docker('logs', '-n', '1', 'tink-worker')).out, 'connected\n');
    const followed = await docker('logs', '-f', 'tink-worker');
    assert.equal(followed.out, 'starting worker\nconnected\n');
    assert.equal(followed.err, 'warning: slow server\n');
    assert.equal((await docker('logs', 'action-1')).out, 'wrote 2 GB\n');
    const missing = await docker('logs', 'nope');
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'Error response from daemon: No such container: nope\n');
    assert.equal((await docker('logs', '--tail', 'x', 'tink-worker')).code, 125);
  });
});

test('inspect: an indented JSON array, -f templates (the PID for nsenter), images too, missing names', async () => {
  await withEngine(async (docker) => {
    const inspect = await docker('inspect', 'tink-worker');
    assert.equal(inspect.code, 0);
    assert.match(inspect.out, /^\[\n {4}\{\n {8}"Id": "0001c+",\n/);
    const parsed = JSON.parse(inspect.out) as { Name: string; State: { Pid: number } }[];
    assert.equal(parsed[0]?.Name, '/tink-worker');
    assert.equal((await docker('inspect', '-f', '{{.State.Pid}}', 'tink-worker')).out, '4242\n');
    assert.equal(
      (await docker('inspect', '--format={{json .Config.Env}}', 'tink-worker')).out,
      '["PATH=/usr/bin","WORKER_ID=m1"]\n',
    );
    const image = await docker('inspect', '10.0.2.2:5000/tink-worker:latest');
    assert.match(image.out, /"Id": "sha256:10\.0\.2\.2:5000\/tink-worker:latest"/);
    const missing = await docker('inspect', 'tink-worker', 'nope');
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'Error: No such object: nope\n');
    assert.equal((JSON.parse(missing.out) as unknown[]).length, 1);
    const bad = await docker('inspect', '-f', '{{range .Config.Env}}{{.}}{{end}}', 'tink-worker');
    assert.equal(bad.code, 125);
    assert.match(bad.err, /not supported here/);
  });
});

test('stop, start, restart, kill, rm and rmi print each name; failures say why and exit 1', async () => {
  await withEngine(async (docker) => {
    assert.deepEqual(await docker('stop', '-t', '1', 'tink-worker'), {
      code: 0,
      out: 'tink-worker\n',
      err: '',
    });
    assert.equal((await docker('ps', '-q')).out, '');
    assert.deepEqual(await docker('start', 'tink-worker'), { code: 0, out: 'tink-worker\n', err: '' });
    assert.deepEqual(await docker('restart', 'tink-worker'), { code: 0, out: 'tink-worker\n', err: '' });
    assert.deepEqual(await docker('kill', 'tink-worker'), { code: 0, out: 'tink-worker\n', err: '' });
    const rm = await docker('rm', '-f', 'tink-worker', 'nope');
    assert.equal(rm.code, 1);
    assert.equal(rm.out, 'tink-worker\n');
    assert.equal(rm.err, 'Error response from daemon: No such container: nope\n');
    assert.equal((await docker('ps', '-aq')).out, '0002aaaaaaaa\n');
    const rmi = await docker('rmi', 'quay.io/tinkerbell/actions/image2disk:latest');
    assert.equal(
      rmi.out,
      'Untagged: quay.io/tinkerbell/actions/image2disk:latest\nDeleted: sha256:feedface\n',
    );
  });
});

test('pull: status lines without progress bars, then the full reference; a failed pull exits 1', async () => {
  await withEngine(async (docker) => {
    const pull = await docker('pull', 'alpine:3.20');
    assert.equal(pull.code, 0, pull.err);
    assert.equal(
      pull.out,
      'Pulling from docker.io/library/alpine:3.20\nStatus: Downloaded newer image for docker.io/library/alpine:3.20\ndocker.io/library/alpine:3.20\n',
    );
    const failed = await docker('pull', '10.0.2.2:5000/missing');
    assert.equal(failed.code, 1);
    assert.match(failed.out, /^Using default tag: latest\n/);
    assert.match(
      failed.err,
      /^Error response from daemon: pull 10\.0\.2\.2:5000\/missing:latest failed: manifest unknown\n$/,
    );
  });
});

test('version and info, plain and with --format (as the boot tests use it)', async () => {
  await withEngine(async (docker) => {
    assert.equal(
      (await docker('info', '--format', '{{.ServerVersion}} {{.Driver}}')).out,
      '26.1.5 overlay2\n',
    );
    const info = await docker('info');
    assert.match(info.out, /^ Server Version: 26\.1\.5$/m);
    assert.match(info.out, /^ Total Memory: 2GiB$/m);
    assert.match(info.out, /^ Insecure Registries:\n {2}10\.0\.2\.2:5000$/m);
    assert.equal((await docker('version', '-f', '{{.Server.Version}}')).out, '26.1.5\n');
    assert.match((await docker('version')).out, /^ containerd:\n {2}Version: {10}1\.7\.24$/m);
  });
});

test('help, commands that are not here (exec says how to use nsenter), usage errors, no engine', async () => {
  await withEngine(async (docker, socket) => {
    const help = await docker('--help');
    assert.equal(help.code, 0);
    for (const command of [
      'ps',
      'logs',
      'images',
      'inspect',
      'rm',
      'restart',
      'stop',
      'start',
      'pull',
      'version',
      'info',
    ]) {
      assert.match(help.out, new RegExp(`^ {2}${command} `, 'm'), command);
    }
    assert.match(help.out, /nsenter -t \$\(docker inspect -f '\{\{\.State\.Pid\}\}' tink-worker\) -a sh/);
    const exec = await docker('exec', '-it', 'tink-worker', 'sh');
    assert.equal(exec.code, 1);
    assert.match(exec.err, /docker exec is not available in HookOS.*\n {2}nsenter -t/);
    assert.equal((await docker('frobnicate')).code, 125);
    const badFlag = await docker('ps', '--bogus');
    assert.equal(badFlag.code, 125);
    assert.match(badFlag.err, /^unknown flag: --bogus\nUsage: {2}docker ps/);
    assert.equal((await docker('ps', '--help')).out, 'Usage:  docker ps [-a] [-q] [--no-trunc]\n');
    const down = await docker('-H', `unix://${socket}.gone`, 'ps');
    assert.equal(down.code, 1);
    assert.match(
      down.err,
      new RegExp(
        `^Cannot connect to the Docker daemon at unix://${socket}\\.gone\\. Is the docker daemon running\\?`,
      ),
    );
  });
});
