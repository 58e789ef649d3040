import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isHookError } from '../errors.ts';
import { defaultCmdline, escapeOptionValue, type QemuCommandOptions, qemuCommand } from './command.ts';

/** The value following `flag` (each occurrence). */
function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));
}

describe('qemuCommand', () => {
  test('x86_64 defaults: q35, TCG, -cpu max, 2 CPUs, 2 GiB, serial console on stdio, virtio NIC and RNG', () => {
    const { binary, args } = qemuCommand({ arch: 'x86_64', kernel: 'k', initrd: 'i' });
    assert.equal(binary, 'qemu-system-x86_64');
    assert.deepEqual(valuesOf(args, '-machine'), ['q35']);
    assert.deepEqual(valuesOf(args, '-accel'), ['tcg']);
    assert.deepEqual(valuesOf(args, '-cpu'), ['max']);
    assert.deepEqual(valuesOf(args, '-smp'), ['2']);
    assert.deepEqual(valuesOf(args, '-m'), ['2048']);
    assert.deepEqual(valuesOf(args, '-kernel'), ['k']);
    assert.deepEqual(valuesOf(args, '-initrd'), ['i']);
    assert.deepEqual(valuesOf(args, '-append'), ['console=ttyS0,115200']);
    assert.deepEqual(valuesOf(args, '-chardev'), ['stdio,id=console,signal=off']);
    assert.deepEqual(valuesOf(args, '-serial'), ['chardev:console']);
    assert.deepEqual(valuesOf(args, '-netdev'), ['user,id=n0']);
    assert.deepEqual(valuesOf(args, '-device'), [
      'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56',
      'virtio-rng-pci',
    ]);
    assert.ok(args.includes('-no-reboot'));
    assert.ok(args.includes('-nodefaults'));
    assert.deepEqual(valuesOf(args, '-display'), ['none']);
    assert.deepEqual(valuesOf(args, '-mon'), []);
  });

  test('tcgThreads single: all vCPUs on one host thread (TCG only)', () => {
    const single = qemuCommand({ arch: 'x86_64', kernel: 'k', initrd: 'i', tcgThreads: 'single' });
    assert.deepEqual(valuesOf(single.args, '-accel'), ['tcg,thread=single']);
    const kvm = qemuCommand({ arch: 'x86_64', kernel: 'k', initrd: 'i', accel: 'kvm', tcgThreads: 'single' });
    assert.deepEqual(valuesOf(kvm.args, '-accel'), ['kvm']);
  });

  test('aarch64: virt machine, ttyAMA0 console, qemu-system-aarch64', () => {
    const { binary, args } = qemuCommand({ arch: 'aarch64', kernel: 'k' });
    assert.equal(binary, 'qemu-system-aarch64');
    assert.deepEqual(valuesOf(args, '-machine'), ['virt']);
    assert.deepEqual(valuesOf(args, '-cpu'), ['max,pauth-impdef=on']);
    assert.deepEqual(valuesOf(qemuCommand({ arch: 'aarch64', kernel: 'k', accel: 'kvm' }).args, '-cpu'), [
      'max',
    ]);
    assert.deepEqual(valuesOf(args, '-append'), ['console=ttyAMA0']);
    assert.deepEqual(valuesOf(args, '-initrd'), []);
  });

  test('options: KVM, memory, CPUs, cmdline, disks with serials, host forwards, terminal console, monitor', () => {
    const { args } = qemuCommand({
      arch: 'x86_64',
      kernel: 'k',
      accel: 'kvm',
      memoryMiB: 4096,
      cpus: 4,
      cmdline: defaultCmdline('x86_64', ' quiet '),
      disks: [{ file: '/tmp/a,b.img' }, { file: 'c.qcow2', format: 'qcow2', serial: 'data', readOnly: true }],
      network: { mac: '52:54:00:aa:bb:cc', hostForwards: [{ hostPort: 2222, guestPort: 22 }] },
      console: 'terminal',
      monitorSocket: '/run/m.sock',
      noReboot: false,
      extraArgs: ['-S'],
    });
    assert.deepEqual(valuesOf(args, '-accel'), ['kvm']);
    assert.deepEqual(valuesOf(args, '-m'), ['4096']);
    assert.deepEqual(valuesOf(args, '-smp'), ['4']);
    assert.deepEqual(valuesOf(args, '-append'), ['console=ttyS0,115200 quiet']);
    assert.deepEqual(valuesOf(args, '-drive'), [
      'file=/tmp/a,,b.img,if=none,id=d0,format=raw',
      'file=c.qcow2,if=none,id=d1,format=qcow2,readonly=on',
    ]);
    assert.deepEqual(valuesOf(args, '-device'), [
      'virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc',
      'virtio-blk-pci,drive=d0,serial=hook-disk0',
      'virtio-blk-pci,drive=d1,serial=data',
      'virtio-rng-pci',
    ]);
    assert.deepEqual(valuesOf(args, '-netdev'), ['user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22']);
    assert.deepEqual(valuesOf(args, '-chardev'), ['stdio,id=console,mux=on,signal=off']);
    assert.deepEqual(valuesOf(args, '-mon'), ['chardev=console,mode=readline']);
    assert.deepEqual(valuesOf(args, '-monitor'), ['unix:/run/m.sock,server=on,wait=off']);
    assert.ok(!args.includes('-no-reboot'));
    assert.equal(args.at(-1), '-S');
  });

  test('no network when asked', () => {
    const { args } = qemuCommand({ arch: 'x86_64', kernel: 'k', network: false });
    assert.deepEqual(valuesOf(args, '-netdev'), []);
    assert.deepEqual(valuesOf(args, '-device'), ['virtio-rng-pci']);
  });

  test('firmware boot: UEFI flash, a CD-ROM, no -kernel, the console on the second serial port, an isolated network', () => {
    const x86 = qemuCommand({
      arch: 'x86_64',
      firmware: { code: '/fw/CODE.fd', vars: '/tmp/v,1.fd' },
      cdrom: '/tmp/hook.iso',
      serialBefore: ['file:/tmp/com1.log'],
      network: { restrict: true },
    }).args;
    assert.deepEqual(valuesOf(x86, '-kernel'), []);
    assert.deepEqual(valuesOf(x86, '-append'), []);
    assert.deepEqual(valuesOf(x86, '-drive'), [
      'if=pflash,format=raw,unit=0,file=/fw/CODE.fd,readonly=on',
      'if=pflash,format=raw,unit=1,file=/tmp/v,,1.fd',
      'file=/tmp/hook.iso,if=none,id=cd0,media=cdrom,readonly=on,format=raw',
    ]);
    assert.ok(valuesOf(x86, '-device').includes('ide-cd,drive=cd0,bus=ide.0'));
    // Ports are numbered in order: the log file is COM1 (ttyS0), the console COM2 (ttyS1).
    assert.deepEqual(valuesOf(x86, '-serial'), ['file:/tmp/com1.log', 'chardev:console']);
    assert.deepEqual(valuesOf(x86, '-netdev'), ['user,id=n0,restrict=on']);
    const arm = qemuCommand({ arch: 'aarch64', firmware: { code: 'C.fd' }, cdrom: 'h.iso' }).args;
    assert.deepEqual(valuesOf(arm, '-drive'), [
      'if=pflash,format=raw,unit=0,file=C.fd,readonly=on',
      'file=h.iso,if=none,id=cd0,media=cdrom,readonly=on,format=raw',
    ]);
    assert.deepEqual(valuesOf(arm, '-device').slice(1, 3), [
      'virtio-scsi-pci,id=scsi0',
      'scsi-cd,drive=cd0,bus=scsi0.0',
    ]);
    assert.deepEqual(valuesOf(arm, '-serial'), ['chardev:console']);
  });

  test('rejects invalid values with E_QEMU', () => {
    const base: QemuCommandOptions = { arch: 'x86_64', kernel: 'k' };
    const invalid: Partial<QemuCommandOptions>[] = [
      { memoryMiB: 0 },
      { cpus: 1.5 },
      { cmdline: 'x'.repeat(2048) },
      { disks: [{ file: 'd', serial: 'has space' }] },
      { disks: [{ file: 'd', serial: 'x'.repeat(21) }] },
      { network: { mac: '52:54:00:12:34' } },
      { network: { hostForwards: [{ hostPort: 70000, guestPort: 22 }] } },
      { kernel: undefined, initrd: 'i' },
      { kernel: undefined, cmdline: 'quiet' },
    ];
    for (const options of invalid) {
      assert.throws(
        () => qemuCommand({ ...base, ...options }),
        (error: unknown) => isHookError(error) && error.code === 'E_QEMU',
        JSON.stringify(options),
      );
    }
  });

  test('escapeOptionValue doubles commas', () => {
    assert.equal(escapeOptionValue('a,b,,c'), 'a,,b,,,,c');
  });
});
