/**
 * The initramfs stage: the OS tree cut into segments, each a cpio archive compressed on its
 * own (cached by content), carried as payloads behind the early boot archive (see
 * initramfs/early-boot.ts).
 */
import type { BuildContext } from '../context.ts';
import { assembleInitramfs, type InitramfsLayout } from '../initramfs/early-boot.ts';
import { buildSegments, planSegments, type Segment } from '../initramfs/segments.ts';
import type { InstalledTree } from './install.ts';

/** A package whose files add up to at least this many bytes gets a segment of its own. */
const LARGE_PACKAGE_BYTES = 8 * 1024 * 1024;

/**
 * `extra`: segments made by other stages (the embedded images' Docker store), unpacked after
 * the OS's own, with its directories already in place.
 */
export async function initramfsStage(
  ctx: BuildContext,
  rootfs: InstalledTree,
  sourceDateEpoch: number,
  extra: readonly Segment[] = [],
): Promise<InitramfsLayout> {
  const { spec, arch, cacheDir, reporter } = ctx;
  const done = reporter.stage('initramfs');
  const onRepair = (m: string) => reporter.warn(m);
  const segments = await buildSegments(
    [
      ...planSegments(rootfs.tree, { ownership: rootfs.ownership, largePackageBytes: LARGE_PACKAGE_BYTES }),
      ...extra,
    ],
    { mtime: sourceDateEpoch, compression: spec.compression, cacheDir, onRepair },
  );
  const initramfs = await assembleInitramfs(rootfs.tree, segments, {
    arch,
    compression: spec.compression,
    mtime: sourceDateEpoch,
    cacheDir,
    onRepair,
  });
  const archives = [initramfs.early, ...initramfs.payloads.map((p) => p.segment)];
  const reused = archives.filter((s) => s.cached).length;
  done(`${archives.length} segments (${reused} from cache)`);
  return initramfs;
}
