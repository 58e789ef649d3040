/**
 * `hook_<arch>.tar.gz`: the kernel and the initramfs at the top level, no folder (what
 * Tinkerbell's stack downloads and unpacks), then `dtbs-<arch>.tar.gz` when the kernel has
 * device trees: Hook's bundle is `tar -cf- -C out/hook vmlinuz-<id> initramfs-<id>
 * dtbs-<id>.tar.gz` (bash/linuxkit.sh). Deterministic: fixed metadata, gzip with MTIME 0.
 */
import { canStoreGzip, gzipDeterministic, storedGzip } from '../../formats/gzip.ts';
import { writeTar } from '../../formats/tar-write.ts';
import type { BuiltSegment } from '../initramfs/segments.ts';
import { dtbsArtifact } from './dtbs.ts';
import { type Artifact, type ArtifactInput, byteLength } from './input.ts';

export function bundleArtifact(input: ArtifactInput): Artifact {
  const files: Array<[string, Uint8Array[]]> = [
    [`vmlinuz-${input.arch}`, [input.vmlinuz]],
    [`initramfs-${input.arch}`, input.initramfs],
  ];
  const dtbs = dtbsArtifact(input);
  if (dtbs) files.push(dtbs);
  const tar = writeTar(
    files.map(([path, data]) => ({ kind: 'file' as const, path, mode: 0o644, uid: 0, gid: 0, data })),
    { mtime: input.sourceDateEpoch, ownerNames: { user: 'root', group: 'root' } },
  );
  const pieces =
    canStoreGzip && segmentsCompressed(input.segments)
      ? storedGzip(tar)
      : [gzipDeterministic(Buffer.concat(tar, byteLength(tar)))];
  return [`hook_${input.arch}.tar.gz`, pieces];
}

/**
 * Whether the initramfs is compressed already (zstd or gzip segments), so that deflating it
 * again would gain almost nothing: measured on a 187 MB bundle, level 6 took 4.7 s to save
 * 0.3 %, level 1 4.6 s (the time goes into searching matches that are not there).
 */
function segmentsCompressed(segments: readonly BuiltSegment[]): boolean {
  let compressed = 0;
  let uncompressed = 0;
  for (const segment of segments) {
    compressed += segment.compressedBytes;
    uncompressed += segment.uncompressedBytes;
  }
  return compressed < uncompressed * 0.9;
}
