/**
 * hook-bootkit against the real Docker engine under QEMU (x86_64, TCG), in one boot:
 * 1. a registry with htpasswd auth named by docker_registry: the default image
 *    `<docker_registry>/tink-worker:latest` is pulled with the credentials (the registry's log
 *    shows the user), the worker gets them in its environment and pulls its action with them;
 * 2. the worker image is replaced by one that exits at once: hook-bootkit says why (exit code,
 *    last log lines) and retries;
 * 3. the worker image moves to another registry (tink_worker_image on a second registry,
 *    docker_registry unchanged): the credentials are not sent there.
 * The command line of step 3 is a file bind-mounted over /proc/cmdline: hook-bootkit reads the
 * command line at every attempt, so this stands for a machine booted with it.
 * Throughout, registry_password is on the command line and a syslog receiver runs: not one
 * line it receives holds the password (the kernel's command-line line arrives redacted).
 * (The registry unreachable for a minute and /worker/reboot are in worker-e2e.test.ts.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createExt4Disk, readFileFromExt4, withBootedOs } from './helpers/boot.ts';
import type { Vm } from './helpers/qemu/vm.ts';
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

const USER = { username: 'hookuser', password: 'S3cret-Pass-71' };

/** Polls hook-bootkit's journal until `pattern` matches it; returns the journal. */
async function waitForJournal(vm: Vm, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let journal = '';
  for (;;) {
    journal = (await vm.run('journalctl -u hook-bootkit -o cat --no-pager', { timeoutMs: 60_000 })).output;
    if (pattern.test(journal)) return journal;
    if (Date.now() > deadline)
      assert.fail(`hook-bootkit's journal never matched ${pattern}:\n${journal.slice(-3000)}`);
    await sleep(3000);
  }
}

