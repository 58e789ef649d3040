import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { freeLocalPort, register, runCmdline, runOptions, runVmCommand, sshHint } from '../src/cli/run.ts';
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

  test("the spec's kernel.cmdline, with QEMU's serial console last (moved, not repeated), then --cmdline", () => {
    const smee = 'console=tty0 console=ttyS0,115200';
    assert.equal(runCmdline('x86_64', smee), 'console=tty0 console=ttyS0,115200');
    assert.equal(
      runCmdline('x86_64', 'console=ttyS0,115200 console=tty0 quiet'),
      'console=tty0 quiet console=ttyS0,115200',
    );
    assert.equal(runCmdline('aarch64', smee, ' vlan_id=5 '), `${smee} console=ttyAMA0 vlan_id=5`);
    assert.equal(
      runCmdline('x86_64', 'console=ttyS1,115200', 'x=1'),
      'console=ttyS1,115200 console=ttyS0,115200 x=1',
    );
    assert.equal(runCmdline('x86_64'), 'console=ttyS0,115200', 'without a spec line: the console only');
  });

  test("a spec's outputs: output.dir relative to the spec, its arch and cmdline; --dir and --arch win", async () => {
    const specDir = join(dir, 'site');
    await mkdir(join(specDir, 'build-out'), { recursive: true });
    await writeFile(
      join(specDir, 'hook.yaml'),
      'extends: default\narch: aarch64\nkernel: { cmdline: "console=ttyAMA0 hook_test=1" }\noutput: { dir: build-out }\n',
    );
    const flags = { memory: 512, cpus: 1 };
    const fromSpec = runOptions(join(specDir, 'hook.yaml'), flags);
    assert.equal(fromSpec.dir, join(specDir, 'build-out'));
    assert.equal(fromSpec.arch, 'aarch64');
    assert.equal(runCmdline(fromSpec.arch, fromSpec.specCmdline), 'hook_test=1 console=ttyAMA0');
    const overridden = runOptions(join(specDir, 'hook.yaml'), { ...flags, dir, arch: 'x86_64' });
    assert.deepEqual([overridden.dir, overridden.arch], [dir, 'x86_64']);
    // No spec, no --arch: the one architecture built in the folder (aarch64 here), not the host's.
    const onlyBuilt = runOptions(undefined, { ...flags, dir });
    assert.deepEqual([onlyBuilt.dir, onlyBuilt.arch], [dir, 'aarch64']);
    assert.equal(onlyBuilt.specCmdline, 'console=tty0 console=ttyS0,115200', "the built-in spec's line");
    assert.throws(
      () => runOptions(join(dir, 'missing.yaml'), flags),
      (error: unknown) =>
        isHookError(error) && error.code === 'E_USAGE' && /No spec file/.test(error.message),
    );
  });

  test('missing artifacts: E_QEMU with a hint to build', () => {
    assert.throws(
      () => runVmCommand({ arch: 'x86_64', dir, memoryMiB: 512, cpus: 1 }),
      (error: unknown) =>
        isHookError(error) &&
        error.code === 'E_QEMU' &&
        error.message.includes('vmlinuz-x86_64 does not exist') &&
        (error.hint ?? '').includes('npx hook build [spec] --arch x86_64'),
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

  test('--debug boots <output.dir>-debug with a local port forwarded to the guest SSH, and says how to use it', async () => {
    const specDir = join(dir, 'debug-spec');
    await mkdir(join(specDir, 'out-debug'), { recursive: true });
    await writeFile(join(specDir, 'site.yaml'), 'extends: default\narch: aarch64\n');
    for (const name of ['vmlinuz-aarch64', 'initramfs-aarch64'])
      await writeFile(join(specDir, 'out-debug', name), Buffer.alloc(4096));
    const flags = { memory: 512, cpus: 1 };
    const options = runOptions(join(specDir, 'site.yaml'), { ...flags, debug: true, sshPort: 2222 });
    assert.equal(options.dir, join(specDir, 'out-debug'));
    assert.deepEqual(valuesOf(runVmCommand(options).args, '-netdev'), [
      'user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22',
    ]);
    assert.equal(runOptions(join(specDir, 'site.yaml'), { ...flags, sshPort: 2222 }).sshPort, undefined);
    assert.match(
      sshHint(2222),
      /^SSH to the guest \(debug build\), once it is up: ssh -p 2222 root@127\.0\.0\.1\n/,
    );
    const port = await freeLocalPort();
    assert.ok(port > 0 && port < 65536);
    const program = new Command('hook').exitOverride();
    program.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    register(program);
    await assert.rejects(
      program.parseAsync(['run', '--ssh-port', '2222'], { from: 'user' }),
      (error: unknown) =>
        isHookError(error) && error.code === 'E_USAGE' && /--ssh-port needs --debug/.test(error.message),
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
