/**
 * A private registry with its own CA (the spec's `registries:`), against Debian's real
 * docker-registry serving TLS with a CA made in the test:
 *
 * 1. The built OS carries the CA where Docker looks (/etc/docker/certs.d/<host>/ca.crt) and in
 *    the system bundle, which curl (on the host, as an oracle) needs and is enough for to reach
 *    the registry; `insecure: true` lands in the image's docker-daemon.json.
 * 2. One boot (x86_64): hook-bootkit pulls the worker from that registry over TLS, with no
 *    insecure_registries on the command line, and the worker's action image is pulled through
 *    Docker the same way.
 *
 * The images are pushed to a plain-HTTP registry; the TLS registry serves the same storage
 * (the builder's OCI client trusts only the system's CAs, which the test does not change).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type BuildResult, build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { createExt4Disk, withBootedOs } from './helpers/boot.ts';
import { osFiles, osText } from './helpers/os-files.ts';
import { registryStatus, startRegistry, type TestRegistry } from './helpers/registry.ts';
import { startSyslogReceiver } from './helpers/syslog.ts';
import { tempDir } from './helpers/temp-dir.ts';
import { HOST_FROM_GUEST, PROMPT, pushTestImage, sh, smeeCmdline } from './helpers/worker-images.ts';

const INSECURE_HOST = 'registry.lan:5000';

interface Setup {
  work: string;
  tls: TestRegistry & { caPem: string };
  /** The TLS registry as the guest names it: 10.0.2.2:<port>. */
  guestHost: string;
  os: BuildResult;
}

let pending: Promise<Setup> | undefined;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function setup(): Promise<Setup> {
  pending ??= (async () => {
    const work = await tempDir('hook-registry-tls-', { keepOnFailure: true });
    const plain = await startRegistry();
    cleanups.push(plain.stop);
    await pushTestImage('worker', plain.host, 'test/worker:1');
    await pushTestImage('action', plain.host, 'test/action:1');
    const tls = await startRegistry(undefined, { tls: true, storageDir: plain.storageDir });
    cleanups.push(tls.stop);
    assert.ok(tls.caPem !== undefined);
    const guestHost = `${HOST_FROM_GUEST}:${tls.host.split(':')[1]}`;
    await writeFile(join(work, 'registry-ca.pem'), tls.caPem);
    await writeFile(
      join(work, 'hook.yaml'),
      [
        'extends: default',
        'registries:',
        `  - host: "${guestHost}"`,
        '    ca: registry-ca.pem',
        `  - host: ${INSECURE_HOST}`,
        '    insecure: true',
        '',
      ].join('\n'),
    );
    const os = await build({
      specFile: join(work, 'hook.yaml'),
      arch: 'x86_64',
      outDir: join(work, 'out'),
      reporter: silentReporter,
    });
    return { work, tls: tls as Setup['tls'], guestHost, os };
  })();
  return pending;
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

test('the OS carries the registry CA for Docker and in the system bundle; insecure: true in docker-daemon.json', {
  timeout: 20 * 60_000,
}, async () => {
  const { work, tls, guestHost, os } = await setup();
  // The registry's certificate comes from the test's own CA: nothing trusts it by default.
  await assert.rejects(registryStatus(tls.url), 'the host does not trust the test CA');
  assert.equal(await registryStatus(tls.url, tls.caPem), 200);

  const files = await osFiles(join(os.outDir, 'initramfs-x86_64'));
  const certsD = osText(files, `etc/docker/certs.d/${guestHost}/ca.crt`);
  assert.ok(certsD, `etc/docker/certs.d/${guestHost}/ca.crt is in the OS`);
  assert.equal(fingerprint(certsD), fingerprint(tls.caPem));
  const bundle = osText(files, 'etc/ssl/certs/ca-certificates.crt') ?? '';
  const inBundle = [...bundle.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map(
    (m) => m[0],
  );
  assert.ok(inBundle.length > 100, `Debian's CAs are still there (${inBundle.length})`);
  assert.ok(
    inBundle.some((pem) => fingerprint(pem) === fingerprint(tls.caPem)),
    'the registry CA is in the system bundle',
  );
  assert.deepEqual(JSON.parse(osText(files, 'usr/lib/hook/docker-daemon.json') ?? '{}'), {
    'insecure-registries': [INSECURE_HOST],
  });

  // curl as the oracle: with the OS's bundle it reaches the registry; with the host's own
  // CAs it refuses the certificate (exit 60).
  const bundlePath = join(work, 'os-bundle.crt');
  await writeFile(bundlePath, bundle);
  const curl = (...args: string[]) =>
    spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', ...args, `${tls.url}/v2/`], {
      encoding: 'utf8',
    });
  const trusted = curl('--cacert', bundlePath);
  assert.equal(trusted.status, 0, trusted.stderr);
  assert.equal(trusted.stdout, '200');
  assert.equal(curl().status, 60, 'without the OS bundle curl refuses the certificate');
});

