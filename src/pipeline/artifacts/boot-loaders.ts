/**
 * The boot loaders of the ISO, taken from Debian packages through the same verified archive
 * client as everything else (signed InRelease → Packages SHA-256 → .deb SHA-256), never from
 * the host:
 *
 * - UEFI: Debian's monolithic, signed CD GRUB (`gcdx64.efi.signed` / `gcdaa64.efi.signed` from
 *   `grub-efi-amd64-signed` / `grub-efi-arm64-signed`), started by Debian's signed shim
 *   (`shimx64.efi.signed` / `shimaa64.efi.signed` from `shim-signed`), which loads
 *   `grubx64.efi` / `grubaa64.efi` from its own directory. The chain boots with Secure Boot on
 *   (shim is signed by Microsoft's UEFI CA, GRUB and the kernel by Debian) and off.
 * - BIOS (x86_64): ISOLINUX (`isolinux.bin` and the isohybrid MBR code `isohdpfx.bin` from
 *   `isolinux`, `ldlinux.c32` from `syslinux-common`).
 */
import type { Arch, DebianArch } from '../../arch.ts';
import { debianArch } from '../../arch.ts';
import type { DebEntry } from '../../debian/deb.ts';
import { fetchPackages } from '../../debian/fetch.ts';
import { loadPackages, mirrorForSuite } from '../../debian/load-indexes.ts';
import { resolve } from '../../debian/resolver.ts';
import type { ArchiveSettings, BinaryPackage } from '../../debian/types.ts';
import { HookError } from '../../errors.ts';
import { treePath } from '../../tree/tree.ts';
import { readDebCached } from '../cache/deb-cache.ts';
import type { LockEntry } from '../lockfile.ts';

export type BootLoaderRole = 'grub' | 'shim' | 'isolinux' | 'isohdpfx' | 'ldlinux';

export interface BootLoaderSource {
  package: string;
  /** Path inside the package's data archive. */
  path: string;
}

/** Where each boot loader file comes from, per architecture. */
export const BOOT_LOADER_SOURCES: Record<Arch, Partial<Record<BootLoaderRole, BootLoaderSource>>> = {
  x86_64: {
    grub: { package: 'grub-efi-amd64-signed', path: 'usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed' },
    shim: { package: 'shim-signed', path: 'usr/lib/shim/shimx64.efi.signed' },
    isolinux: { package: 'isolinux', path: 'usr/lib/ISOLINUX/isolinux.bin' },
    isohdpfx: { package: 'isolinux', path: 'usr/lib/ISOLINUX/isohdpfx.bin' },
    ldlinux: { package: 'syslinux-common', path: 'usr/lib/syslinux/modules/bios/ldlinux.c32' },
  },
  aarch64: {
    grub: { package: 'grub-efi-arm64-signed', path: 'usr/lib/grub/arm64-efi-signed/gcdaa64.efi.signed' },
    shim: { package: 'shim-signed', path: 'usr/lib/shim/shimaa64.efi.signed' },
  },
};

export interface BootLoaderFiles {
  arch: Arch;
  /** GRUB for UEFI (Debian's CD image: prefix /boot/grub, reads iso9660 and FAT). */
  grub: Uint8Array;
  /** shim for UEFI; without it GRUB is the removable-media boot file itself (no Secure Boot). */
  shim?: Uint8Array;
  /** ISOLINUX for BIOS (x86_64 only). */
  bios?: { isolinux: Uint8Array; isohdpfx: Uint8Array; ldlinux: Uint8Array };
}

/** A boot loader package as the lock records it (the lock's role is the build's to give). */
export type BootLoaderPackage = Omit<LockEntry, 'role'>;

/** The Debian packages the ISO's boot loaders come from. */
export function bootLoaderPackageNames(arch: Arch): string[] {
  const names = Object.values(BOOT_LOADER_SOURCES[arch]).map((s) => s.package);
  return [...new Set(names)].sort();
}

/**
 * The boot loader packages among the signed indexes: resolved with their dependencies like any
 * request (so the set is installable), then only the named packages are kept, as the kernel
 * stage keeps only `linux-image-*`.
 */
