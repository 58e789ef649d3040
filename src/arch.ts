import { HookError } from './errors.ts';

/** Target architectures by their Tinkerbell (kernel) name, and the Debian names they map to. */
export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];
export type DebianArch = 'amd64' | 'arm64';

export function debianArch(arch: Arch): DebianArch {
  return arch === 'x86_64' ? 'amd64' : 'arm64';
}

export function archFromDebian(arch: string): Arch | undefined {
  if (arch === 'amd64') return 'x86_64';
  if (arch === 'arm64') return 'aarch64';
  return undefined;
}

/** Accepts either naming (x86_64/amd64, aarch64/arm64). */
export function parseArch(value: string): Arch | undefined {
  if ((ARCHES as readonly string[]).includes(value)) return value as Arch;
  return archFromDebian(value);
}

/**
 * A command's `--arch` value (either naming), or a usage error saying which names work. The
 * one parser for every command.
 */
export function archOption(value: string): Arch {
  const arch = parseArch(value);
  if (arch === undefined) {
    throw new HookError('E_USAGE', `Unknown architecture "${value}"`, {
      hint: `Use ${ARCHES.join(' or ')} (Debian's names amd64 and arm64 work too).`,
    });
  }
  return arch;
}

export function hostArch(): Arch {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}
