/**
 * Proves the QEMU driver (src/qemu/vm.ts) and the boot-test harness (test/helpers/boot.ts)
 * against a real guest that does not depend on our image builder: Debian trixie's kernel
 * and busybox-static, with a tiny initramfs made by the host's `cpio`. The debs come from
 * the mirror in the host's apt sources and are cached (XDG cache, `hook/test-qemu/`), so
 * reruns work offline. Everything boots under TCG unless KVM is usable.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseDeb822, type Stanza } from '../src/debian/deb822.ts';
import { discoverMirrors } from '../src/debian/sources.ts';
import { isHookError } from '../src/errors.ts';
import { liveQemuCount } from '../src/qemu/process.ts';
import { bootOs, createExt4Disk, createRawDisk, readFileFromExt4, withBootedOs } from './helpers/boot.ts';
import { startVm } from './helpers/qemu/vm.ts';
import { tempDir } from './helpers/temp-dir.ts';

const execFileAsync = promisify(execFile);
const SUITE = 'trixie';
const READY = 'HOOK-QEMU-TEST-READY';
const PROMPT = 'hook-test# ';
const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hook', 'test-qemu');

const INIT_SCRIPT = `#!/bin/sh
/bin/busybox mkdir -p /dev /proc /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node: reopen the console now that devtmpfs has one.
exec 0</dev/console 1>/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Kernel messages from here on (a late clocksource switch) would land inside command output.
dmesg -n 1
echo "${READY} uptime=$(cut -d' ' -f1 /proc/uptime)"
export PS1='${PROMPT}'
# A shell on the console; the test powers off with 'poweroff -f' or through QEMU's monitor.
while true; do setsid cttyhack sh; done
`;

interface GuestFiles {
  kernel: string;
  busybox: string;
}

function mirrorUrl(): string {
  const { mirror } = discoverMirrors();
  assert.ok(mirror, 'the host apt sources name no Debian mirror');
  return mirror;
}

async function download(url: string, path: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  await writeFile(`${path}.part`, Buffer.from(await response.arrayBuffer()));
  await rename(`${path}.part`, path);
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The trixie amd64 Packages index, from the cache unless `refresh`. */
async function packagesIndex(refresh: boolean): Promise<Stanza[]> {
  const path = join(cacheDir, `Packages-${SUITE}-amd64`);
  if (refresh || !existsSync(path)) {
    await download(`${mirrorUrl()}/dists/${SUITE}/main/binary-amd64/Packages.xz`, `${path}.xz`);
    await execFileAsync('sh', ['-c', 'xz -dc "$1" > "$2.tmp" && mv "$2.tmp" "$2"', 'sh', `${path}.xz`, path]);
    await rm(`${path}.xz`);
  }
  return parseDeb822(await readFile(path, 'utf8'), path);
}

function stanzaOf(index: Stanza[], name: string): Stanza {
  const stanza = index.find((entry) => entry.Package === name);
  assert.ok(stanza, `${name} is not in the ${SUITE} Packages index`);
  return stanza;
}

/** The kernel image package the `linux-image-amd64` metapackage depends on, and busybox-static. */
function wantedDebs(index: Stanza[]): Stanza[] {
  const meta = stanzaOf(index, 'linux-image-amd64');
  const kernelName = (meta.Depends ?? '').split(/[,|]/)[0]?.trim().split(/\s/)[0];
  assert.ok(kernelName, 'linux-image-amd64 has no Depends');
  return [stanzaOf(index, kernelName), stanzaOf(index, 'busybox-static')];
}

/** Downloads (once) a package named in the index, checking its SHA256. */
async function cachedDeb(stanza: Stanza): Promise<string> {
  const filename = stanza.Filename ?? '';
  const path = join(cacheDir, filename.split('/').pop() ?? '');
  if (!existsSync(path)) await download(`${mirrorUrl()}/${filename}`, path);
  const digest = await sha256File(path);
  if (digest !== stanza.SHA256) {
    await rm(path);
    throw new Error(`${path}: SHA256 ${digest} does not match the index (${stanza.SHA256})`);
  }
  return path;
}

/** Extracts one member of a .deb's data archive, like `dpkg-deb --fsys-tarfile | tar -xO`. */
async function extractFromDeb(deb: string, member: RegExp, to: string): Promise<void> {
  const listing = await execFileAsync('dpkg-deb', ['-c', deb], { maxBuffer: 64 * 1024 * 1024 });
  const path = listing.stdout
    .split('\n')
    .map((line) => line.split(/\s+/)[5] ?? '')
    .find((name) => member.test(name));
  assert.ok(path, `${deb} has no member matching ${member}`);
  await execFileAsync('sh', [
    '-c',
    'dpkg-deb --fsys-tarfile "$1" | tar -xOf - "$2" > "$3"',
    'sh',
    deb,
    path,
    to,
  ]);
}

