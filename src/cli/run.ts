/**
 * `hook run`: boots the built kernel + initramfs under QEMU with the serial console on this
 * terminal and user-mode networking, for trying an image by hand. It finds what `hook build`
 * wrote for a spec (its `output.dir`, relative to the spec) and boots it with the spec's
 * `kernel.cmdline`.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { ARCHES, type Arch, archOption } from '../arch.ts';
import { HookError } from '../errors.ts';
import { defaultConsoleArg, type QemuCommand, qemuCommand } from '../qemu/command.ts';
import { chooseAccel, findQemuBinary } from '../qemu/host.ts';
import { exitCodeOf, spawnQemu } from '../qemu/process.ts';
import { loadSpec, specOutputDir } from '../specfile/load.ts';

export interface RunVmOptions {
  arch: Arch;
  /** The spec's `kernel.cmdline` (default: only the console of QEMU's first serial port). */
  specCmdline?: string | undefined;
  /** Added to the kernel command line after the spec's and the console argument. */
  cmdline?: string | undefined;
  memoryMiB: number;
  cpus: number;
  disk?: string | undefined;
  /** Where `hook build` wrote vmlinuz-<arch> and initramfs-<arch>. */
  dir: string;
  /** A port on 127.0.0.1 forwarded to the guest's SSH server (port 22; debug builds). */
  sshPort?: number | undefined;
}

/**
 * The kernel command line of a run: the spec's, with the console of QEMU's first serial port
 * last (the last `console=` is /dev/console, where systemd and the autologin shell go), then
 * `extra`. A `console=` for that port in the spec is moved to the end, not repeated.
 */
export function runCmdline(arch: Arch, specCmdline = '', extra = ''): string {
  const consoleArg = defaultConsoleArg(arch);
  const device = consoleArg.slice('console='.length).split(',')[0] as string;
  const words = specCmdline
    .split(/\s+/)
    .filter(
      (word) => word !== '' && !(word === `console=${device}` || word.startsWith(`console=${device},`)),
    );
  return [...words, consoleArg, extra.trim()].filter((part) => part !== '').join(' ');
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
        hint: `Build it first (\`npx hook build [spec] --arch ${options.arch}\`), or point --dir at the folder holding it`,
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
    cmdline: runCmdline(options.arch, options.specCmdline, options.cmdline),
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    accel: chooseAccel(options.arch),
    console: 'terminal',
    disks: options.disk === undefined ? [] : [{ file: options.disk }],
    network: {
      hostForwards: options.sshPort === undefined ? [] : [{ hostPort: options.sshPort, guestPort: 22 }],
    },
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

/** The architectures with both artifacts in `dir`. */
export function builtArches(dir: string): Arch[] {
  return ARCHES.filter(
    (arch) => existsSync(join(dir, `vmlinuz-${arch}`)) && existsSync(join(dir, `initramfs-${arch}`)),
  );
}

interface RunFlags {
  arch?: Arch;
  cmdline?: string;
  memory: number;
  cpus: number;
  disk?: string;
  dir?: string;
  debug?: boolean;
  sshPort?: number;
}

/**
 * What `hook run [spec]` boots: the spec's outputs (or `--dir`), its architecture (or
 * `--arch`; with neither a spec nor `--arch`, the one architecture built in the folder) and
 * its kernel command line. Without a spec, the built-in one.
 */
export function runOptions(specFile: string | undefined, flags: RunFlags): RunVmOptions {
  const loaded = loadSpec(specFile);
  const dir = flags.dir ?? specOutputDir(loaded, { debug: Boolean(flags.debug) });
  const built = builtArches(dir);
  const arch =
    flags.arch ?? (specFile === undefined && built.length === 1 ? (built[0] as Arch) : loaded.spec.arch);
  return {
    arch,
    specCmdline: loaded.spec.kernel.cmdline,
    cmdline: flags.cmdline,
    memoryMiB: flags.memory,
    cpus: flags.cpus,
    disk: flags.disk,
    dir,
    sshPort: flags.debug ? flags.sshPort : undefined,
  };
}

/** A port on 127.0.0.1 that nothing listens on now. */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** What `hook run --debug` prints: how to reach the guest's SSH server through the forwarded port. */
export function sshHint(port: number): string {
  return [
    `SSH to the guest (debug build), once it is up: ssh -p ${port} root@127.0.0.1`,
    '  (its host keys are made at every boot: add -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null to skip the known_hosts check)',
    '',
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('run')
    .description("Boot a spec's built image under QEMU with its serial console on this terminal")
    .argument('[spec]', 'the spec whose outputs to boot (default: the built-in spec)')
    .addOption(
      new Option(
        '--arch <arch>',
        `architecture to boot (${ARCHES.join(', ')}; default: the spec arch, or the only one built)`,
      ).argParser(archOption),
    )
    .option(
      '--dir <dir>',
      "folder holding vmlinuz-<arch> and initramfs-<arch> (default: the spec's output.dir)",
    )
    .option('--cmdline <args>', "kernel command line arguments added after the spec's kernel.cmdline")
    .addOption(
      new Option('--memory <MiB>', 'guest memory in MiB').argParser(positiveInteger('memory')).default(2048),
    )
    .addOption(new Option('--cpus <n>', 'virtual CPUs').argParser(positiveInteger('cpus')).default(2))
    .option('--disk <file>', 'raw disk image attached as a virtio disk (/dev/vda)')
    .option(
      '--debug',
      'boot the debug build (hook build --debug writes it to <output.dir>-debug) and forward a local port to its SSH server',
    )
    .addOption(
      new Option(
        '--ssh-port <port>',
        'with --debug: the local port forwarded to the guest SSH (default: a free one)',
      ).argParser(positiveInteger('ssh-port')),
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (specFile: string | undefined, flags: RunFlags) => {
      if (flags.sshPort !== undefined && !flags.debug) {
        throw new HookError('E_USAGE', '--ssh-port needs --debug (only debug builds run an SSH server)');
      }
      const options = runOptions(specFile, flags);
      if (flags.debug) {
        options.sshPort ??= await freeLocalPort();
        process.stderr.write(sshHint(options.sshPort));
      }
      const code = await runVm(options);
      // The CLI's exit status is QEMU's; main() only knows success (0) from errors.
      if (code !== 0) process.exit(code);
    });
}
