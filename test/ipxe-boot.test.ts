/**
 * iPXE over HTTP, as Smee does it: QEMU's own iPXE ROM (Debian ipxe-qemu, on the virtio NIC,
 * SeaBIOS) gets from QEMU's DHCP (`bootfile=`) the URL of Smee's script on a loopback HTTP
 * server, runs it — Smee's kernel line, then `kernel`, `initrd` and `boot` over HTTP from the
 * build's output folder — and HookOS boots with 768 MiB of RAM. With Smee's `console=tty0
 * console=ttyS1,115200` the console is the second serial port (`-serial null -serial stdio`).
 *
 * One boot checks what no other test does:
 * - the HTTP server saw the script, the kernel and the initramfs fetched whole;
 * - `/proc/cmdline` is the script's kernel line, byte for byte;
 * - the console status (hook-status): written onto the idle console by itself when tink-worker
 *   starts running (nothing typed), `/run/hook/status` naming the NIC and its address, the
 *   server, the image; a new address appears on an idle console by itself, but never over a
 *   half-typed command line (it comes with that command's next prompt); a removed worker shows
 *   as failing with its error, then running again;
 * - the worker's environment carries Smee's `tinkerbell_insecure_tls` and identity.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { printConsoleTail } from './helpers/boot.ts';
import { startVm, type Vm } from './helpers/qemu/vm.ts';
import { startRegistry } from './helpers/registry.ts';
import { type SmeeHookScript, smeeHookScript, smeeKernelCmdline } from './helpers/smee-ipxe.ts';
import { tempDir } from './helpers/temp-dir.ts';
import {
  buildHookOs,
  HOST_FROM_GUEST,
  PROMPT,
  parseWorkerReport,
  pushTestImage,
  sh,
  WORKER_MAC,
} from './helpers/worker-images.ts';

/** The smallest memory this image is to boot in (the budget work aims at it). */
const MEMORY_MIB = 768;

interface Served {
  path: string;
  status: number;
  bytes: number;
}

/** Smee's HTTP side: the script at /<mac>/auto.ipxe, the artifacts from the output folder. */
async function startSmeeHttp(t: TestContext, outDir: string, script: () => string) {
  const served: Served[] = [];
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const done = (status: number, bytes: number) => served.push({ path, status, bytes });
    if (path === `/${WORKER_MAC}/auto.ipxe`) {
      const body = Buffer.from(script());
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.byteLength });
      response.end(body, () => done(200, body.byteLength));
      return;
    }
    const name = /^\/(vmlinuz|initramfs)-x86_64$/.test(path) ? path.slice(1) : undefined;
    if (name === undefined) {
      response.writeHead(404).end(() => done(404, 0));
      return;
    }
    const file = join(outDir, name);
    stat(file).then(
      (info) => {
        response.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
        let bytes = 0;
        const stream = createReadStream(file);
        stream.on('data', (chunk) => {
          bytes += chunk.length;
        });
        stream.pipe(response);
        response.on('finish', () => done(200, bytes));
      },
      () => response.writeHead(404).end(() => done(404, 0)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, served };
}

/** `/proc/cmdline` is exactly `expected` (compared by length and SHA-256: the console may wrap). */
async function assertCmdline(vm: Vm, expected: string): Promise<void> {
  const bytes = Buffer.from(`${expected}\n`);
  const [size, hash] = (await sh(vm, 'echo $(wc -c < /proc/cmdline) $(sha256sum < /proc/cmdline)')).split(
    /\s+/,
  );
  if (Number(size) !== bytes.byteLength || hash !== createHash('sha256').update(bytes).digest('hex')) {
    assert.fail(`/proc/cmdline:\n${await sh(vm, 'cat /proc/cmdline')}\nexpected:\n${expected}`);
  }
}

const seconds = (from: number, to = Date.now()) => ((to - from) / 1000).toFixed(0);