test('boot: the worker is pulled over TLS from the registry with its own CA, no insecure_registries', {
  timeout: 25 * 60_000,
}, async (t) => {
  const { work, tls, guestHost, os } = await setup();
  const syslog = await startSyslogReceiver(t);
  const logBefore = tls.log().length;
  const cmdline = smeeCmdline({ workerImage: `${guestHost}/test/worker:1`, insecureRegistries: [] });
  assert.doesNotMatch(cmdline, new RegExp(`insecure_registries=\\S*${guestHost.replaceAll('.', '\\.')}`));
  // The action writes a marker onto /dev/vda.
  const disk = join(work, 'disk.img');
  await createExt4Disk(disk, 64);
  const started = Date.now();
  await withBootedOs(
    { outDir: os.outDir, arch: 'x86_64', memoryMiB: 2048, disk, cmdline, logFile: join(work, 'console.log') },
    async (vm) => {
      await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
      const promptAt = Date.now();
      await syslog.waitFor(/tink-worker.*HOOK-WORKER-REPORT/, { timeoutMs: 8 * 60_000 });
      const workerAt = Date.now();
      const action = await syslog.waitFor(/tink-worker.*HOOK-WORKER-ACTION/, { timeoutMs: 4 * 60_000 });
      assert.match(
        action.text,
        /"exitCode":0\}/,
        `the action (pulled through Docker over TLS) failed: ${action.text}\n${syslog
          .lines()
          .filter((line) => /hook test worker|dockerd|hook-bootkit/.test(line))
          .slice(-15)
          .join('\n')}`,
      );

      const daemon = JSON.parse(await sh(vm, 'cat /etc/docker/daemon.json')) as Record<string, unknown>;
      assert.deepEqual(
        daemon['insecure-registries'],
        [INSECURE_HOST],
        'the spec insecure registry only; the TLS one is trusted, not insecure',
      );
      // The OS carries no curl (hook.yaml: opt in): Docker's pulls above, of the worker and of
      // the action, are what trusts the registry through the system bundle.

      // The tools a person debugging the machine reaches for: Debian's where a package has
      // them, busybox applets for the rest (awk, vi, ...), and localhost in /etc/hosts.
      assert.equal((await sh(vm, "echo 'a b c' | awk '{ print $2 }'")).trim().split('\n').at(-1), 'b');
      const tools = await sh(
        vm,
        'for t in awk vi netstat ping lsblk dmesg journalctl less; do echo "$t $(readlink -f $(command -v $t))"; done',
      );
      for (const [tool, path] of [
        ['awk', '/usr/bin/busybox'],
        ['vi', '/usr/bin/busybox'],
        ['netstat', '/usr/bin/busybox'],
        ['ping', '/usr/bin/busybox'],
        ['lsblk', '/usr/bin/lsblk'],
        ['dmesg', '/usr/bin/dmesg'],
        ['journalctl', '/usr/bin/journalctl'],
        ['less', '/usr/bin/less'],
      ])
        assert.match(tools, new RegExp(`^${tool} ${path}$`, 'm'), tools);
      assert.match(await sh(vm, 'ping -c 1 -W 2 localhost'), /^PING localhost \((127\.0\.0\.1|::1)\)/m);
      process.stdout.write(
        `# registry TLS boot: prompt ${((promptAt - started) / 1000).toFixed(0)} s, worker report ${((workerAt - started) / 1000).toFixed(0)} s after QEMU start\n`,
      );
    },
  );
  const served = tls.log().slice(logBefore);
  assert.match(
    served,
    /"(GET|HEAD) \/v2\/test\/worker\/manifests\/1 HTTP\/[\d.]+" 200/,
    'the worker came from the TLS registry',
  );
  assert.match(
    served,
    /"(GET|HEAD) \/v2\/test\/action\/manifests\/1 HTTP\/[\d.]+" 200/,
    'and so did the action',
  );
});
