/**
 * The resolve stage: the package set, from the lock when it answers the same request, else
 * freshly resolved from the signed Debian indexes. `kernel: false` leaves the kernel and
 * firmware out (container images).
 */
import { OSIE_REQUIRED_PACKAGES } from '../../../osie/manifest.ts';
import { type Arch, debianArch } from '../../arch.ts';
import { loadPackages } from '../../debian/load-indexes.ts';
import { resolve } from '../../debian/resolver.ts';
import type { BinaryPackage } from '../../debian/types.ts';
import { isHookError } from '../../errors.ts';
import { specError } from '../../specfile/load.ts';
import type { Spec } from '../../specfile/schema.ts';
import { bootLoaderPackageNames, selectBootLoaderPackages } from '../artifacts/boot-loaders.ts';
import type { BuildContext } from '../context.ts';
import { type LockEntry, type LockFile, lockEntry, readLock, requestHash } from '../lockfile.ts';
import { DEBUG_NEEDS, DEBUG_OMIT, DEBUG_PACKAGES } from './debug.ts';

/** `kernel.package` with its placeholders filled in: `{debarch}` → amd64/arm64, `{arch}` → x86_64/aarch64. */
export function kernelPackageName(spec: Spec, arch: Arch): string {
  return spec.kernel.package.replaceAll('{debarch}', debianArch(arch)).replaceAll('{arch}', arch);
}

export function packageNames(spec: Spec): string[] {
  return spec.packages.map((p) => (typeof p === 'string' ? p : p.name));
}

export async function resolvePackages(ctx: BuildContext, what: { kernel: boolean }): Promise<LockFile> {
  const { spec, loaded, settings, reporter } = ctx;
  const debArch = debianArch(ctx.arch);
  const kernelName = what.kernel ? kernelPackageName(spec, ctx.arch) : '';
  const firmwareNames = what.kernel ? spec.kernel.firmware.packages : [];
  const bootLoaderNames = what.kernel ? bootLoaderPackageNames(ctx.arch) : [];
  const debug = ctx.debug !== undefined && what.kernel;
  const requests = [...packageNames(spec), ...(debug ? DEBUG_PACKAGES : [])];
  const omit = [
    ...spec.omit.filter((name) => !debug || !DEBUG_NEEDS.includes(name)),
    ...(debug ? DEBUG_OMIT : []),
  ];
  const hash = requestHash({
    arch: debArch,
    requests,
    kernel: kernelName,
    firmware: firmwareNames,
    bootLoaders: bootLoaderNames,
    omit,
    suites: settings.suites,
    components: settings.components,
  });
  const existing = ctx.updateLock ? undefined : await readLock(ctx.lockPath);
  if (existing && existing.requestHash === hash && existing.arch === debArch) {
    reporter.info(`Using ${existing.packages.length} packages locked in ${ctx.lockPath}`);
    if (what.kernel) checkRequiredPackages(ctx, existing);
    return existing;
  }
  const done = reporter.stage('resolve');
  const releaseDates: number[] = [];
  const index = await loadPackages({
    settings,
    arch: debArch,
    cacheDir: ctx.cacheDir,
    log: (m) => reporter.progress(m),
    onRepair: (m) => reporter.warn(m),
    onRelease: (release) => {
      if (release.date) releaseDates.push(Math.floor(release.date.getTime() / 1000));
    },
  });
  const resolveOne = (names: string[], path: (string | number)[]): BinaryPackage[] => {
    try {
      return resolve(index, names, { arch: debArch, omit: new Set(omit) }).packages;
    } catch (error) {
      if (isHookError(error) && (error.code === 'E_UNKNOWN_PACKAGE' || error.code === 'E_RESOLVE')) {
        const bad = /"([^"]+)"/.exec(error.message)?.[1];
        const at = bad === undefined ? -1 : names.indexOf(bad);
        throw specError(loaded, at >= 0 ? [...path, at] : path, error.message, error.hint);
      }
      throw error;
    }
  };
  const entries: LockEntry[] = [];
  for (const pkg of resolveOne(requests, ['packages'])) entries.push(lockEntry(pkg, 'request'));
  if (what.kernel) {
    for (const pkg of resolveOne([kernelName], ['kernel', 'package'])) {
      if (pkg.name.startsWith('linux-image-')) entries.push(lockEntry(pkg, 'kernel'));
    }
  }
  if (firmwareNames.length > 0) {
    const firmware = new Set(firmwareNames);
    for (const pkg of resolveOne(firmwareNames, ['kernel', 'firmware', 'packages'])) {
      if (firmware.has(pkg.name)) entries.push(lockEntry(pkg, 'firmware'));
    }
  }
  if (bootLoaderNames.length > 0) {
    for (const pkg of selectBootLoaderPackages(index, ctx.arch, { omit: new Set(omit) })) {
      entries.push({ ...pkg, role: 'bootloader' });
    }
  }
  done(`${entries.length} packages from ${index.length} in the indexes`);
  const lock: LockFile = {
    lockfileVersion: 1,
    arch: debArch,
    requestHash: hash,
    sourceDateEpoch: releaseDates.length > 0 ? Math.max(...releaseDates) : 0,
    packages: entries,
  };
  if (what.kernel) checkRequiredPackages(ctx, lock);
  return lock;
}

/**
 * The packages HookOS's early boot and services cannot run without (osie/manifest.ts) must be
 * in the package set: a spec that drops one would build an OS that cannot work.
 */
export function checkRequiredPackages(ctx: BuildContext, lock: LockFile): void {
  const installed = new Set(lock.packages.filter((p) => p.role === 'request').map((p) => p.name));
  const missing = OSIE_REQUIRED_PACKAGES.filter((p) => !installed.has(p.name));
  if (missing.length === 0) return;
  const lines = missing.map((p) => `${p.neededBy} needs the package ${p.name} (${p.why})`);
  throw specError(
    ctx.loaded,
    ['packages'],
    `the spec leaves out what HookOS needs: ${lines.join('; ')}`,
    `Add ${missing.map((p) => p.name).join(', ')} to packages (and take them out of omit, if they are there).`,
  );
}