test('iPXE over HTTP as Smee does it: the script, Smee’s kernel line on ttyS1, 768 MiB, tink-worker, the live console status', {
  timeout: 30 * 60_000,
}, async (t) => {
  const work = await tempDir('hook-ipxe-', { keepOnFailure: true });
  const [os, registry] = await Promise.all([buildHookOs(), startRegistry(t)]);
  await pushTestImage('worker', registry.host, 'test/worker:1');
  const registryFromGuest = `${HOST_FROM_GUEST}:${registry.host.split(':')[1]}`;
  let downloadPort = 0;
  const machine = (): SmeeHookScript => ({
    arch: 'x86_64',
    downloadUrl: `http://${HOST_FROM_GUEST}:${downloadPort}`,
    facility: 'onprem',
    syslogHost: HOST_FROM_GUEST,
    grpcAuthority: `${HOST_FROM_GUEST}:42113`,
    tinkerbellTls: false,
    tinkerbellInsecureTls: false,
    workerId: WORKER_MAC,
    hwAddr: WORKER_MAC,
    vlanId: '',
    extraKernelParams: [
      `tink_worker_image=${registryFromGuest}/test/worker:1`,
      `insecure_registries=${registryFromGuest}`,
      // No NTP server is reachable, and no public one may be asked.
      'systemd.mask=systemd-timesyncd.service',
      'systemd.mask=systemd-time-wait-sync.service',
    ],
    retries: 10,
    retryDelay: 3,
  });
  const http = await startSmeeHttp(t, os.outDir, () => smeeHookScript(machine()));
  downloadPort = http.port;
  const scriptUrl = `http://${HOST_FROM_GUEST}:${http.port}/${WORKER_MAC}/auto.ipxe`;

  const boot = async (retry: boolean): Promise<void> => {
    const started = Date.now();
    const vm = startVm({
      arch: 'x86_64',
      memoryMiB: MEMORY_MIB,
      cpus: 2,
      network: false,
      // ttyS0 carries nothing (Debian's iPXE ROM prints no serial output, Linux is on ttyS1).
      serialBefore: ['null'],
      extraArgs: [
        '-netdev',
        `user,id=n0,bootfile=${scriptUrl}`,
        '-device',
        `virtio-net-pci,netdev=n0,mac=${WORKER_MAC},bootindex=1`,
      ],
      logFile: join(work, `console${retry ? '-retry' : ''}.log`),
      echo: process.env.HOOK_TEST_ECHO === '1',
    });
    try {
      await vm.waitFor(/Linux version \d/, { timeoutMs: 8 * 60_000 });
      const kernelAt = Date.now();
      const prompt = await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
      const promptAt = Date.now();

      // What iPXE fetched: the script, then both artifacts whole.
      const sizes = {
        vmlinuz: (await stat(join(os.outDir, 'vmlinuz-x86_64'))).size,
        initramfs: (await stat(join(os.outDir, 'initramfs-x86_64'))).size,
      };
      assert.deepEqual(
        http.served.map((s) => `${s.status} ${s.path} ${s.bytes}`),
        [
          `200 /${WORKER_MAC}/auto.ipxe ${Buffer.byteLength(smeeHookScript(machine()))}`,
          `200 /vmlinuz-x86_64 ${sizes.vmlinuz}`,
          `200 /initramfs-x86_64 ${sizes.initramfs}`,
        ],
      );

      // Nothing typed since the prompt: hook-status writes the status onto this idle console
      // when the worker runs.
      const running = await vm.waitFor(/ {2}tink-worker {8}running \(container [0-9a-f]{12}\)/, {
        since: prompt.index,
        timeoutMs: 8 * 60_000,
      });
      const runningAt = Date.now();
      const banner = vm.output(0).slice(0, running.index).lastIndexOf('=== HookOS status: ');
      assert.ok(banner > (prompt.index ?? 0), 'the status was written after the prompt, with its header');
      assert.match(vm.output(banner), /^=== HookOS status: HookOS [^|]+\| kernel \S+ \| \S+ ===/);
      assert.equal(vm.output(prompt.index).slice(0, 200).includes('__HOOK_DONE'), false, 'nothing was typed');

      await assertCmdline(vm, smeeKernelCmdline(machine()));
      assert.match(await sh(vm, 'cat /sys/class/tty/console/active'), /\bttyS1\b/, 'the console is ttyS1');
      const memory = Number(await sh(vm, "awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo"));
      assert.ok(memory > MEMORY_MIB - 100 && memory <= MEMORY_MIB, `${memory} MiB`);

      const status = await sh(vm, 'cat /run/hook/status');
      const nic = await sh(vm, "ip -o -4 addr show scope global | awk '/10\\.0\\.2\\.15/ {print $2}'");
      assert.match(status, new RegExp(`^ {2}${nic} +up {4}${WORKER_MAC} {2}10\\.0\\.2\\.15/24\\b`, 'm'));
      assert.match(status, /^ {2}Tinkerbell server {2}10\.0\.2\.2:42113 \(plain gRPC, no TLS\)$/m);
      assert.match(
        status,
        new RegExp(`^ {2}worker image {7}${registryFromGuest.replaceAll('.', '\\.')}/test/worker:1$`, 'm'),
      );
      assert.match(status, / {2}tink-worker {8}running \(container /);

      // The worker got Smee's identity and TLS settings.
      const report = parseWorkerReport(await sh(vm, 'cat /worker/hook-worker-report.json'));
      for (const entry of [
        `WORKER_ID=${WORKER_MAC}`,
        `TINKERBELL_GRPC_AUTHORITY=${HOST_FROM_GUEST}:42113`,
        'TINKERBELL_TLS=false',
        'TINKERBELL_INSECURE_TLS=false',
      ]) {
        assert.ok(report.env.includes(entry), `${entry} in ${report.env.join(' ')}`);
      }

      // A change while the console is idle: the new address shows up by itself.
      await sh(vm, `{ (sleep 4; ip addr add 192.0.2.10/32 dev ${nic}) >/dev/null 2>&1 & }`);
      const idleSince = vm.mark();
      await vm.waitFor(/ up {4}\S+ {2}10\.0\.2\.15\/24 192\.0\.2\.10\/32/, {
        since: idleSince,
        timeoutMs: 60_000,
      });

      // A change while a command is half typed: nothing is written over it (the address is
      // added 4 s after the next prompt, the status refreshed every 2 s, and 14 s go by); the
      // status comes with the next prompt, after that command's output.
      await sh(vm, `{ (sleep 4; ip addr add 192.0.2.11/32 dev ${nic}) >/dev/null 2>&1 & }`);
      const typedAt = vm.mark();
      vm.send('echo half-typed-');
      await sleep(14_000);
      assert.doesNotMatch(
        vm.output(typedAt),
        /192\.0\.2\.11/,
        'nothing written over a half-typed command line',
      );
      vm.send('done\n');
      const output = await vm.waitFor(/\nhalf-typed-done\n/, { since: typedAt, timeoutMs: 60_000 });
      await vm.waitFor(/ {2}10\.0\.2\.15\/24 192\.0\.2\.10\/32 192\.0\.2\.11\/32 /, {
        since: (output.index ?? 0) + output[0].length,
        timeoutMs: 30_000,
      });
      await vm.waitFor(PROMPT, { since: (output.index ?? 0) + output[0].length, timeoutMs: 30_000 });

      // tink-worker removed: the console shows it failing with the reason, then running again.
      const removed = vm.mark();
      await sh(vm, 'docker rm -f tink-worker >/dev/null');
      await vm.waitFor(
        / {2}tink-worker {8}(failing, retrying: |.*last attempt failed: )the worker container stopped: it no longer exists/,
        {
          since: removed,
          timeoutMs: 2 * 60_000,
        },
      );
      await vm.waitFor(/ {2}tink-worker {8}running \(container [0-9a-f]{12}\)/, {
        since: removed,
        timeoutMs: 3 * 60_000,
      });
      process.stdout.write(
        `# iPXE boot at ${MEMORY_MIB} MiB (${memory} MiB for Linux): kernel started ${seconds(started, kernelAt)} s after QEMU (SeaBIOS, iPXE, script, ${((sizes.vmlinuz + sizes.initramfs) / 1e6).toFixed(0)} MB over HTTP), prompt ${seconds(started, promptAt)} s, tink-worker running on the idle console ${seconds(started, runningAt)} s, all checks done ${seconds(started)} s\n`,
      );
    } catch (error) {
      printConsoleTail(vm);
      // QEMU's multi-threaded TCG can crash the guest while it patches its own code (DESIGN.md).
      if (!retry && /Oops: int3/.test(vm.output())) {
        process.stdout.write('# the emulator’s int3 oops; booting once more\n');
        vm.kill();
        await vm.exited;
        http.served.length = 0;
        return boot(true);
      }
      throw error;
    } finally {
      vm.kill();
      await vm.exited;
    }
  };
  await boot(false);
});
