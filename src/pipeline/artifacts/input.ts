/** What every artifact is made from: the build's results, in memory. */
import type { Arch } from '../../arch.ts';
import type { Ownership } from '../../rootfs/install.ts';
import type { Tree } from '../../tree/tree.ts';
import type { BuiltSegment } from '../initramfs/segments.ts';
import type { LockFile } from '../lockfile.ts';
import type { BootLoaderFiles } from './boot-loaders.ts';

/** One device tree (or overlay): its path below the kernel package's DTB folder. */
export interface DtbFile {
  /** `allwinner/sun50i-a64-pine64.dtb`: no leading slash, no `..`. */
  path: string;
  data: Uint8Array;
}

export interface ArtifactInput {
  arch: Arch;
  vmlinuz: Uint8Array;
  /** The bytes of initramfs-<arch>, in order (see initramfs/early-boot.ts). */
  initramfs: Uint8Array[];
  /** Every compressed archive in it, the early one first, for the report. */
  segments: BuiltSegment[];
  lock: LockFile;
  tree: Tree;
  ownership: Ownership;
  sourceDateEpoch: number;
  specName: string;
  specVersion: string;
  kernelVersion: string;
  /** The spec's kernel.cmdline: the ISO's boot loaders put it before Smee's placeholder. */
  cmdline: string;
  /** The ISO's boot loaders; without them no ISO is made. */
  bootLoaders?: BootLoaderFiles | undefined;
  /** The kernel package's device trees (arm64); without them no dtbs-<arch>.tar.gz is made. */
  dtbs?: readonly DtbFile[] | undefined;
}

/** An artifact's name and its bytes, in pieces (180 MB is never copied into one buffer). */
export type Artifact = [name: string, pieces: Uint8Array[]];

export function byteLength(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.byteLength;
  return total;
}
