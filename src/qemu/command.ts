/**
 * The QEMU command line for booting a kernel + initramfs, as a pure function of the options,
 * so that what we run is exactly what the unit tests check.
 */
import type { Arch } from '../arch.ts';
import { HookError } from '../errors.ts';

export type Accel = 'kvm' | 'tcg';

/**
 * How the serial console reaches us.
 * - `pipe`: QEMU's stdin/stdout carry the console and nothing else (for programs reading it).
 * - `terminal`: the console is muxed with an HMP monitor on stdio, like `-nographic`:
 *   QEMU puts the terminal in raw mode, Ctrl-A X quits, Ctrl-A C switches to the monitor.
 */
export type ConsoleMode = 'pipe' | 'terminal';

export interface DiskOption {
  file: string;
  format?: 'raw' | 'qcow2';
  /** Shown to the guest; udev makes `/dev/disk/by-id/virtio-<serial>` from it. At most 20 characters. */
  serial?: string;
  readOnly?: boolean;
}

export interface HostForward {
  protocol?: 'tcp' | 'udp';
  /** Port on 127.0.0.1 of the host. */
  hostPort: number;
  guestPort: number;
}

export interface NetworkOption {
  mac?: string;
  /** Host ports forwarded into the guest; they listen on 127.0.0.1 only. */
  hostForwards?: HostForward[];
  /** Isolate the guest (`restrict=on`): it reaches neither the host nor beyond; DHCP still answers. */
  restrict?: boolean;
}

/** UEFI firmware as flash: the code (read-only) and a writable copy of the variable store. */
export interface FirmwareOption {
  code: string;
  vars?: string;
}

export interface QemuCommandOptions {
  arch: Arch;
  /** Booted directly (`-kernel`); without it the firmware boots from the disks or the CD-ROM. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Default: QEMU's own (SeaBIOS on x86_64). */
  firmware?: FirmwareOption;
  /** An ISO image as a CD-ROM drive (SATA on q35, SCSI on virt). */
  cdrom?: string;
  /**
   * QEMU `-serial` back-ends of the serial ports before the console's: `['null']` puts the
   * console on the second port (ttyS1), where Smee's `console=… ttyS1` line sends Linux.
   */
  serialBefore?: string[];
  /** Default 2048. */
  memoryMiB?: number;
  /** Default 2. */
  cpus?: number;
  /** Default `tcg`; see `chooseAccel` in host.ts for picking KVM when it is usable. */
  accel?: Accel;
  /**
   * Under TCG: `multi` (default) runs each vCPU on a host thread of its own; `single` runs them
   * all on one thread, so code one vCPU patches is never still running, stale, on another.
   */
  tcgThreads?: 'single' | 'multi';
  /** Default `pipe`. */
  console?: ConsoleMode;
  /** Path of a unix socket on which QEMU serves an HMP monitor. */
  monitorSocket?: string;
  disks?: DiskOption[];
  /** User-mode networking with a virtio NIC unless `false`. */
  network?: NetworkOption | false;
  /** Exit instead of rebooting when the guest reboots (or panics with `panic=-1`). Default true. */
  noReboot?: boolean;
  /** Appended verbatim, for anything not covered above. */
  extraArgs?: string[];
}

export interface QemuCommand {
  binary: string;
  args: string[];
}

export const DEFAULT_MEMORY_MIB = 2048;
export const DEFAULT_CPUS = 2;
export const DEFAULT_MAC = '52:54:00:12:34:56';
export const DEFAULT_DISK_SERIAL_PREFIX = 'hook-disk';
/** Debian's x86 kernels take at most 2048 bytes of command line (COMMAND_LINE_SIZE). */
export const MAX_CMDLINE_BYTES = 2048;

const MAX_VIRTIO_SERIAL = 20;

export function qemuBinaryName(arch: Arch): string {
  return arch === 'x86_64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
}

/** The kernel console for the first serial port of the machine we emulate. */
export function defaultConsoleArg(arch: Arch): string {
  return arch === 'x86_64' ? 'console=ttyS0,115200' : 'console=ttyAMA0';
}

/** The console argument followed by whatever else the caller wants on the kernel command line. */
export function defaultCmdline(arch: Arch, extra = ''): string {
  return [defaultConsoleArg(arch), extra.trim()].filter((part) => part !== '').join(' ');
}

