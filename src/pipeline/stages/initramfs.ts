/**
 * The initramfs stage: the OS tree cut into segments (directories, large files one by one,
 * chunks of the rest), each compressed on its own and cached by content, carried as payloads
 * behind the early boot archive (see initramfs/early-boot.ts).
 */
import { payloadLevel } from '../../formats/compress.ts';
import type { BuildContext } from '../context.ts';
import {
  assembleInitramfs,
  earlyInitScript,
  earlyTree,
  handedOver,
  type InitramfsLayout,
} from '../initramfs/early-boot.ts';
import {
  buildSegments,
  chunkEntries,
  FILE_SEGMENT_BYTES,
  planSegments,
  type Segment,
} from '../initramfs/segments.ts';
import type { InstalledTree } from './install.ts';

/** Compressing at least this much is worth a line saying why the build takes a while. */
const SAY_COMPRESSING_BYTES = 32 * 1024 * 1024;

/**
 * `extra`: segments made by other stages (the embedded images' Docker store), cut into chunks
 * like the OS's own and unpacked after its directories are in place.
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
  const compression = spec.compression;
  const early = earlyTree(rootfs.tree, { arch, compression, init: await earlyInitScript() });
  const plan = [
    ...planSegments(rootfs.tree, {
      ownership: rootfs.ownership,
      // zstd writes a file payload to its place; busybox zcat has no such mode.
      fileBytes: compression === 'zstd' ? FILE_SEGMENT_BYTES : undefined,
      skip: new Set(handedOver(early)),
    }),
    ...extra.flatMap((segment) => chunkEntries(segment.name, segment.entries)),
  ];
  let compressed = 0;
  let said = false;
  const segments = await buildSegments(plan, {
    mtime: sourceDateEpoch,
    compression,
    level: payloadLevel(compression),
    cacheDir,
    onRepair,
    onCompress: (segment, bytes, level) => {
      compressed += bytes;
      if (!said && compressed >= SAY_COMPRESSING_BYTES) {
        said = true;
        reporter.info(
          `Compressing the OS at ${compression} level ${level}: slow the first time for these package versions, cached by content afterwards`,
        );
      }
      reporter.progress(
        `compressing ${segment.name} (${(bytes / 1e6).toFixed(1)} MB, ${compression} -${level}), ${(compressed / 1e6).toFixed(0)} MB so far`,
      );
    },
  });
  const initramfs = await assembleInitramfs(early, segments, {
    compression,
    level: payloadLevel(compression),
    mtime: sourceDateEpoch,
    cacheDir,
    onRepair,
  });
  const archives = [initramfs.early, ...initramfs.payloads.map((p) => p.segment)];
  const reused = archives.filter((s) => s.cached).length;
  done(
    `${archives.length} segments (${reused} from cache${compressed > 0 ? `, ${(compressed / 1e6).toFixed(0)} MB compressed` : ''})`,
  );
  return initramfs;
}
