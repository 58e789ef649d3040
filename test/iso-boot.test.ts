/**
 * The ISO boots, patched by Smee: the default images (x86_64, aarch64) and Debian's boot loaders
 * (fetched and verified by our archive client) make `hook-<arch>-efi-initrd.iso`; the test
 * serves it through a reproduction of Smee's copy loop (32 KiB buffers) with a static `ipam=`
 * patch and boots the result, one VM at a time:
 *
 * 1. x86_64 UEFI with Secure Boot (OVMF, Microsoft's keys) from CD: shim → GRUB → kernel, each
 *    verified; locked down, the kernel still loads Debian's signed modules. `/proc/cmdline`
 *    holds the patch; the NIC has the static address and no DHCP lease; hostname and DNS come
 *    from `ipam`; tink-worker (the test worker image, from Debian's docker-registry on the
 *    host) runs with Smee's identity.
 * 2. x86_64 UEFI from a disk (USB stick), quickly: OVMF boots MBR partition 2, GRUB finds the
 *    ISO file system, the kernel starts with the patched line.
 * 3. x86_64 BIOS (SeaBIOS) from CD: ISOLINUX; `/proc/cmdline` is the patched APPEND line byte
 *    for byte, trailing spaces included.
 * 4. x86_64 BIOS from a disk (isohybrid): the MBR starts ISOLINUX; the kernel reads the MBR's
 *    two partitions.
 * 5. aarch64 UEFI (AAVMF) from CD.
 *
 * Smee's ISO consoles are `console=ttyAMA0 console=ttyS0 console=tty0 console=tty1
 * console=ttyS1`: Linux binds the first entry of each driver, so on x86 it talks on ttyS0
 * (unlike Smee's iPXE line, which names only ttyS1); OVMF, GRUB and ISOLINUX write to that
 * port too, so one console shows the whole boot. The guest reaches nothing but 10.0.2.2: NTP
 * units are masked on the command line, DNS and gateway are 10.0.2.2, and boots that need no
 * server run with `restrict=on`. The images are removed afterwards; the console logs stay when
 * a test failed (test/helpers/temp-dir.ts prints the folder's path).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { copyFile, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Arch } from '../src/arch.ts';
import { fetchBootLoaders } from '../src/pipeline/artifacts/boot-loaders.ts';
import { type BuiltIso, buildIso, ISO_MAGIC_STRING } from '../src/pipeline/artifacts/iso.ts';
import { createContext } from '../src/pipeline/context.ts';
import { readLock } from '../src/pipeline/lockfile.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import type { DiskOption, FirmwareOption, NetworkOption } from '../src/qemu/command.ts';
import { printConsoleTail } from './helpers/boot.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { startVm, type Vm } from './helpers/qemu/vm.ts';
import { startRegistry } from './helpers/registry.ts';
import { fullReads, smeeCopy, smeePatch, smeePatchFile } from './helpers/smee.ts';
import { tempDir } from './helpers/temp-dir.ts';
import { HOST_FROM_GUEST, PROMPT, pushTestImage, WORKER_MAC } from './helpers/worker-images.ts';

const STATIC_IP = '10.0.2.50';
const HOSTNAME = 'hook-iso';
const FIRMWARE = {
  x86_64: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  aarch64: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' },
};
/** OVMF built for Secure Boot (SMM) with Microsoft's keys enrolled, as on most servers. */
const SECURE_BOOT_FIRMWARE = {
  code: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd',
  vars: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd',
};

interface PreparedIso {
  arch: Arch;
  iso: BuiltIso;
  /** The image as Smee serves it. */
  patched: string;
  patch: string;
  /** Arguments before the placeholder (the spec's kernel.cmdline). */
  cmdline: string;
}

