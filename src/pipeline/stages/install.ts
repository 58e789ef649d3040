/**
 * The rootfs stage: the requested packages' files in a fresh merged-/usr tree, filtered as
 * the spec says, and what their maintainer scripts would have done (reported, never run).
 */
import { debianArch } from '../../arch.ts';
import { createMergedUsr, installEntries, type Ownership } from '../../rootfs/install.ts';
import { type ScriptEffect, scanMaintainerScripts } from '../../rootfs/maintainer-scripts.ts';
import type { Spec } from '../../specfile/schema.ts';
import { Tree } from '../../tree/tree.ts';
import { prefetchDebs, readDebCached } from '../cache/deb-cache.ts';
import type { BuildContext } from '../context.ts';
import type { LockFile } from '../lockfile.ts';
import type { PackagePaths } from './fetch.ts';

export interface InstalledTree {
  tree: Tree;
  ownership: Ownership;
  effects: ScriptEffect[];
}

export async function installPackages(
  ctx: BuildContext,
  lock: LockFile,
  paths: PackagePaths,
): Promise<InstalledTree> {
  const done = ctx.reporter.stage('rootfs');
  const tree = new Tree();
  const ownership: Ownership = new Map();
  createMergedUsr(tree, debianArch(ctx.arch));
  const effects: ScriptEffect[] = [];
  const filters = packageFilters(ctx.spec);
  // Every package (kernel and firmware too) unpacks in the background, several at once.
  prefetchDebs(
    ctx.cacheDir,
    lock.packages.map((p) => ({
      sha256: p.sha256,
      debPath: paths.get(p.sha256) as string,
      source: p.filename,
      size: p.size,
    })),
    { onRepair: (m) => ctx.reporter.warn(m) },
  );
  let installed = 0;
  for (const pkg of lock.packages.filter((p) => p.role === 'request')) {
    const deb = await readDebCached(ctx.cacheDir, pkg.sha256, paths.get(pkg.sha256) as string, pkg.filename);
    const filter = filters.get(pkg.name) ?? { include: [], exclude: [] };
    installEntries(
      tree,
      pkg.name,
      deb.data,
      { include: filter.include, exclude: [...ctx.spec.exclude, ...filter.exclude] },
      ownership,
    );
    effects.push(...scanMaintainerScripts(pkg.name, deb.control));
    installed++;
    ctx.reporter.progress(`${installed} packages installed`);
  }
  done(`${installed} packages, ${tree.size} paths`);
  return { tree, ownership, effects };
}

/** One warning naming the packages whose maintainer scripts do what nobody reviewed (maintainer-scripts.ts). */
export { maintainerScriptWarnings } from '../../rootfs/maintainer-scripts.ts';

function packageFilters(spec: Spec): Map<string, { include: string[]; exclude: string[] }> {
  const filters = new Map<string, { include: string[]; exclude: string[] }>();
  for (const item of spec.packages) {
    if (typeof item === 'string') continue;
    filters.set(item.name, { include: item.include ?? [], exclude: item.exclude ?? [] });
  }
  return filters;
}
