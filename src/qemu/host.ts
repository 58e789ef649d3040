/**
 * What the host offers for running QEMU: the emulator binary and whether KVM can be used.
 */
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Arch, hostArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { type Accel, qemuBinaryName } from './command.ts';

export function qemuInstallHint(arch: Arch): string {
  const pkg = arch === 'x86_64' ? 'qemu-system-x86' : 'qemu-system-arm';
  return `Install QEMU: apt-get install ${pkg}`;
}

/** Finds an executable on PATH (or returns an absolute/relative path that is executable). */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).map((dir) => join(dir || '.', name));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The QEMU system emulator for `arch`, or E_QEMU with an install hint. */
export function findQemuBinary(arch: Arch, path?: string): string {
  const name = qemuBinaryName(arch);
  const found = findExecutable(name, path);
  if (found === undefined) {
    throw new HookError('E_QEMU', `Cannot run ${arch} virtual machines: ${name} is not on PATH`, {
      hint: qemuInstallHint(arch),
    });
  }
  return found;
}

/** KVM needs a guest of the host's architecture and a /dev/kvm this process may open read-write. */
export function kvmUsable(arch: Arch, device = '/dev/kvm'): boolean {
  if (arch !== hostArch()) return false;
  try {
    closeSync(openSync(device, 'r+'));
    return true;
  } catch {
    return false;
  }
}

/**
 * TCG (software emulation) unless HOOK_QEMU_ACCEL says otherwise: `kvm` forces KVM, `auto`
 * takes KVM when /dev/kvm opens. Opening is no proof that KVM runs guests — on nested hosts
 * /dev/kvm can open and the guest then dies with "KVM internal error" — so KVM is opt-in.
 */
export function chooseAccel(arch: Arch, env: NodeJS.ProcessEnv = process.env): Accel {
  const wanted = env.HOOK_QEMU_ACCEL ?? '';
  if (wanted === '' || wanted === 'tcg') return 'tcg';
  if (wanted === 'auto') return kvmUsable(arch) ? 'kvm' : 'tcg';
  if (wanted === 'kvm') return 'kvm';
  throw new HookError('E_QEMU', `HOOK_QEMU_ACCEL must be "tcg", "kvm" or "auto", not "${wanted}"`);
}