/** Smee's patch for this machine: static IPAM, the worker image on the host's registry. */
function smeePatchFor(registryHost: string): string {
  return smeePatch(
    {
      extraKernelParams: [
        `tink_worker_image=${registryHost}/test/worker:1`,
        `insecure_registries=${registryHost}`,
        // No NTP server is reachable, and no public one may be asked.
        'systemd.mask=systemd-timesyncd.service',
        'systemd.mask=systemd-time-wait-sync.service',
      ],
      syslog: HOST_FROM_GUEST,
      tinkServerTLS: false,
      tinkServerGRPCAddr: `${HOST_FROM_GUEST}:42113`,
      staticIPAMEnabled: true,
    },
    '',
    WORKER_MAC,
    {
      macAddress: WORKER_MAC,
      ipAddress: STATIC_IP,
      subnetMask: '255.255.255.0',
      defaultGateway: HOST_FROM_GUEST,
      hostname: HOSTNAME,
      nameServers: [HOST_FROM_GUEST],
    },
  );
}

async function writePieces(path: string, pieces: readonly Uint8Array[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (const piece of pieces) await file.write(piece);
  } finally {
    await file.close();
  }
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/**
 * Where the default image of `arch` is: built once per run (the shared caches make it take
 * seconds), or the artifacts of an earlier `hook build -o DIR` named by HOOK_TEST_IMAGE_X86_64 /
 * HOOK_TEST_IMAGE_AARCH64.
 */
async function imageDir(arch: Arch): Promise<string> {
  const given = process.env[`HOOK_TEST_IMAGE_${arch.toUpperCase()}`];
  if (given) return given;
  return (await buildDefaultOs(arch)).outDir;
}

/** Builds the ISO from the default image of `arch` and serves it through Smee's loop into a file. */
async function prepareIso(arch: Arch, work: string, patch: string): Promise<PreparedIso> {
  const outDir = await imageDir(arch);
  const ctx = createContext({ arch, reporter: silentReporter });
  const lock = await readLock(join(outDir, `hook-${arch}.lock`));
  const started = performance.now();
  const { files } = await fetchBootLoaders({ arch, settings: ctx.settings, cacheDir: ctx.cacheDir });
  const fetched = performance.now();
  const iso = buildIso({
    arch,
    vmlinuz: await readFile(join(outDir, `vmlinuz-${arch}`)),
    initramfs: [await readFile(join(outDir, `initramfs-${arch}`))],
    bootLoaders: files,
    cmdline: ctx.spec.kernel.cmdline,
    sourceDateEpoch: lock?.sourceDateEpoch ?? 0,
  });
  const built = performance.now();
  // What boots here is what `hook build` published: the same bytes.
  assert.ok(
    (await readFile(join(outDir, iso.name))).equals(Buffer.concat(iso.pieces)),
    `${iso.name} in ${outDir} is the ISO assembled from the same artifacts and boot loaders`,
  );
  const plain = join(work, iso.name);
  await writePieces(plain, iso.pieces);
  const patched = join(work, `smee-${iso.name}`);
  const buffersPatched = await smeePatchFile(plain, patched, ISO_MAGIC_STRING, patch);
  assert.equal(buffersPatched, iso.magicOffsets.length, 'one 32 KiB buffer patched per placeholder');
  // Byte for byte: the file Smee served equals the image with each placeholder replaced by the
  // patch padded with spaces (and equals the loop run over the in-memory pieces).
  const expected = Buffer.concat(iso.pieces);
  for (const offset of iso.magicOffsets)
    expected.write(patch.padEnd(ISO_MAGIC_STRING.length, ' '), offset, 'latin1');
  const expectedHash = createHash('sha256').update(expected).digest('hex');
  assert.equal(await sha256File(patched), expectedHash);
  const inMemory = createHash('sha256');
  for (const piece of smeeCopy(fullReads(iso.pieces), ISO_MAGIC_STRING, patch)) inMemory.update(piece);
  assert.equal(inMemory.digest('hex'), expectedHash);
  const mb = (name: string) => (statSync(join(outDir, name)).size / 1e6).toFixed(1);
  process.stdout.write(
    `# ${iso.name}: ${(iso.size / 1e6).toFixed(1)} MB (vmlinuz ${mb(`vmlinuz-${arch}`)} MB + initramfs ` +
      `${mb(`initramfs-${arch}`)} MB); boot loaders fetched/read in ` +
      `${(fetched - started).toFixed(0)} ms, ISO assembled in ${(built - fetched).toFixed(0)} ms; placeholders at ${iso.magicOffsets.join(', ')}\n`,
  );
  return { arch, iso, patched, patch, cmdline: ctx.spec.kernel.cmdline };
}

interface BootOptions {
  name: string;
  arch: Arch;
  work: string;
  uefi: boolean;
  /** x86_64 only: OVMF with Secure Boot on (SMM, Microsoft's keys). */
  secureBoot?: boolean;
  cdrom?: string;
  disk?: DiskOption;
  network: NetworkOption;
}

/** Boots from firmware (not `-kernel`), the serial console logged to `<name>-console.log`. */
async function withFirmwareBoot(options: BootOptions, body: (vm: Vm) => Promise<void>): Promise<void> {
  const attempt = async (retry: boolean): Promise<void> => {
    let firmware: FirmwareOption | undefined;
    if (options.uefi) {
      const source = options.secureBoot ? SECURE_BOOT_FIRMWARE : FIRMWARE[options.arch];
      const vars = join(options.work, `${options.name}-vars.fd`);
      await copyFile(source.vars, vars);
      firmware = { code: source.code, vars };
    }
    const vm = startVm({
      arch: options.arch,
      memoryMiB: 2048,
      cpus: 2,
      ...(firmware ? { firmware } : {}),
      ...(options.cdrom ? { cdrom: options.cdrom } : {}),
      disks: options.disk ? [options.disk] : [],
      network: options.network,
      // The Secure Boot build keeps its variables in SMM-protected flash.
      ...(options.secureBoot
        ? { extraArgs: ['-global', 'driver=cfi.pflash01,property=secure,value=on'] }
        : {}),
      logFile: join(options.work, `${options.name}${retry ? '-retry' : ''}-console.log`),
      echo: process.env.HOOK_TEST_ECHO === '1',
    });
    try {
      await body(vm);
    } catch (error) {
      printConsoleTail(vm);
      // QEMU's multi-threaded TCG can crash the guest while it patches its own code (DESIGN.md).
      if (!retry && /Oops: int3/.test(vm.output())) {
        process.stdout.write(`# ${options.name}: the emulator's int3 oops; booting once more\n`);
        vm.kill();
        await vm.exited;
        return attempt(true);
      }
      throw error;
    } finally {
      vm.kill();
      await vm.exited;
    }
  };
  await attempt(false);
}

async function run(vm: Vm, command: string, timeoutMs = 3 * 60_000): Promise<string> {
  const result = await vm.run(command, { timeoutMs });
  assert.equal(result.exitCode, 0, `\`${command}\` failed:\n${result.output}`);
  return result.output;
}

/** `/proc/cmdline` is exactly `expected` (compared by length and SHA-256: the console may wrap). */
async function assertCmdline(vm: Vm, expected: string): Promise<void> {
  const bytes = Buffer.from(`${expected}\n`);
  const [size, hash] = (await run(vm, 'echo $(wc -c < /proc/cmdline) $(sha256sum < /proc/cmdline)')).split(
    /\s+/,
  );
  if (Number(size) !== bytes.byteLength || hash !== createHash('sha256').update(bytes).digest('hex')) {
    const actual = await run(vm, 'cat /proc/cmdline');
    assert.fail(
      `/proc/cmdline (${size} bytes):\n${actual}\nexpected (${bytes.byteLength} bytes):\n${expected}`,
    );
  }
}

/** The kernel command line GRUB makes of the linux line: words joined by single spaces. */
function grubCmdline(prepared: PreparedIso): string {
  return [
    'BOOT_IMAGE=/VMLINUZ',
    ...`${prepared.cmdline} ${prepared.patch}`.split(/\s+/).filter(Boolean),
  ].join(' ');
}

/** What ISOLINUX passes: the APPEND line of the patched image, as it is, then the initrd. */
async function isolinuxCmdline(prepared: PreparedIso): Promise<string> {
  const extent = prepared.iso.layout.files.get('ISOLINUX/ISOLINUX.CFG');
  assert.ok(extent);
  const file = await open(prepared.patched, 'r');
  const buf = Buffer.alloc(extent.size);
  await file.read(buf, 0, extent.size, extent.lba * 2048);
  await file.close();
  const append = buf
    .toString('latin1')
    .split('\n')
    .find((line) => line.startsWith('  APPEND '));
  if (!append?.includes(prepared.patch)) assert.fail(`no patched APPEND line in:\n${buf.toString('latin1')}`);
  return `BOOT_IMAGE=/VMLINUZ ${append.slice('  APPEND '.length)} initrd=/INITRAMFS`;
}

async function checkStaticIpam(vm: Vm): Promise<void> {
  const addresses = await run(vm, 'ip -4 -o addr show scope global');
  assert.match(addresses, new RegExp(`inet ${STATIC_IP.replaceAll('.', '\\.')}/24 `), addresses);
  assert.doesNotMatch(addresses, /dynamic/, `a DHCP lease: ${addresses}`);
  assert.equal(await run(vm, 'ls /run/systemd/netif/leases/ | wc -l'), '0', 'no DHCP lease file');
  assert.equal(await run(vm, 'hostname'), HOSTNAME);
  assert.match(
    await run(vm, 'resolvectl dns'),
    new RegExp(`\\b${HOST_FROM_GUEST.replaceAll('.', '\\.')}\\b`),
  );
  assert.match(
    await run(vm, 'ip -4 route show default'),
    new RegExp(`default via ${HOST_FROM_GUEST.replaceAll('.', '\\.')}`),
  );
}

test('hook-<arch>-efi-initrd.iso, patched by Smee, boots under UEFI and BIOS', {
  timeout: 45 * 60_000,
}, async (t: TestContext) => {
  const work = await tempDir('hook-iso-boot-', { keepOnFailure: true });
  t.after(async () => {
    // ~200 MB each; the console logs stay for a look after a failure.
    for (const name of await readdir(work)) {
      if (/\.(iso|fd)$/.test(name)) await rm(join(work, name), { force: true });
    }
  });
  const registry = await startRegistry(t);
  await pushTestImage('worker', registry.host, 'test/worker:1');
  const registryFromGuest = `${HOST_FROM_GUEST}:${registry.host.split(':')[1]}`;
  const patch = smeePatchFor(registryFromGuest);
  assert.ok(patch.length <= ISO_MAGIC_STRING.length, `patch of ${patch.length} bytes`);
  const x86 = await prepareIso('x86_64', work, patch);
  const timings: string[] = [];

  await t.test(
    'x86_64 UEFI Secure Boot from CD: shim → GRUB → kernel verified; patch, static ipam, tink-worker',
    async () => {
      const started = Date.now();
      await withFirmwareBoot(
        {
          name: 'uefi-cd',
          arch: 'x86_64',
          work,
          uefi: true,
          secureBoot: true,
          cdrom: x86.patched,
          network: {},
        },
        async (vm) => {
          await vm.waitFor(/BdsDxe: starting Boot\d+ "UEFI QEMU DVD-ROM/, { timeoutMs: 2 * 60_000 });
          await vm.waitFor(/Booting `HookOS'/, { timeoutMs: 2 * 60_000 });
          // shim (Microsoft-signed) verified GRUB, and GRUB had shim verify Debian's kernel.
          await vm.waitFor('EFI stub: UEFI Secure Boot is enabled.', { timeoutMs: 2 * 60_000 });
          await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
          const secureBootVar = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';
          assert.equal(await run(vm, `tail -c 1 ${secureBootVar} | od -An -tu1 | tr -d ' '`), '1');
          assert.match(await run(vm, 'cat /sys/kernel/security/lockdown'), /\[integrity\]/);
          // Locked down, the kernel still loads Debian's signed modules.
          assert.equal(await run(vm, 'modprobe 8021q && grep -c "^8021q " /proc/modules'), '1');
          await assertCmdline(vm, grubCmdline(x86));
          await checkStaticIpam(vm);
          let running = '';
          for (let i = 0; i < 60 && running !== 'true'; i++) {
            running = (
              await vm.run('docker inspect -f "{{.State.Running}}" tink-worker 2>/dev/null')
            ).output.trim();
            if (running !== 'true') await sleep(4000);
          }
          assert.equal(running, 'true', 'tink-worker is running');
          // The test worker reports what it sees once it has started (test/fixtures/worker).
          let report = '';
          for (let i = 0; i < 30 && report === ''; i++) {
            report = (await vm.run('cat /worker/hook-worker-report.json 2>/dev/null')).output.trim();
            if (report === '') await sleep(3000);
          }
          const env = JSON.parse(report).env as string[];
          assert.ok(env.includes(`WORKER_ID=${WORKER_MAC}`), env.join(' '));
          assert.ok(env.includes(`TINKERBELL_GRPC_AUTHORITY=${HOST_FROM_GUEST}:42113`), env.join(' '));
          assert.equal(await run(vm, 'systemctl is-system-running --wait || true'), 'running');
        },
      );
      timings.push(`UEFI Secure Boot CD ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
  );

  await t.test(
    'x86_64 UEFI from a disk (USB stick): the EFI partition, GRUB finds the ISO file system',
    async () => {
      const started = Date.now();
      await withFirmwareBoot(
        {
          name: 'uefi-disk',
          arch: 'x86_64',
          work,
          uefi: true,
          disk: { file: x86.patched, readOnly: true, serial: 'hookstick' },
          network: { restrict: true },
        },
        async (vm) => {
          // The kernel starting with the patched line is what this path adds; the OS is the same.
          await vm.waitFor(/BdsDxe: starting Boot\d+ "UEFI Misc Device/, { timeoutMs: 2 * 60_000 });
          await vm.waitFor(/Booting `HookOS'/, { timeoutMs: 2 * 60_000 });
          const start = grubCmdline(x86).slice(0, 200);
          await vm.waitFor(`Command line: ${start}`, { timeoutMs: 4 * 60_000 });
        },
      );
      timings.push(`UEFI disk ${((Date.now() - started) / 1000).toFixed(0)} s`);
    },
  );

  await t.test('x86_64 BIOS from CD: ISOLINUX passes the patched APPEND line byte for byte', async () => {
    const started = Date.now();
    await withFirmwareBoot(
      { name: 'bios-cd', arch: 'x86_64', work, uefi: false, cdrom: x86.patched, network: { restrict: true } },
      async (vm) => {
        await vm.waitFor(/ISOLINUX 6\.04/, { timeoutMs: 2 * 60_000 });
        await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
        await assertCmdline(vm, await isolinuxCmdline(x86));
        await checkStaticIpam(vm);
      },
    );
    timings.push(`BIOS CD ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  await t.test('x86_64 BIOS from a disk (isohybrid): the MBR starts ISOLINUX', async () => {
    const started = Date.now();
    await withFirmwareBoot(
      {
        name: 'bios-disk',
        arch: 'x86_64',
        work,
        uefi: false,
        disk: { file: x86.patched, readOnly: true, serial: 'hookstick' },
        network: { restrict: true },
      },
      async (vm) => {
        await vm.waitFor(/ISOLINUX 6\.04/, { timeoutMs: 2 * 60_000 });
        await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
        await assertCmdline(vm, await isolinuxCmdline(x86));
        // The kernel's own MBR parser: the whole image and the EFI system image.
        const efi = x86.iso.layout.files.get('BOOT/EFI.IMG');
        const parts = await run(
          vm,
          'cat /sys/block/vda/vda1/start /sys/block/vda/vda1/size /sys/block/vda/vda2/start /sys/block/vda/vda2/size',
        );
        assert.deepEqual(parts.split(/\s+/).map(Number), [
          0,
          x86.iso.size / 512,
          (efi?.lba ?? 0) * 4,
          Math.ceil((efi?.size ?? 0) / 512),
        ]);
      },
    );
    timings.push(`BIOS disk ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  await t.test('aarch64 UEFI from CD: shim + GRUB; patch and static ipam', async () => {
    const arm = await prepareIso('aarch64', work, patch);
    const started = Date.now();
    await withFirmwareBoot(
      {
        name: 'aarch64-uefi-cd',
        arch: 'aarch64',
        work,
        uefi: true,
        cdrom: arm.patched,
        network: { restrict: true },
      },
      async (vm) => {
        await vm.waitFor(/Booting `HookOS'/, { timeoutMs: 5 * 60_000 });
        await vm.waitFor(PROMPT, { timeoutMs: 10 * 60_000 });
        assert.equal(await run(vm, 'uname -m'), 'aarch64');
        await assertCmdline(vm, grubCmdline(arm));
        await checkStaticIpam(vm);
      },
    );
    timings.push(`aarch64 UEFI CD ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  process.stdout.write(`# ISO boots: ${timings.join(', ')}\n`);
});
