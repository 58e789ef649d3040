/**
 * The boot loaders stage: the files the ISO boots with (Debian's signed shim and CD GRUB for
 * UEFI; ISOLINUX for BIOS on x86_64), out of the locked `bootloader` packages.
 */
import type { DebEntry } from '../../debian/deb.ts';
import { type BootLoaderFiles, bootLoadersFromPackages } from '../artifacts/boot-loaders.ts';
import { readDebCached } from '../cache/deb-cache.ts';
import type { BuildContext } from '../context.ts';
import type { LockFile } from '../lockfile.ts';
import type { PackagePaths } from './fetch.ts';

export async function bootLoadersStage(
  ctx: BuildContext,
  lock: LockFile,
  paths: PackagePaths,
): Promise<BootLoaderFiles> {
  const done = ctx.reporter.stage('boot loaders');
  const data = new Map<string, readonly DebEntry[]>();
  const packages = lock.packages.filter((p) => p.role === 'bootloader');
  for (const pkg of packages) {
    const deb = await readDebCached(ctx.cacheDir, pkg.sha256, paths.get(pkg.sha256) as string, pkg.filename);
    data.set(pkg.name, deb.data);
  }
  const files = bootLoadersFromPackages(ctx.arch, data);
  done(packages.map((p) => `${p.name} ${p.version}`).join(', '));
  return files;
}
