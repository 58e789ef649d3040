/**
 * Boots the default aarch64 image under `qemu-system-aarch64 -machine virt` (software
 * emulation) and checks what every published architecture must do: the early boot unpacks the
 * OS, systemd reaches `running` with no failed unit, the NIC gets a DHCP lease, Docker answers.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { withBootedOs } from './helpers/boot.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { tempDir } from './helpers/temp-dir.ts';

const PROMPT = /hookos:[^\n]*# /;

test('the default aarch64 image boots to a working HookOS', { timeout: 25 * 60_000 }, async () => {
  const image = await buildDefaultOs('aarch64');
  const work = await tempDir('hook-boot-aarch64-', { keepOnFailure: true });
  const started = Date.now();
  await withBootedOs(
    {
      outDir: image.outDir,
      arch: 'aarch64',
      memoryMiB: 2048,
      // No NTP server is reachable from here, and the public pool must not be asked.
      cmdline: 'systemd.mask=systemd-timesyncd.service systemd.mask=systemd-time-wait-sync.service',
      logFile: join(work, 'console.log'),
    },
    async (vm) => {
      await vm.waitFor(/hookos-init: starting systemd/, { timeoutMs: 10 * 60_000 });
      await vm.waitFor(PROMPT, { timeoutMs: 10 * 60_000 });
      const run = (command: string) => vm.run(command, { timeoutMs: 5 * 60_000 });
      assert.equal((await run('uname -m')).output, 'aarch64');
      const state = await run('systemctl is-system-running --wait');
      const failed = await run('systemctl --failed --no-legend --plain');
      assert.equal(failed.output, '', `failed units:\n${failed.output}`);
      assert.equal(state.output, 'running', `system state: ${state.output}`);
      const addresses = await run('ip -4 -o addr show scope global');
      assert.match(addresses.output, /inet 10\.0\.2\.15\/24 .*dynamic/, 'a DHCP lease on the NIC');
      const docker = await run('docker info --format "{{.ServerVersion}} {{.Driver}}"');
      assert.equal(docker.exitCode, 0, docker.output);
      assert.match(docker.output, /^\d+\.\d+.* overlay2$/);
      const uptime = Number((await run('cut -d" " -f1 /proc/uptime')).output);
      process.stdout.write(
        `# boot aarch64: checks done after ${((Date.now() - started) / 1000).toFixed(0)} s wall clock, guest uptime ${uptime.toFixed(0)} s\n`,
      );
    },
  );
});