async function guestFiles(): Promise<GuestFiles> {
  await mkdir(cacheDir, { recursive: true });
  let debs: string[];
  try {
    debs = await Promise.all(wantedDebs(await packagesIndex(false)).map(cachedDeb));
  } catch {
    // The cached index may name packages the mirror has since dropped: refresh it once.
    debs = await Promise.all(wantedDebs(await packagesIndex(true)).map(cachedDeb));
  }
  const [kernelDeb, busyboxDeb] = debs as [string, string];
  // Extracting the kernel means decompressing the whole deb: keep the result beside it.
  const kernel = `${kernelDeb}.vmlinuz`;
  if (!existsSync(kernel)) {
    await extractFromDeb(kernelDeb, /^\.\/boot\/vmlinuz-/, `${kernel}.tmp`);
    await rename(`${kernel}.tmp`, kernel);
  }
  const busybox = `${busyboxDeb}.busybox`;
  if (!existsSync(busybox)) {
    await extractFromDeb(busyboxDeb, /^\.\/usr\/bin\/busybox$/, `${busybox}.tmp`);
    await rename(`${busybox}.tmp`, busybox);
  }
  return { kernel, busybox };
}

/** A newc initramfs with busybox and our /init, written by the host's cpio. */
async function makeInitramfs(busybox: string, workDir: string, to: string): Promise<void> {
  const root = join(workDir, 'initramfs-root');
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'bin', 'busybox'), await readFile(busybox));
  await chmod(join(root, 'bin', 'busybox'), 0o755);
  await symlink('busybox', join(root, 'bin', 'sh'));
  await writeFile(join(root, 'init'), INIT_SCRIPT, { mode: 0o755 });
  await execFileAsync('sh', [
    '-c',
    'cd "$1" && find . | cpio -o -H newc -R 0:0 --quiet > "$2"',
    'sh',
    root,
    to,
  ]);
}

