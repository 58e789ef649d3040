/** The fetch stage: every locked package from the cache or the archive, verified; SHA-256 → path. */
import { fetchPackages } from '../../debian/fetch.ts';
import { mirrorForSuite } from '../../debian/load-indexes.ts';
import { formatSize } from '../../util/size.ts';
import type { BuildContext } from '../context.ts';
import type { LockFile } from '../lockfile.ts';

export type PackagePaths = ReadonlyMap<string, string>;

export async function fetchLocked(ctx: BuildContext, lock: LockFile): Promise<PackagePaths> {
  const done = ctx.reporter.stage('fetch');
  let downloaded = 0;
  const paths = await fetchPackages(
    lock.packages.map((p) => ({ ...p, origin: { mirror: mirrorForSuite(ctx.settings, p.suite) } })),
    {
      cacheDir: ctx.cacheDir,
      onProgress: (p) => {
        downloaded = p.downloadedBytes;
        ctx.reporter.progress(`${p.done}/${p.total} packages, ${formatSize(p.downloadedBytes)} downloaded`);
      },
      onRepair: (m) => ctx.reporter.warn(m),
      onWait: (m) => ctx.reporter.progress(m),
    },
  );
  done(`${lock.packages.length} packages verified, ${formatSize(downloaded)} downloaded`);
  return paths;
}
