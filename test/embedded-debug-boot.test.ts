/**
 * Air-gapped and debuggable, in one boot (x86_64, QEMU TCG): a spec that `extends: default`
 * embeds the test worker image, pulled at build time from Debian's docker-registry on
 * loopback, which is then stopped; it is built with `--debug` and an SSH key made here. The
 * guest has no registry: hook-bootkit's pull fails and tink-worker runs from the embedded
 * image, under the name the spec's `tag:` gave it. Through a port QEMU forwards to the guest's
 * port 22, `ssh -i <key>` runs commands as root (every check below goes that way), and password
 * login is refused. The real Docker engine also gives the embedded layer back (`docker save`)
 * byte for byte, which checks the store's tar-split records.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { withBootedOs } from './helpers/boot.ts';
import { osFiles, unresolvedLibraries } from './helpers/os-files.ts';
import { freePort, startRegistry } from './helpers/registry.ts';
import { tempDir } from './helpers/temp-dir.ts';
import {
  HOST_FROM_GUEST,
  PROMPT,
  parseWorkerReport,
  pushTestImage,
  smeeCmdline,
  testImage,
  tinkerbellEnv,
  WORKER_MAC,
} from './helpers/worker-images.ts';

const execFileAsync = promisify(execFile);

test('extends: default + an embedded worker image + --debug: no registry at boot, tink-worker runs from the embedded image; ssh -i <key> through the forwarded port runs commands', {
  timeout: 25 * 60_000,
}, async (t) => {
  const work = await tempDir('hook-embedded-debug-', { keepOnFailure: true });
  const key = join(work, 'id_ed25519');
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hook-boot-test', '-f', key]);
  const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();

  const registry = await startRegistry(t);
  await pushTestImage('worker', registry.host, 'test/worker:1');
  // The name the worker has in the OS: what Smee would send. Its registry (the host's, port of
  // the stopped registry) refuses connections at boot.
  const workerName = `${HOST_FROM_GUEST}:${registry.host.split(':')[1]}/tinkerbell/tink-worker:embedded`;
  await writeFile(
    join(work, 'hook.yaml'),
    [
      'extends: default',
      'images:',
      `  - ref: ${registry.host}/test/worker:1`,
      `    tag: ${workerName}`,
      'ssh:',
      '  authorizedKeys:',
      `    - ${publicKey}`,
      '',
    ].join('\n'),
  );
  const noBuilderKeys = join(work, 'builder-ssh');
  await mkdir(noBuilderKeys);
  const buildStarted = Date.now();
  const dockerConfig = process.env.DOCKER_CONFIG;
  process.env.DOCKER_CONFIG = join(work, 'docker'); // no credentials of whoever runs the test
  const os = await build({
    specFile: join(work, 'hook.yaml'),
    debug: true,
    sshKeysDir: noBuilderKeys,
    reporter: silentReporter,
  }).finally(() => {
    if (dockerConfig === undefined) delete process.env.DOCKER_CONFIG;
    else process.env.DOCKER_CONFIG = dockerConfig;
  });
  const buildSeconds = (Date.now() - buildStarted) / 1000;
  await registry.stop();
  assert.equal(os.outDir, join(work, 'out-debug'), 'a debug build writes beside the release folder');
  const lock = JSON.parse(await readFile(join(os.outDir, 'hook-x86_64.lock'), 'utf8'));
  const worker = await testImage('worker');
  assert.equal(lock.images?.[0]?.manifest, worker.manifest.digest, 'the lock pins the pulled manifest');
  // The store is cut into chunks like the OS (images, or images-1, images-2...), but never
  // shares one with the OS's files.
  const imageChunks = os.report.segments.filter((s) => /^images(-\d+)?$/.test(s.name));
  assert.ok(imageChunks.length > 0, 'the images travel in segments of their own');
  const imagesSegment = {
    uncompressedBytes: imageChunks.reduce((sum, s) => sum + s.uncompressedBytes, 0),
    compressedBytes: imageChunks.reduce((sum, s) => sum + s.compressedBytes, 0),
  };

  // Every program of the debug OS finds its libraries (sshd-session once lost SQLite to omit:).
  assert.deepEqual(unresolvedLibraries(await osFiles(join(os.outDir, 'initramfs-x86_64'))), []);

  const sshPort = await freePort();
  const ssh = async (command: string, extra: string[] = [], timeoutMs = 120_000) =>
    execFileAsync(
      'ssh',
      [
        ...['-i', key, '-p', String(sshPort), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20'],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'],
        ...extra,
        'root@127.0.0.1',
        command,
      ],
      { encoding: 'utf8', timeout: timeoutMs },
    );

  const started = Date.now();
  await withBootedOs(
    {
      outDir: os.outDir,
      arch: 'x86_64',
      memoryMiB: 2048,
      network: { hostForwards: [{ hostPort: sshPort, guestPort: 22 }] },
      cmdline: smeeCmdline({ workerImage: workerName, insecureRegistries: [] }),
      logFile: join(work, 'console.log'),
    },
    async (vm) => {
      await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
      const promptAt = Date.now();
      // sshd starts once hook-ssh-keygen has made the host keys.
      let reached: { stdout: string } | undefined;
      for (let i = 0; i < 60 && reached === undefined; i++) {
        reached = await ssh('cat /etc/os-release').catch(() => undefined);
        if (reached === undefined) await sleep(5000);
      }
      assert.ok(reached, 'ssh -i <key> root@127.0.0.1 through the forwarded port works');
      const sshAt = Date.now();
      assert.match(reached.stdout, /^VARIANT="debug"$/m);
      assert.match(reached.stdout, /^PRETTY_NAME="HookOS .* \(hookos, debug build\)"$/m);

      // tink-worker runs from the embedded image: the pull failed, nothing was reachable.
      const { stdout: reportText } = await ssh(
        'for i in $(seq 1 100); do [ -s /worker/hook-worker-report.json ] && break; sleep 3; done; cat /worker/hook-worker-report.json',
        [],
        6 * 60_000,
      );
      const workerAt = Date.now();
      const report = parseWorkerReport(reportText);
      assert.ok(tinkerbellEnv(report.env).includes(`WORKER_ID=${WORKER_MAC}`), report.env.join(' '));
      // hook-bootkit says the worker runs once it has checked, a few seconds after starting it.
      const { stdout: bootkit } = await ssh(
        "for i in $(seq 1 40); do journalctl -u hook-bootkit -o cat --no-pager | grep -q 'the worker container is running' && break; sleep 3; done; journalctl -u hook-bootkit -o cat --no-pager",
      );
      assert.match(
        bootkit,
        new RegExp(
          `pull failed; using the image already present locally.*image=${workerName.replace(/[.]/g, '\\.')}.*connection refused`,
        ),
      );
      assert.match(bootkit, /the worker container is running/);
      const { stdout: ps } = await ssh('docker ps');
      assert.match(ps, new RegExp(`${workerName.replace(/[.]/g, '\\.')} .* Up .* tink-worker`));
      const { stdout: images } = await ssh('docker images');
      const named = images
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/))
        .map(([repository, tag, id]) => `${repository}:${tag} ${id}`);
      const shortId = worker.config.digest.slice(7, 19);
      for (const name of [`${registry.host}/test/worker:1`, workerName])
        assert.ok(named.includes(`${name} ${shortId}`), `${name} is image ${shortId}:\n${images}`);

      // The engine gives the layer back byte for byte (docker save): tar-split and the files agree.
      const diffId = (
        JSON.parse(Buffer.from(worker.config.data).toString()) as { rootfs: { diff_ids: string[] } }
      ).rootfs.diff_ids[0] as string;
      // The OS has no curl: socat speaks to the socket (ignoreeof: the request's end of the
      // pipe stays open, or the engine would cancel the export), and tail drops the headers.
      const { stdout: saved } = await ssh(
        [
          `printf 'GET /images/${workerName}/get HTTP/1.0\\r\\n\\r\\n' | socat -,ignoreeof UNIX-CONNECT:/var/run/docker.sock >/tmp/save.http`,
          `n=$(grep -a -n -m1 "^$(printf '\\r')$" /tmp/save.http | cut -d: -f1)`,
          `tail -n +$((n + 1)) /tmp/save.http | tar -xO blobs/sha256/${diffId.slice(7)} | sha256sum`,
        ].join(' && '),
      );
      assert.equal(saved.split(' ')[0], diffId.slice(7), 'docker save gives back the layer as pulled');

      // Root by key only: password and keyboard-interactive login are refused.
      await assert.rejects(
        ssh('true', [
          '-o',
          'PreferredAuthentications=password,keyboard-interactive',
          '-o',
          'PubkeyAuthentication=no',
        ]),
        (error: { stderr?: string }) => /Permission denied \(publickey\)/.test(error.stderr ?? ''),
      );
      // Host keys were made in this boot (none came with the image).
      const { stdout: keygen } = await ssh('journalctl -u hook-ssh-keygen -o cat --no-pager');
      assert.match(keygen, /generating new host keys: RSA ECDSA ED25519/);

      // What the images cost: /init's unpacking of their segment, and their RAM (tmpfs).
      const { stdout: init } = await ssh('dmesg | grep hookos-init');
      // /init logs each cpio payload with the time it took (lanes run at once, so each chunk's
      // own time, not the gap between log lines).
      const chunks = [...init.matchAll(/hookos-init: unpacked \d+-images(-\d+)?\.cpio\.zst in (\d+) ms/g)];
      assert.equal(chunks.length, imageChunks.length, init);
      const unpackSeconds = chunks.reduce((sum, m) => sum + Number(m[2]), 0) / 1000;
      const { stdout: du } = await ssh('du -skx /var/lib/docker/overlay2 /var/lib/docker/image | cut -f1');
      const storeMiB =
        du
          .trim()
          .split('\n')
          .map(Number)
          .reduce((a, b) => a + b, 0) / 1024;
      const mib = imagesSegment.uncompressedBytes / 1048576;
      process.stdout.write(
        `# embedded+debug boot: build ${buildSeconds.toFixed(0)} s; images segment ${mib.toFixed(1)} MiB (${(imagesSegment.compressedBytes / 1048576).toFixed(1)} MiB compressed), unpacked by /init in ${unpackSeconds.toFixed(2)} s (${((unpackSeconds / mib) * 1000).toFixed(0)} ms/MiB), ${storeMiB.toFixed(1)} MiB in RAM; prompt ${((promptAt - started) / 1000).toFixed(0)} s, ssh ${((sshAt - started) / 1000).toFixed(0)} s, worker report ${((workerAt - started) / 1000).toFixed(0)} s after QEMU start\n`,
      );
    },
  );
});