/** QEMU splits option values on commas; a literal comma is written twice. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

export function qemuCommand(options: QemuCommandOptions): QemuCommand {
  const accel = options.accel ?? 'tcg';
  return {
    binary: qemuBinaryName(options.arch),
    args: [
      ...machineArgs(options.arch, accel, options.tcgThreads ?? 'multi'),
      ...resourceArgs(options),
      ...firmwareArgs(options.firmware),
      ...bootArgs(options),
      ...(options.serialBefore ?? []).flatMap((backend) => ['-serial', backend]),
      ...consoleArgs(options.console ?? 'pipe', options.monitorSocket),
      ...networkArgs(options.network),
      ...diskArgs(options.disks ?? []),
      ...cdromArgs(options.arch, options.cdrom),
      '-device',
      'virtio-rng-pci',
      ...(options.noReboot === false ? [] : ['-no-reboot']),
      ...(options.extraArgs ?? []),
    ],
  };
}

function machineArgs(arch: Arch, accel: Accel, tcgThreads: 'single' | 'multi'): string[] {
  const machine = arch === 'x86_64' ? 'q35' : 'virt';
  // Emulating the architected pointer-authentication algorithm (QARMA) dominates TCG time for
  // Debian's arm64 kernel, which signs every return address; QEMU's own cheaper algorithm
  // behaves the same for the guest.
  const cpu = arch === 'aarch64' && accel === 'tcg' ? 'max,pauth-impdef=on' : 'max';
  const accelArg = accel === 'tcg' && tcgThreads === 'single' ? 'tcg,thread=single' : accel;
  return ['-machine', machine, '-accel', accelArg, '-cpu', cpu, '-nodefaults', '-display', 'none'];
}

function resourceArgs(options: QemuCommandOptions): string[] {
  const memory = options.memoryMiB ?? DEFAULT_MEMORY_MIB;
  const cpus = options.cpus ?? DEFAULT_CPUS;
  requirePositiveInteger('memory (MiB)', memory);
  requirePositiveInteger('CPU count', cpus);
  return ['-m', String(memory), '-smp', String(cpus)];
}

function firmwareArgs(firmware: FirmwareOption | undefined): string[] {
  if (!firmware) return [];
  const flash = (unit: number, file: string, readOnly: boolean) =>
    `if=pflash,format=raw,unit=${unit},file=${escapeOptionValue(file)}${readOnly ? ',readonly=on' : ''}`;
  return [
    '-drive',
    flash(0, firmware.code, true),
    ...(firmware.vars === undefined ? [] : ['-drive', flash(1, firmware.vars, false)]),
  ];
}

function cdromArgs(arch: Arch, cdrom: string | undefined): string[] {
  if (cdrom === undefined) return [];
  const drive = `file=${escapeOptionValue(cdrom)},if=none,id=cd0,media=cdrom,readonly=on,format=raw`;
  // q35's AHCI controller is where a PC has its optical drive; virt has none, so SCSI.
  return arch === 'x86_64'
    ? ['-drive', drive, '-device', 'ide-cd,drive=cd0,bus=ide.0']
    : ['-drive', drive, '-device', 'virtio-scsi-pci,id=scsi0', '-device', 'scsi-cd,drive=cd0,bus=scsi0.0'];
}

function bootArgs(options: QemuCommandOptions): string[] {
  if (options.kernel === undefined) {
    if (options.initrd !== undefined || options.cmdline !== undefined) {
      throw new HookError('E_QEMU', 'An initrd or a kernel command line needs a kernel to boot directly');
    }
    return [];
  }
  const cmdline = options.cmdline ?? defaultCmdline(options.arch);
  const length = Buffer.byteLength(cmdline);
  if (length >= MAX_CMDLINE_BYTES) {
    throw new HookError(
      'E_QEMU',
      `Kernel command line is ${length} bytes; the kernel accepts at most ${MAX_CMDLINE_BYTES - 1}`,
    );
  }
  const args = ['-kernel', options.kernel];
  if (options.initrd !== undefined) args.push('-initrd', options.initrd);
  args.push('-append', cmdline);
  return args;
}

function consoleArgs(mode: ConsoleMode, monitorSocket: string | undefined): string[] {
  // signal=off: Ctrl-C typed on the console goes to the guest instead of killing QEMU.
  const args =
    mode === 'terminal'
      ? ['-chardev', 'stdio,id=console,mux=on,signal=off', '-serial', 'chardev:console']
      : ['-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console'];
  if (mode === 'terminal') args.push('-mon', 'chardev=console,mode=readline');
  if (monitorSocket !== undefined) {
    args.push('-monitor', `unix:${escapeOptionValue(monitorSocket)},server=on,wait=off`);
  }
  return args;
}

function networkArgs(network: NetworkOption | false | undefined): string[] {
  if (network === false) return [];
  const mac = network?.mac ?? DEFAULT_MAC;
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) {
    throw new HookError('E_QEMU', `Invalid MAC address "${mac}": expected six hex pairs like ${DEFAULT_MAC}`);
  }
  const forwards = (network?.hostForwards ?? []).map(hostForwardOption);
  const netdev = ['user', 'id=n0', ...(network?.restrict ? ['restrict=on'] : []), ...forwards].join(',');
  return ['-netdev', netdev, '-device', `virtio-net-pci,netdev=n0,mac=${mac}`];
}

function hostForwardOption(forward: HostForward): string {
  requirePort(forward.hostPort);
  requirePort(forward.guestPort);
  return `hostfwd=${forward.protocol ?? 'tcp'}:127.0.0.1:${forward.hostPort}-:${forward.guestPort}`;
}

function diskArgs(disks: DiskOption[]): string[] {
  return disks.flatMap((disk, index) => {
    const serial = disk.serial ?? `${DEFAULT_DISK_SERIAL_PREFIX}${index}`;
    if (!new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_VIRTIO_SERIAL}}$`).test(serial)) {
      throw new HookError(
        'E_QEMU',
        `Invalid disk serial "${serial}": use 1-${MAX_VIRTIO_SERIAL} letters, digits, '.', '_' or '-'`,
      );
    }
    const drive = [
      `file=${escapeOptionValue(disk.file)}`,
      'if=none',
      `id=d${index}`,
      `format=${disk.format ?? 'raw'}`,
      ...(disk.readOnly ? ['readonly=on'] : []),
    ].join(',');
    return ['-drive', drive, '-device', `virtio-blk-pci,drive=d${index},serial=${serial}`];
  });
}

function requirePositiveInteger(what: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new HookError('E_QEMU', `Invalid ${what}: ${value} (expected a positive integer)`);
  }
}

function requirePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new HookError('E_QEMU', `Invalid port ${port}: expected 1-65535`);
  }
}
