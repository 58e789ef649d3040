/**
 * The harness of the boot tests: boot built artifacts (`<outDir>/vmlinuz-<arch>` and
 * `<outDir>/initramfs-<arch>`) under QEMU with the serial console logged to a file, print
 * the end of that log when a test fails, and make/read disk images.
 *
 * Host tools: QEMU (qemu-system-x86 / qemu-system-arm) and, for the ext4 helpers,
 * e2fsprogs (`mke2fs`, `debugfs`) — CI installs them (.ci/run).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Arch, hostArch } from '../../src/arch.ts';
import { HookError } from '../../src/errors.ts';
import { type DiskOption, defaultCmdline, type NetworkOption } from '../../src/qemu/command.ts';
import { lastLines } from '../../src/qemu/text.ts';
import { startVm, type Vm } from './qemu/vm.ts';

const execFileAsync = promisify(execFile);

export const FAILURE_TAIL_LINES = 100;

export interface BootOsOptions {
  outDir: string;
  /** Default: the host's architecture. */
  arch?: Arch;
  /** Added after the console argument and `panic=-1`. */
  cmdline?: string;
  memoryMiB?: number;
  cpus?: number;
  disk?: string | DiskOption;
  network?: NetworkOption | false;
  /** Raw serial log; put it in the test's temp dir. */
  logFile: string;
  /** Echo the console to stdout; default: when HOOK_TEST_ECHO=1. */
  echo?: boolean;
  /** Default `single` (see startVm). */
  tcgThreads?: 'single' | 'multi';
}

export function bootFiles(outDir: string, arch: Arch): { kernel: string; initrd: string } {
  return { kernel: join(outDir, `vmlinuz-${arch}`), initrd: join(outDir, `initramfs-${arch}`) };
}

/**
 * Boots the image. `panic=-1` with QEMU's `-no-reboot` turns a kernel panic into QEMU
 * exiting, so a broken image fails the test at once instead of at its timeout.
 */
export function bootOs(options: BootOsOptions): Vm {
  const arch = options.arch ?? hostArch();
  const { kernel, initrd } = bootFiles(options.outDir, arch);
  for (const file of [kernel, initrd]) {
    if (!existsSync(file)) {
      throw new HookError('E_QEMU', `Cannot boot: ${file} does not exist`, {
        hint: 'Run `npx hook build` first',
      });
    }
  }
  const disk = typeof options.disk === 'string' ? { file: options.disk } : options.disk;
  return startVm({
    arch,
    kernel,
    initrd,
    cmdline: defaultCmdline(arch, `panic=-1 ${options.cmdline ?? ''}`),
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    disks: disk === undefined ? [] : [disk],
    network: options.network,
    logFile: options.logFile,
    echo: options.echo ?? process.env.HOOK_TEST_ECHO === '1',
    ...(options.tcgThreads === undefined ? {} : { tcgThreads: options.tcgThreads }),
  });
}

/**
 * Boots, runs `body`, and always kills QEMU afterwards. When `body` fails, the last
 * 100 console lines and the log file's path are printed before the error is rethrown.
 */
export async function withBootedOs<T>(options: BootOsOptions, body: (vm: Vm) => Promise<T>): Promise<T> {
  const vm = bootOs(options);
  try {
    return await body(vm);
  } catch (error) {
    printConsoleTail(vm);
    throw error;
  } finally {
    vm.kill();
    await vm.exited;
  }
}

export function printConsoleTail(vm: Vm, lines = FAILURE_TAIL_LINES): void {
  const where = vm.logFile === undefined ? '' : ` (full log: ${vm.logFile})`;
  const stderr = vm.qemuStderr().trim();
  process.stderr.write(
    `--- last ${lines} serial console lines${where} ---\n${vm.tail(lines)}\n--- end of console ---\n` +
      (stderr === '' ? '' : `--- QEMU stderr ---\n${lastLines(stderr, 20)}\n`),
  );
}

/** A sparse raw disk image of `sizeMiB` MiB, all zeros. */
export async function createRawDisk(path: string, sizeMiB: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.truncate(sizeMiB * 1024 * 1024);
  } finally {
    await handle.close();
  }
}

/** A raw disk image holding one ext4 file system (no partition table), optionally filled from `fromDir`. */
export async function createExt4Disk(
  path: string,
  sizeMiB: number,
  options: { label?: string; fromDir?: string } = {},
): Promise<void> {
  await createRawDisk(path, sizeMiB);
  const args = ['-q', '-F', '-t', 'ext4', '-L', options.label ?? 'hooktest'];
  if (options.fromDir !== undefined) args.push('-d', options.fromDir);
  await execFileAsync('mke2fs', [...args, path]);
}

/**
 * Reads a file out of an ext4 file system in a disk image (after the VM has powered off),
 * with e2fsprogs' debugfs. `offsetBytes` locates a file system inside a partitioned disk.
 */
export async function readFileFromExt4(
  image: string,
  pathInFs: string,
  options: { offsetBytes?: number } = {},
): Promise<Buffer> {
  const device = options.offsetBytes ? `${image}?offset=${options.offsetBytes}` : image;
  const quoted = `"${pathInFs.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  // `stat` first: `cat` of a missing file prints to stderr and still exits 0.
  const stat = await execFileAsync('debugfs', ['-R', `stat ${quoted}`, device], { encoding: 'utf8' });
  const problem = debugfsProblem(stat.stderr);
  if (problem !== undefined) {
    throw new HookError('E_IO', `Cannot read ${pathInFs} from ${image}: ${problem}`);
  }
  const cat = await execFileAsync('debugfs', ['-R', `cat ${quoted}`, device], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  return cat.stdout;
}

/** debugfs always prints its version banner on stderr; anything else there is an error. */
function debugfsProblem(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^debugfs \d/.test(line));
  return lines.length === 0 ? undefined : lines.join('; ');
}
