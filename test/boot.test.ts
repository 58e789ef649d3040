/**
 * Boots the default x86_64 image under QEMU and checks, from the serial console, what the
 * issue asks of the booted OS: multi-user.target with no failed unit, a DHCP lease, the clock,
 * module loading, udev's disk links, Docker, identity and console autologin.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createRawDisk, withBootedOs } from './helpers/boot.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { tempDir } from './helpers/temp-dir.ts';

const PROMPT = /hookos:[^\n]*# /;

test('the default x86_64 image boots to a working HookOS', { timeout: 20 * 60_000 }, async () => {
  const image = await buildDefaultOs('x86_64');
  const work = await tempDir('hook-boot-', { keepOnFailure: true });
  const disk = join(work, 'disk.img');
  await createRawDisk(disk, 64);
  const started = Date.now();
  await withBootedOs(
    {
      outDir: image.outDir,
      arch: 'x86_64',
      memoryMiB: 2048,
      disk: { file: disk, serial: 'hooktestdisk' },
      // No NTP server is reachable from here, and the default public pool must not be asked:
      // the clock comes from the virtual RTC.
      cmdline: 'systemd.mask=systemd-timesyncd.service systemd.mask=systemd-time-wait-sync.service',
      logFile: join(work, 'console.log'),
    },
    async (vm) => {
      // Console autologin: a root shell appears without anyone typing a password.
      await vm.waitFor(PROMPT, { timeoutMs: 8 * 60_000 });
      const run = async (command: string) => {
        const result = await vm.run(command, { timeoutMs: 3 * 60_000 });
        return result;
      };
      const state = await run('systemctl is-system-running --wait');
      const failed = await run('systemctl --failed --no-legend --plain');
      assert.equal(failed.output, '', `failed units:\n${failed.output}`);
      assert.equal(state.output, 'running', `system state: ${state.output}`);
      assert.equal((await run('systemctl is-active multi-user.target')).output, 'active');

      const addresses = await run('ip -4 -o addr show scope global');
      assert.match(addresses.output, /inet 10\.0\.2\.15\/24 .*dynamic/, 'a DHCP lease on the NIC');
      assert.match((await run('resolvectl dns')).output, /10\.0\.2\.3/, 'DNS server from DHCP');

      const guestClock = Number((await run('date +%s')).output);
      assert.ok(Math.abs(guestClock - Date.now() / 1000) < 300, `guest clock ${guestClock} is off`);
      assert.match((await run('timedatectl show -p TimeUSec --value')).output, /\d{4}-\d\d-\d\d/);

      const modprobe = await run('modprobe 8021q && grep -c "^8021q " /proc/modules');
      assert.equal(modprobe.exitCode, 0, modprobe.output);
      assert.equal(modprobe.output, '1');

      const byId = await run('ls /dev/disk/by-id/');
      assert.match(byId.output, /\bvirtio-hooktestdisk\b/, 'udev made the by-id link for the disk');

      const docker = await run('docker info --format "{{.ServerVersion}} {{.Driver}}"');
      assert.equal(docker.exitCode, 0, docker.output);
      assert.match(docker.output, /^\d+\.\d+.* overlay2$/);

      // One copy of the OS in RAM: switch_root emptied the initramfs root, so shared memory
      // (the pages of every tmpfs, the initramfs root's included) is what the mounted tmpfs hold.
      const memory = await run(
        'echo $(sed -n "s/^Shmem: *\\([0-9]*\\) kB/\\1/p" /proc/meminfo) $(df -k --output=used -t tmpfs -t devtmpfs | tail -n +2)',
      );
      const [shmemKiB = 0, ...usedKiB] = memory.output.split(/\s+/).map(Number);
      const tmpfsKiB = usedKiB.reduce((a, b) => a + b, 0);
      assert.ok(tmpfsKiB > 200 * 1024, `the OS is in a tmpfs: ${memory.output}`);
      assert.ok(shmemKiB - tmpfsKiB < 32 * 1024, `shared memory beyond the tmpfs mounts: ${memory.output}`);

      assert.match((await run('. /etc/os-release; echo "$NAME $VERSION_ID"')).output, /^HookOS \d/);
      assert.match((await run('hostname')).output, /^hook-525400123456$/, 'hostname derived from the MAC');
      const uptime = Number((await run('cut -d" " -f1 /proc/uptime')).output);
      process.stdout.write(
        `# boot: checks done after ${((Date.now() - started) / 1000).toFixed(0)} s wall clock, guest uptime ${uptime.toFixed(0)} s\n`,
      );
    },
  );
});
