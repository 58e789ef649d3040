/**
 * `hook run`: boots the built kernel + initramfs under QEMU with the serial console on this
 * terminal and user-mode networking, for trying an image by hand.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { ARCHES, type Arch, archOption, hostArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { defaultCmdline, type QemuCommand, qemuCommand } from '../qemu/command.ts';
import { chooseAccel, findQemuBinary } from '../qemu/host.ts';
import { exitCodeOf, spawnQemu } from '../qemu/process.ts';

export interface RunVmOptions {
  arch: Arch;
  /** Added to the kernel command line after the console argument. */
  cmdline?: string;
  memoryMiB: number;
  cpus: number;
  disk?: string;
  /** Where `hook build` wrote vmlinuz-<arch> and initramfs-<arch>. */
  dir: string;
}

const HELP_AFTER = `
The serial console is attached to this terminal, multiplexed with the QEMU monitor as with
QEMU's -nographic:
  Ctrl-A X   quit QEMU (the exit status is QEMU's)
  Ctrl-A C   switch between the console and the QEMU monitor
  Ctrl-A H   list the other Ctrl-A commands
  Ctrl-A A   send a literal Ctrl-A to the guest
Ctrl-C goes to the guest. The guest has user-mode networking: it reaches the host as 10.0.2.2.
HOOK_QEMU_ACCEL=kvm (or auto) uses KVM instead of software emulation.`;

/** Checks the inputs and returns the QEMU command `hook run` would execute. */
export function runVmCommand(options: RunVmOptions, searchPath?: string): QemuCommand {
  const kernel = join(options.dir, `vmlinuz-${options.arch}`);
  const initrd = join(options.dir, `initramfs-${options.arch}`);
  for (const file of [kernel, initrd]) {
    if (!existsSync(file)) {
      throw new HookError('E_QEMU', `Cannot boot ${options.arch}: ${file} does not exist`, {
        hint: `Run \`npx hook build\` first (or point --dir at its output)`,
      });
    }
  }
  if (options.disk !== undefined && !existsSync(options.disk)) {
    throw new HookError('E_QEMU', `Disk image ${options.disk} does not exist`, {
      hint: 'Create one with `qemu-img create -f raw disk.img 8G`',
    });
  }
  const binary = findQemuBinary(options.arch, searchPath);
  const { args } = qemuCommand({
    arch: options.arch,
    kernel,
    initrd,
    cmdline: defaultCmdline(options.arch, options.cmdline),
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    accel: chooseAccel(options.arch),
    console: 'terminal',
    disks: options.disk === undefined ? [] : [{ file: options.disk }],
  });
  return { binary, args };
}

/** Runs QEMU in the foreground on this process's stdio; resolves with its exit code. */
export async function runVm(options: RunVmOptions): Promise<number> {
  const { binary, args } = runVmCommand(options);
  const qemu = spawnQemu(binary, args, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    qemu.once('error', (error) =>
      reject(new HookError('E_QEMU', `Cannot start ${binary}: ${error.message}`, { cause: error })),
    );
    qemu.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
  });
}

function positiveInteger(what: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number <= 0) {
      throw new HookError('E_USAGE', `--${what} must be a positive integer, not "${value}"`);
    }
    return number;
  };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('Boot the built image under QEMU with its serial console on this terminal')
    .addOption(
      new Option('--arch <arch>', `architecture to boot (${ARCHES.join(', ')})`).argParser(archOption),
    )
    .option('--cmdline <args>', 'extra kernel command line arguments (after console=…)')
    .option('--memory <MiB>', 'guest memory in MiB', positiveInteger('memory'), 2048)
    .option('--cpus <n>', 'virtual CPUs', positiveInteger('cpus'), 2)
    .option('--disk <file>', 'raw disk image attached as a virtio disk (/dev/vda)')
    .option('--dir <dir>', 'directory holding vmlinuz-<arch> and initramfs-<arch>', 'out')
    .addHelpText('after', HELP_AFTER)
    .action(
      async (flags: {
        arch?: Arch;
        cmdline?: string;
        memory: number;
        cpus: number;
        disk?: string;
        dir: string;
      }) => {
        const code = await runVm({
          arch: flags.arch ?? hostArch(),
          cmdline: flags.cmdline,
          memoryMiB: flags.memory,
          cpus: flags.cpus,
          disk: flags.disk,
          dir: flags.dir,
        });
        // The CLI's exit status is QEMU's; main() only knows success (0) from errors.
        if (code !== 0) process.exit(code);
      },
    );
}