describe('QEMU driver with a Debian kernel and a busybox initramfs', () => {
  let workDir = '';
  let outDir = '';
  let files: GuestFiles;

  before(async () => {
    workDir = await tempDir('hook-qemu-test-', { keepOnFailure: true });
    outDir = join(workDir, 'out');
    await mkdir(outDir);
    files = await guestFiles();
    await writeFile(join(outDir, 'vmlinuz-x86_64'), await readFile(files.kernel));
    await makeInitramfs(files.busybox, workDir, join(outDir, 'initramfs-x86_64'));
  });

  test('boots, runs commands on the console, times out with the console tail, powers off', async (t) => {
    const logFile = join(workDir, 'console-1.log');
    const vm = bootOs({ outDir, arch: 'x86_64', logFile, memoryMiB: 512 });
    try {
      const linux = await vm.waitFor(/Linux version (\S+) /, { timeoutMs: 60_000 });
      const kernelAt = performance.now();
      const ready = await vm.waitFor(new RegExp(`${READY} uptime=([\\d.]+)`), { timeoutMs: 60_000 });
      const readyAt = performance.now();
      await vm.waitFor(PROMPT, { since: ready.index, timeoutMs: 10_000 });
      t.diagnostic(
        `accel=${vm.accel} Linux ${linux[1]}: first kernel line ${((kernelAt - vm.startedAt) / 1000).toFixed(1)} s ` +
          `after start, marker ${((readyAt - vm.startedAt) / 1000).toFixed(1)} s after start ` +
          `(guest uptime ${ready[1]} s)`,
      );

      assert.deepEqual(await vm.run('echo $((6*7))'), { output: '42', exitCode: 0 });
      assert.deepEqual(await vm.run('false'), { output: '', exitCode: 1 });
      assert.deepEqual(await vm.run("printf 'a\\nb\\n'; (exit 3)"), { output: 'a\nb', exitCode: 3 });
      // Longer than the 80-column console: the shell's line editor wraps the echoed command.
      const long = `${'x'.repeat(120)}-${'y'.repeat(60)}`;
      assert.deepEqual(await vm.run(`echo ${long}`), { output: long, exitCode: 0 });
      // The guest sees our virtio devices on its PCI bus (Debian's drivers for them are modules).
      const pci = await vm.run('for d in /sys/bus/pci/devices/*; do echo $(cat $d/vendor $d/device); done');
      assert.match(pci.output, /^0x1af4 0x1000$/m, 'virtio-net');
      assert.match(pci.output, /^0x1af4 0x1005$/m, 'virtio-rng');
      assert.match(await vm.monitor('info network'), /macaddr=52:54:00:12:34:56/);

      const started = performance.now();
      await assert.rejects(vm.waitFor('this never appears', { timeoutMs: 300 }), (error: unknown) => {
        assert.ok(isHookError(error) && error.code === 'E_QEMU');
        assert.match(error.message, /Timed out after 300 ms waiting for \/this never appears\//);
        assert.match(error.message, /Last console lines:\n[\s\S]*a\nb/);
        return true;
      });
      assert.ok(performance.now() - started < 2_000);

      assert.equal(await vm.powerOff(), 0);
      assert.equal(vm.running, false);
      await assert.rejects(vm.waitFor('anything more'), /QEMU exited with code 0 before/);
      assert.throws(() => vm.sendLine('echo too late'), /no longer running/);
      // The log file holds the raw console, flushed by the time `exited` resolved.
      assert.match(await readFile(logFile, 'utf8'), new RegExp(`${READY} uptime=`));
    } finally {
      vm.kill();
      await vm.exited;
    }
    assert.equal(liveQemuCount(), 0);
  });

  test('guest-initiated power-off ends QEMU; a disk is attached with its serial', async () => {
    const disk = join(workDir, 'disk.img');
    await createRawDisk(disk, 16);
    const logFile = join(workDir, 'console-2.log');
    await withBootedOs(
      { outDir, arch: 'x86_64', logFile, memoryMiB: 512, disk: { file: disk, serial: 'hooktest-serial' } },
      async (vm) => {
        await vm.waitFor(PROMPT, { timeoutMs: 60_000 });
        const block = await vm.monitor('info block');
        assert.match(block, new RegExp(`d0[^\\n]*: ${disk.replace(/[.]/g, '\\.')} \\(raw\\)`));
        const qtree = await vm.monitor('info qtree');
        assert.match(qtree, /serial = "hooktest-serial"/);
        // Seen by the guest: the PCI function of the virtio-blk disk.
        assert.match((await vm.run('cat /sys/bus/pci/devices/*/device')).output, /^0x1001$/m);
        vm.sendLine('poweroff -f');
        assert.equal(await vm.exited, 0);
      },
    );
  });

  test('withBootedOs prints the console tail when the body fails and still kills QEMU', async () => {
    const logFile = join(workDir, 'console-3.log');
    const written: string[] = [];
    const originalWrite = process.stderr.write;
    let pid: number | undefined;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await assert.rejects(
        withBootedOs({ outDir, arch: 'x86_64', logFile, memoryMiB: 512 }, async (vm) => {
          pid = vm.pid;
          await vm.waitFor(READY, { timeoutMs: 60_000 });
          throw new Error('the test body failed');
        }),
        /the test body failed/,
      );
    } finally {
      process.stderr.write = originalWrite;
    }
    const printed = written.join('');
    assert.match(printed, /--- last 100 serial console lines \(full log: .*console-3\.log\) ---/);
    assert.match(printed, new RegExp(READY));
    assert.ok(pid !== undefined);
    assert.throws(() => process.kill(pid as number, 0), /ESRCH/);
  });

  test('QEMU that cannot start rejects waitFor with its own error message', async () => {
    const vm = startVm({ arch: 'x86_64', kernel: join(workDir, 'no-such-kernel'), accel: 'tcg' });
    await assert.rejects(vm.waitFor('never', { timeoutMs: 10_000 }), (error: unknown) => {
      assert.ok(isHookError(error));
      assert.match(error.message, /QEMU exited with code 1 before/);
      assert.match(error.message, /no-such-kernel/);
      return true;
    });
    assert.equal(await vm.exited, 1);
  });
});

describe('disk image helpers (e2fsprogs)', () => {
  test('createExt4Disk + readFileFromExt4 round-trip; a missing file is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hook-ext4-test-'));
    try {
      const content = join(dir, 'content');
      await mkdir(join(content, 'var', 'log'), { recursive: true });
      const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      await writeFile(join(content, 'var', 'log', 'result.bin'), payload);
      const image = join(dir, 'fs.img');
      await createExt4Disk(image, 8, { fromDir: content });
      assert.deepEqual(await readFileFromExt4(image, '/var/log/result.bin'), payload);
      await assert.rejects(
        readFileFromExt4(image, '/var/log/missing'),
        /Cannot read \/var\/log\/missing.*not found/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('createRawDisk makes a sparse zero-filled image of the asked size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hook-raw-test-'));
    try {
      const image = join(dir, 'raw.img');
      await createRawDisk(image, 64);
      const info = JSON.parse((await execFileAsync('qemu-img', ['info', '--output=json', image])).stdout);
      assert.equal(info.format, 'raw');
      assert.equal(info['virtual-size'], 64 * 1024 * 1024);
      assert.ok(info['actual-size'] < 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
