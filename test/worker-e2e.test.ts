/**
 * End to end under QEMU (x86_64, TCG): HookOS boots with the command line Smee sends, hook-docker
 * configures the engine (journald log driver, insecure registry), hook-bootkit pulls the test worker
 * from Debian's docker-registry on the host and starts it, and the worker — like tink-worker —
 * runs an action container through the Docker socket that writes a marker onto the virtio disk.
 * In the same boot, two fault cases: the registry is unreachable for the first minute (the
 * worker still starts), and `touch /worker/reboot` reboots the machine.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createExt4Disk, readFileFromExt4, withBootedOs } from './helpers/boot.ts';
import { startRegistry } from './helpers/registry.ts';
import { startSyslogReceiver } from './helpers/syslog.ts';
import { tempDir } from './helpers/temp-dir.ts';
import {
  buildHookOs,
  HOST_FROM_GUEST,
  PROMPT,
  parseWorkerReport,
  pushTestImage,
  sh,
  smeeCmdline,
  startRegistryFront,
  tinkerbellEnv,
  WORKER_MAC,
} from './helpers/worker-images.ts';

const UNREACHABLE_MS = 60_000;

/** The worker's environment as hook-bootkit must set it for this command line. */
const EXPECTED_ENV = [
  'DOCKER_REGISTRY=',
  'REGISTRY_USERNAME=',
  'REGISTRY_PASSWORD=',
  `TINKERBELL_GRPC_AUTHORITY=${HOST_FROM_GUEST}:42113`,
  'TINKERBELL_TLS=false',
  'TINKERBELL_INSECURE_TLS=false',
  `WORKER_ID=${WORKER_MAC}`,
  `ID=${WORKER_MAC}`,
  'HTTP_PROXY=',
  'HTTPS_PROXY=',
  'NO_PROXY=',
];

test('Smee command line: the worker starts with the Tinkerbell contract, runs an action onto the disk, logs reach syslog_host; registry down for a minute; /worker/reboot reboots', {
  timeout: 15 * 60_000,
}, async (t) => {
  const work = await tempDir('hook-worker-e2e-', { keepOnFailure: true });
  const [os, syslog, registry] = await Promise.all([buildHookOs(), startSyslogReceiver(t), startRegistry(t)]);
  await pushTestImage('worker', registry.host, 'test/worker:1');
  await pushTestImage('action', registry.host, 'test/action:1');
  // The guest talks to a front on a port of its own that stays closed for the first minute.
  const front = await startRegistryFront(t, Number(registry.host.split(':')[1]));
  const frontHost = `${HOST_FROM_GUEST}:${front.port}`;
  const disk = join(work, 'disk.img');
  await createExt4Disk(disk, 64);

  const started = Date.now();
  await withBootedOs(
    {
      outDir: os.outDir,
      arch: 'x86_64',
      memoryMiB: 2048,
      disk,
      cmdline: smeeCmdline({ workerImage: `${frontHost}/test/worker:1`, insecureRegistries: [frontHost] }),
      logFile: join(work, 'console.log'),
    },
    async (vm) => {
      await vm.waitFor(PROMPT, { timeoutMs: 6 * 60_000 });
      const promptAt = Date.now();

      // Registry unreachable: hook-bootkit says why and retries.
      let journal = '';
      for (let i = 0; i < 60 && !/cannot pull/.test(journal); i++) {
        journal = (await vm.run('journalctl -u hook-bootkit -o cat --no-pager | tail -n 20')).output;
        if (!/cannot pull/.test(journal)) await sleep(3000);
      }
      assert.match(journal, /cannot pull .*test\/worker:1/, 'hook-bootkit reports the failed pull');
      assert.match(journal, /starting over/, 'and retries');
      const wait = UNREACHABLE_MS - (Date.now() - started);
      if (wait > 0) await sleep(wait);
      assert.equal(front.requests.length, 0, 'nothing reached the registry while it was down');
      await front.open();
      const openedAt = Date.now();

      const reportLine = await syslog.waitFor(/tink-worker.*HOOK-WORKER-REPORT/, { timeoutMs: 4 * 60_000 });
      const workerAt = Date.now();
      const actionLine = await syslog.waitFor(/tink-worker.*HOOK-WORKER-ACTION/, { timeoutMs: 3 * 60_000 });
      assert.match(actionLine.text, /"exitCode":0\}/, `the action failed: ${actionLine.text}`);

      const report = parseWorkerReport(reportLine.text);
      const fromDisk = parseWorkerReport(await sh(vm, 'cat /worker/hook-worker-report.json'));
      assert.deepEqual(fromDisk, report, 'the report on /worker matches the one sent to syslog');

      // The Tinkerbell environment: all 11 variables exactly once, empty ones as KEY=.
      assert.deepEqual(tinkerbellEnv(report.env), [...EXPECTED_ENV].sort());
      // Privileged: the same effective capabilities as root on the host.
      const hostCaps = (await sh(vm, 'grep CapEff /proc/self/status')).split(/\s+/)[1];
      assert.equal(report.capEff, hostCaps, 'the worker has every capability (privileged)');
      assert.notEqual(report.capEff, '00000000a80425fb', "not Docker's default capability set");
      // Host network: the same interfaces as the host, the NIC included.
      const hostNets = (await sh(vm, 'ls /sys/class/net')).split(/\s+/).filter(Boolean).sort();
      assert.deepEqual([...report.netInterfaces].sort(), hostNets);
      assert.ok(
        hostNets.some((name) => /^(en|eth)/.test(name)),
        `a NIC among ${hostNets.join(' ')}`,
      );
      for (const mount of ['/dev', '/worker', '/run', '/var/run/docker.sock']) {
        assert.ok(
          report.mounts.includes(mount),
          `${mount} is mounted in the worker: ${report.mounts.join(' ')}`,
        );
      }
      assert.equal(report.pid1, 'systemd', "the host's PID namespace");
      assert.equal(report.devVda, true, 'the disk is visible under /dev');
      assert.equal(report.dockerSocket, true);

      // The OS's own logs reach syslog_host too (hook-syslog).
      await syslog.waitFor(/component=hook-bootkit msg="the worker container is running"/, {
        timeoutMs: 60_000,
      });
      await syslog.waitFor(/component=hook-docker msg="wrote the Docker engine configuration"/, {
        timeoutMs: 10_000,
      });
      assert.ok(
        front.requests.some((r) => r.path.startsWith('/token')),
        'Docker asked the front for a token',
      );
      assert.ok(
        front.requests.every((r) => !r.credentials),
        'no credentials were sent: none are on the command line',
      );

      // A workflow action asks for a reboot.
      const mark = vm.mark();
      vm.sendLine('touch /worker/reboot');
      await vm.waitFor(/reboot: Restarting system/, { since: mark, timeoutMs: 3 * 60_000 });
      // QEMU runs with -no-reboot: the guest's reboot ends it.
      assert.equal(await vm.exited, 0);
      process.stdout.write(
        `# worker e2e: prompt ${((promptAt - started) / 1000).toFixed(0)} s, registry opened ${((openedAt - started) / 1000).toFixed(0)} s, worker report ${((workerAt - started) / 1000).toFixed(0)} s, total ${((Date.now() - started) / 1000).toFixed(0)} s after QEMU start\n`,
      );
    },
  );
  const marker = (await readFileFromExt4(disk, '/hook-action-marker')).toString('utf8');
  assert.equal(marker, `hook-action-marker worker_id=${WORKER_MAC}\n`);
  assert.ok(
    syslog.lines().some((line) => /hook test worker: running the action/.test(line)),
    "the worker's other log lines arrived too",
  );
});
