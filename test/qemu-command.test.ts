/**
 * The oracle for src/qemu/command.ts: QEMU itself accepts the command lines the pure function
 * builds, and builds the machine described (its HMP monitor answers).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { qemuCommand } from '../src/qemu/command.ts';
import { MonitorClient } from './helpers/qemu/monitor.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

// The oracle: QEMU itself accepts the command line and builds the machine we described.
describe('QEMU accepts the generated command lines', () => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    test(`${arch}: machine starts (halted) with our devices`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hook-qemu-cmd-'));
      try {
        // An x86 kernel that is not a bzImage loads as a protocol-0 image (without initrd).
        const kernel = join(dir, 'kernel,with-comma');
        await writeFile(kernel, Buffer.alloc(65536));
        const disk = join(dir, 'disk.img');
        await writeFile(disk, Buffer.alloc(1024 * 1024));
        const monitorSocket = join(dir, 'mon.sock');
        const { binary, args } = qemuCommand({
          arch,
          kernel,
          memoryMiB: 128,
          disks: [{ file: disk, serial: 'oracle-serial' }],
          network: { hostForwards: [{ hostPort: await freePort(), guestPort: 22 }] },
          monitorSocket,
          extraArgs: ['-S'],
        });
        const qemu = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        qemu.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        const exited = new Promise<number | null>((resolve) => qemu.once('close', resolve));
        try {
          const monitor = new MonitorClient(monitorSocket);
          const qtree = await monitor.command('info qtree', { timeoutMs: 15_000 }).catch((error: Error) => {
            throw new Error(`${error.message}; QEMU said: ${stderr}`);
          });
          assert.match(qtree, /dev: virtio-net-pci/);
          assert.match(qtree, /mac = "52:54:00:12:34:56"/);
          assert.match(qtree, /dev: virtio-rng-pci/);
          assert.match(qtree, /dev: virtio-blk-pci/);
          assert.match(qtree, /serial = "oracle-serial"/);
          assert.match(await monitor.command('info block'), /d0 \(#block\d+\): .*disk\.img \(raw\)/);
          assert.match(await monitor.command('info cpus'), /CPU #1/);
          await monitor.command('quit');
          assert.equal(await exited, 0);
        } finally {
          qemu.kill('SIGKILL');
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  const FIRMWARE = { x86_64: '/usr/share/OVMF/OVMF_CODE_4M.fd', aarch64: '/usr/share/AAVMF/AAVMF_CODE.fd' };
  for (const arch of ['x86_64', 'aarch64'] as const) {
    test(`${arch}: UEFI flash and a CD-ROM instead of a kernel`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hook-qemu-cd-'));
      try {
        const iso = join(dir, 'x.iso');
        await writeFile(iso, Buffer.alloc(1024 * 1024));
        const monitorSocket = join(dir, 'mon.sock');
        const { binary, args } = qemuCommand({
          arch,
          memoryMiB: 256,
          firmware: { code: FIRMWARE[arch] },
          cdrom: iso,
          serialBefore: ['null'],
          network: { restrict: true },
          monitorSocket,
          extraArgs: ['-S'],
        });
        const qemu = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        qemu.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        const exited = new Promise<number | null>((resolve) => qemu.once('close', resolve));
        try {
          const monitor = new MonitorClient(monitorSocket);
          const block = await monitor.command('info block', { timeoutMs: 15_000 }).catch((error: Error) => {
            throw new Error(`${error.message}; QEMU said: ${stderr}`);
          });
          assert.match(
            block,
            /cd0 \(#block\d+\): .*x\.iso \(raw, read-only\)\n\s+Attached to: .*\n\s+Removable device/,
          );
          assert.match(block, /pflash0 \(#block\d+\): .*(OVMF_CODE_4M|AAVMF_CODE)\.fd \(raw, read-only\)/);
          const chardevs = await monitor.command('info chardev');
          assert.match(chardevs, /serial0: filename=null/);
          assert.match(chardevs, /console: filename=stdio/);
          await monitor.command('quit');
          assert.equal(await exited, 0);
        } finally {
          qemu.kill('SIGKILL');
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