test('registry credentials go to docker_registry only; a worker that exits at once is retried with the reason logged', {
  timeout: 15 * 60_000,
}, async (t) => {
  const work = await tempDir('hook-worker-faults-', { keepOnFailure: true });
  const [os, syslog, authRegistry, plainRegistry] = await Promise.all([
    buildHookOs(),
    startSyslogReceiver(t),
    startRegistry(t, { auth: USER }),
    startRegistry(t),
  ]);
  await pushTestImage('worker', authRegistry.host, 'tink-worker:latest', USER);
  await pushTestImage('action', authRegistry.host, 'test/action:1', USER);
  await pushTestImage('worker', plainRegistry.host, 'test/worker:1');
  await pushTestImage('action', plainRegistry.host, 'test/action:1');
  const front = await startRegistryFront(t, Number(plainRegistry.host.split(':')[1]));
  await front.open();
  const authHost = `${HOST_FROM_GUEST}:${authRegistry.host.split(':')[1]}`;
  const otherHost = `${HOST_FROM_GUEST}:${front.port}`;
  const disk = join(work, 'disk.img');
  await createExt4Disk(disk, 64);
  const authLogBefore = authRegistry.log().length;

  const started = Date.now();
  await withBootedOs(
    {
      outDir: os.outDir,
      arch: 'x86_64',
      memoryMiB: 2048,
      disk,
      cmdline: smeeCmdline({
        insecureRegistries: [authHost, otherHost],
        extra: `docker_registry=${authHost} registry_username=${USER.username} registry_password=${USER.password}`,
      }),
      logFile: join(work, 'console.log'),
    },
    async (vm) => {
      await vm.waitFor(PROMPT, { timeoutMs: 6 * 60_000 });

      // 1. The default image from docker_registry, pulled with the credentials.
      const reportLine = await syslog.waitFor(/tink-worker.*HOOK-WORKER-REPORT/, { timeoutMs: 5 * 60_000 });
      const workerAt = Date.now();
      const actionLine = await syslog.waitFor(/tink-worker.*HOOK-WORKER-ACTION/, { timeoutMs: 3 * 60_000 });
      assert.match(actionLine.text, /"exitCode":0\}/, `the action failed: ${actionLine.text}`);
      // The worker has the password; the report it printed reached syslog_host redacted.
      const report = parseWorkerReport(await sh(vm, 'cat /worker/hook-worker-report.json'));
      assert.ok(
        tinkerbellEnv(parseWorkerReport(reportLine.text).env).includes('REGISTRY_PASSWORD=***'),
        `the forwarded report is redacted: ${reportLine.text.slice(0, 2000)}`,
      );
      assert.deepEqual(
        tinkerbellEnv(report.env),
        [
          `DOCKER_REGISTRY=${authHost}`,
          `REGISTRY_USERNAME=${USER.username}`,
          `REGISTRY_PASSWORD=${USER.password}`,
          `TINKERBELL_GRPC_AUTHORITY=${HOST_FROM_GUEST}:42113`,
          'TINKERBELL_TLS=false',
          'TINKERBELL_INSECURE_TLS=false',
          `WORKER_ID=${WORKER_MAC}`,
          `ID=${WORKER_MAC}`,
          'HTTP_PROXY=',
          'HTTPS_PROXY=',
          'NO_PROXY=',
        ].sort(),
      );
      const authLog = authRegistry.log().slice(authLogBefore);
      // docker-registry logs "authorized request" only once the htpasswd check has passed.
      assert.match(
        authLog,
        /msg="authorized request"[^\n]*http\.request\.uri="?\/v2\/tink-worker\/manifests\/latest/,
        'the registry authenticated the pull of the worker manifest',
      );
      let journal = await waitForJournal(vm, /the worker container is running/, 60_000);
      assert.match(
        journal,
        new RegExp(`pulling the worker image" image=${authHost}/tink-worker:latest .*sends_login=true`),
      );
      assert.ok(!journal.includes(USER.password), 'the password never reaches the journal');

      // 2. The worker image now exits at once.
      await pushTestImage('crash', authRegistry.host, 'tink-worker:latest', USER);
      await sh(vm, 'docker rm -f tink-worker');
      journal = await waitForJournal(
        vm,
        /stopped right after start \(exit code 3\)[\s\S]*starting over[\s\S]*stopped right after start \(exit code 3\)/,
        4 * 60_000,
      );
      assert.match(journal, /exiting with code 3/, "the worker's last log lines are in the reason");

      // 3. The worker image on another registry: the credentials stay home.
      const cmdline = (await sh(vm, 'cat /proc/cmdline')).trim();
      await sh(vm, `echo '${cmdline} tink_worker_image=${otherHost}/test/worker:1' > /run/hook-test-cmdline`);
      await sh(vm, 'mount --bind /run/hook-test-cmdline /proc/cmdline');
      const since = syslog.mark();
      const otherReport = await syslog.waitFor(/tink-worker.*HOOK-WORKER-REPORT/, {
        since,
        timeoutMs: 3 * 60_000,
      });
      assert.equal(tinkerbellEnv(parseWorkerReport(otherReport.text).env)[0], `DOCKER_REGISTRY=${authHost}`);
      const otherAction = await syslog.waitFor(/tink-worker.*HOOK-WORKER-ACTION/, {
        since,
        timeoutMs: 3 * 60_000,
      });
      assert.match(otherAction.text, /"exitCode":0\}/, `the action failed: ${otherAction.text}`);
      journal = await waitForJournal(
        vm,
        new RegExp(`image=${otherHost}/test/worker:1 .*sends_login=false`),
        10_000,
      );
      assert.ok(
        front.requests.some((r) => /\/manifests\//.test(r.path)),
        'the worker was pulled from the other registry',
      );
      assert.ok(
        front.requests.some((r) => r.path.startsWith('/token')),
        'Docker asked the front for a token',
      );
      assert.deepEqual(
        front.requests.filter((r) => r.credentials),
        [],
        'no request to the other registry carried credentials',
      );
      process.stdout.write(
        `# worker faults: worker report ${((workerAt - started) / 1000).toFixed(0)} s, all cases ${((Date.now() - started) / 1000).toFixed(0)} s after QEMU start\n`,
      );
      // Not one line that reached syslog_host holds the password; the kernel's own
      // command-line line did arrive, redacted.
      const leaked = syslog.lines().filter((line) => line.includes(USER.password));
      assert.deepEqual(leaked, [], 'the registry password reached syslog_host');
      assert.ok(
        syslog.lines().some((line) => /Kernel command line: .*registry_password=\*\*\*/.test(line)),
        'the kernel command line was forwarded, redacted',
      );
      await vm.powerOff();
    },
  );
  const marker = (await readFileFromExt4(disk, '/hook-action-marker')).toString('utf8');
  assert.equal(marker, `hook-action-marker worker_id=${WORKER_MAC}\n`);
});