export function selectBootLoaderPackages(
  index: BinaryPackage[],
  arch: Arch,
  options: { omit?: ReadonlySet<string> } = {},
): BootLoaderPackage[] {
  const names = new Set(bootLoaderPackageNames(arch));
  const { packages } = resolve(index, [...names], {
    arch: debianArch(arch),
    omit: options.omit ?? new Set(),
  });
  return packages
    .filter((p) => names.has(p.name))
    .map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      sha256: p.sha256,
      size: p.size,
      filename: p.filename,
      suite: p.origin.suite,
    }));
}

/** A file of a package's data archive, following a symlink inside the same package. */
function fileOf(entries: readonly DebEntry[], path: string, pkg: string): Uint8Array {
  const byPath = new Map(entries.map((e) => [e.path as string, e]));
  let at = path;
  for (let hops = 0; hops < 8; hops++) {
    const entry = byPath.get(at);
    if (!entry) break;
    if (entry.type === 'file' && entry.data) return entry.data;
    if (entry.type === 'symlink' && entry.linkTarget !== undefined) {
      const base = at.slice(0, at.lastIndexOf('/') + 1);
      at = treePath(entry.linkTarget.startsWith('/') ? entry.linkTarget : base + entry.linkTarget);
      continue;
    }
    if (entry.type === 'hardlink' && entry.linkTarget !== undefined) {
      at = entry.linkTarget;
      continue;
    }
    break;
  }
  throw new HookError('E_ARCHIVE_FORMAT', `Debian package ${pkg} has no file /${path}`, {
    hint: 'The package layout changed; the ISO stage expects the boot loader where trixie ships it',
  });
}

/** The boot loader files out of the packages' data archives (by package name). */
export function bootLoadersFromPackages(
  arch: Arch,
  data: ReadonlyMap<string, readonly DebEntry[]>,
): BootLoaderFiles {
  const take = (role: BootLoaderRole): Uint8Array | undefined => {
    const source = BOOT_LOADER_SOURCES[arch][role];
    if (!source) return undefined;
    const entries = data.get(source.package);
    if (!entries) {
      throw new HookError('E_ARCHIVE_FORMAT', `The ISO needs Debian package ${source.package} for ${arch}`, {
        hint: `Add ${bootLoaderPackageNames(arch).join(', ')} to the resolved packages`,
      });
    }
    return fileOf(entries, source.path, source.package);
  };
  const grub = take('grub') as Uint8Array;
  const shim = take('shim');
  const isolinux = take('isolinux');
  const isohdpfx = take('isohdpfx');
  const ldlinux = take('ldlinux');
  return {
    arch,
    grub,
    ...(shim ? { shim } : {}),
    ...(isolinux && isohdpfx && ldlinux ? { bios: { isolinux, isohdpfx, ldlinux } } : {}),
  };
}

export interface FetchBootLoadersOptions {
  arch: Arch;
  settings: ArchiveSettings;
  cacheDir: string;
  /** Packages already resolved (e.g. from hook.lock); default: resolved from the signed indexes. */
  packages?: BootLoaderPackage[];
  log?: (message: string) => void;
}

/** Resolves (unless given), downloads (verified) and reads the boot loader packages. */
export async function fetchBootLoaders(
  options: FetchBootLoadersOptions,
): Promise<{ files: BootLoaderFiles; packages: BootLoaderPackage[] }> {
  const debArch: DebianArch = debianArch(options.arch);
  const packages =
    options.packages ??
    selectBootLoaderPackages(
      await loadPackages({
        settings: options.settings,
        arch: debArch,
        cacheDir: options.cacheDir,
        log: options.log,
      }),
      options.arch,
    );
  const paths = await fetchPackages(
    packages.map((p) => ({ ...p, origin: { mirror: mirrorForSuite(options.settings, p.suite) } })),
    { cacheDir: options.cacheDir },
  );
  const data = new Map<string, readonly DebEntry[]>();
  for (const pkg of packages) {
    const deb = await readDebCached(
      options.cacheDir,
      pkg.sha256,
      paths.get(pkg.sha256) as string,
      pkg.filename,
    );
    data.set(pkg.name, deb.data);
  }
  return { files: bootLoadersFromPackages(options.arch, data), packages };
}
