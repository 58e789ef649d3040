import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { register, runVmCommand } from '../src/cli/run.ts';
import { isHookError } from '../src/errors.ts';

const runModule = fileURLToPath(new URL('../src/cli/run.ts', import.meta.url));

function valuesOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));
}

describe('hook run', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hook-run-test-'));
    // Zero-filled stand-ins: QEMU's aarch64 virt machine loads any file as a raw kernel.
    await writeFile(join(dir, 'vmlinuz-aarch64'), Buffer.alloc(65536));
    await writeFile(join(dir, 'initramfs-aarch64'), Buffer.alloc(4096));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('boots <dir>/vmlinuz-<arch> + initramfs-<arch> with the terminal console and the default cmdline', () => {
    const { binary, args } = runVmCommand({
      arch: 'aarch64',
      dir,
      memoryMiB: 512,
      cpus: 1,
      cmdline: 'quiet',
    });
    assert.match(binary, /qemu-system-aarch64$/);
    assert.deepEqual(valuesOf(args, '-kernel'), [join(dir, 'vmlinuz-aarch64')]);
    assert.deepEqual(valuesOf(args, '-initrd'), [join(dir, 'initramfs-aarch64')]);
    assert.deepEqual(valuesOf(args, '-append'), ['console=ttyAMA0 quiet']);
    assert.deepEqual(valuesOf(args, '-mon'), ['chardev=console,mode=readline']);
    assert.deepEqual(valuesOf(args, '-m'), ['512']);
    assert.deepEqual(valuesOf(args, '-smp'), ['1']);
    assert.deepEqual(valuesOf(args, '-netdev'), ['user,id=n0']);
  });

  test('missing artifacts: E_QEMU with a hint to build', () => {
    assert.throws(
      () => runVmCommand({ arch: 'x86_64', dir, memoryMiB: 512, cpus: 1 }),
      (error: unknown) =>
        isHookError(error) &&
        error.code === 'E_QEMU' &&
        error.message.includes('vmlinuz-x86_64 does not exist') &&
        (error.hint ?? '').includes('npx hook build'),
    );
  });

  test('missing disk image and missing QEMU are E_QEMU', () => {
    assert.throws(
      () => runVmCommand({ arch: 'aarch64', dir, memoryMiB: 512, cpus: 1, disk: join(dir, 'nope.img') }),
      /Disk image .*nope\.img does not exist/,
    );
    assert.throws(
      () => runVmCommand({ arch: 'aarch64', dir, memoryMiB: 512, cpus: 1 }, dir),
      (error: unknown) =>
        isHookError(error) && error.hint === 'Install QEMU: apt-get install qemu-system-arm',
    );
  });

  test('options are parsed and validated; --help explains Ctrl-A X', async () => {
    const program = new Command('hook').exitOverride();
    let help = '';
    program.configureOutput({ writeOut: (text) => (help += text), writeErr: () => undefined });
    register(program);
    await assert.rejects(program.parseAsync(['run', '--help'], { from: 'user' }), /outputHelp|help/);
    assert.match(help, /--disk <file>/);
    assert.match(help, /Ctrl-A X\s+quit QEMU/);
    await assert.rejects(program.parseAsync(['run', '--cpus', 'two'], { from: 'user' }), (error: unknown) => {
      return (
        isHookError(error) &&
        error.code === 'E_USAGE' &&
        /--cpus must be a positive integer/.test(error.message)
      );
    });
    await assert.rejects(
      program.parseAsync(['run', '--arch', 'riscv64'], { from: 'user' }),
      /Unknown architecture/,
    );
  });

  test('a real QEMU runs on our stdio; Ctrl-A H shows the mux help and Ctrl-A X quits with status 0', async () => {
    const script = `
      import { Command } from 'commander';
      import { register } from ${JSON.stringify(runModule)};
      const program = new Command('hook');
      register(program);
      await program.parseAsync(['run', '--arch', 'aarch64', '--dir', ${JSON.stringify(dir)}, '--memory', '256', '--cpus', '1'], { from: 'user' });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HOOK_QEMU_ACCEL: 'tcg' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!out.includes('C-a x') && Date.now() < deadline) {
        child.stdin.write('\x01h');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.match(out, /C-a x\s+exit emulator/);
      child.stdin.write('\x01x');
      assert.equal(await exited, 0, out);
      assert.match(out, /QEMU: Terminated/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
