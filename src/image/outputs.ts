/**
 * The artifacts Tinkerbell serves: the kernel, the initramfs, the bundle of both, the lock,
 * the SBOM and the size report; publish.ts shows them as one set.
 */
import * as zlib from 'node:zlib';
import type { Arch } from '../arch.ts';
import type { Ownership } from '../rootfs/install.ts';
import type { Tree } from '../rootfs/tree.ts';
import { type LockFile, serializeLock } from './lock.ts';
import { publishSet } from './publish.ts';
import { type BuildReport, buildReport } from './report.ts';
import { spdxDocument } from './sbom.ts';
import type { BuiltSegment } from './segments.ts';

export interface OutputInput {
  outDir: string;
  arch: Arch;
  vmlinuz: Uint8Array;
  /** The bytes of initramfs-<arch>, in order (see early-boot.ts). */
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
}

export interface BuildOutputs {
  outDir: string;
  files: Record<string, { path: string; bytes: number; sha512: string }>;
  report: BuildReport;
}

/** `zlib.crc32` exists from Node 20.15 on; older versions deflate the bundle instead. */
const crc32 = (zlib as { crc32?: Crc32 }).crc32;
const { gzipSync } = zlib;

type Crc32 = (data: Uint8Array, value?: number) => number;

/** Artifacts listed in checksum.txt, for every architecture present in the folder. */
export const CHECKSUMMED =
  /^(vmlinuz-|initramfs-)(x86_64|aarch64)$|^hook_(x86_64|aarch64)\.tar\.gz$|^hook-(x86_64|aarch64)-efi-initrd\.iso$/;

export interface StagedOutputs {
  /** Artifact name → its bytes, in pieces (nothing is copied into one buffer). */
  pieces: Map<string, Uint8Array[]>;
  report: BuildReport;
}

/** Every artifact of the build, in memory, ready to be published. */
export function stageOutputs(input: OutputInput): StagedOutputs {
  const { arch } = input;
  // The artifacts stay lists of pieces (segments, tar blocks): 180 MB is neither copied
  // into one buffer nor read back from disk to be hashed.
  const initramfs = input.initramfs;
  const initramfsBytes = byteLength(initramfs);
  const vmlinuzName = `vmlinuz-${arch}`;
  const initramfsName = `initramfs-${arch}`;
  const report = buildReport(input, initramfsBytes);
  const pieces = new Map<string, Uint8Array[]>([
    [vmlinuzName, [input.vmlinuz]],
    [initramfsName, initramfs],
    [
      `hook_${arch}.tar.gz`,
      tarGzPieces(
        [
          [vmlinuzName, [input.vmlinuz]],
          [initramfsName, initramfs],
        ],
        input.sourceDateEpoch,
        { alreadyCompressed: segmentsCompressed(input.segments) },
      ),
    ],
    ['hook.lock', [Buffer.from(serializeLock(input.lock))]],
    [`hook-${arch}.spdx.json`, [Buffer.from(`${JSON.stringify(spdxDocument(input), null, 2)}\n`)]],
    [`hook-${arch}.report.json`, [Buffer.from(`${JSON.stringify(report, null, 2)}\n`)]],
  ]);
  return { pieces, report };
}

/**
 * Stages and publishes the artifacts as the output folder's new set (see publish.ts): a
 * reader sees the complete previous set or the complete new one, never a mix.
 */
export async function writeOutputs(
  input: OutputInput,
  options: { beforeSwitch?: (setDir: string, outputs: BuildOutputs) => Promise<void> } = {},
): Promise<BuildOutputs> {
  const staged = stageOutputs(input);
  const { beforeSwitch } = options;
  const files = await publishSet(input.outDir, staged.pieces, {
    checksummed: CHECKSUMMED,
    beforeSwitch:
      beforeSwitch &&
      ((setDir, files) => beforeSwitch(setDir, { outDir: input.outDir, files, report: staged.report })),
  });
  return { outDir: input.outDir, files, report: staged.report };
}

function byteLength(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.byteLength;
  return total;
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

/** A ustar archive of regular files at top level (no folder), fixed metadata, gzip with mtime 0. */
export function deterministicTarGz(files: Array<[string, Uint8Array]>, mtime: number): Uint8Array {
  return Buffer.concat(
    tarGzPieces(
      files.map(([name, data]) => [name, [data]]),
      mtime,
      { alreadyCompressed: false },
    ),
  );
}

/**
 * The same archive as pieces. When the members are compressed already, the gzip stream holds
 * them in stored deflate blocks (valid gzip, a few bytes per 64 KiB larger, and no copy of
 * the data: the pieces are views of the members); otherwise it is deflated at level 6.
 */
function tarGzPieces(
  files: Array<[string, Uint8Array[]]>,
  mtime: number,
  options: { alreadyCompressed: boolean },
): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (const [name, pieces] of files) {
    const size = byteLength(pieces);
    blocks.push(ustarHeader(name, size, mtime), ...pieces);
    const pad = (512 - (size % 512)) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
  }
  blocks.push(new Uint8Array(1024));
  if (options.alreadyCompressed && crc32) return storedGzip(blocks, crc32);
  const gz = gzipSync(Buffer.concat(blocks), { level: 6 });
  gz[9] = 3; // OS = Unix whatever the host
  return [gz];
}

/** Largest payload of a stored deflate block (its length field is 16 bits). */
const STORED_BLOCK = 0xffff;

/** A gzip member (RFC 1952) of stored deflate blocks (RFC 1951 §3.2.4) over `pieces`. */
function storedGzip(pieces: readonly Uint8Array[], crc32: Crc32): Uint8Array[] {
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=Unix, as gzipSync writes them.
  const out: Uint8Array[] = [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3)];
  let crc = 0;
  let total = 0;
  // Blocks are cut across piece boundaries: each holds up to 64 KiB of the concatenation.
  let blockLeft = 0;
  let remaining = byteLength(pieces);
  if (remaining === 0) out.push(storedBlockHeader(0, true));
  for (const piece of pieces) {
    crc = crc32(piece, crc);
    total += piece.byteLength;
    let offset = 0;
    while (offset < piece.byteLength) {
      if (blockLeft === 0) {
        blockLeft = Math.min(STORED_BLOCK, remaining);
        out.push(storedBlockHeader(blockLeft, blockLeft === remaining));
      }
      const take = Math.min(blockLeft, piece.byteLength - offset);
      out.push(piece.subarray(offset, offset + take));
      offset += take;
      blockLeft -= take;
      remaining -= take;
    }
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(total % 2 ** 32, 4);
  out.push(trailer);
  return out;
}

function storedBlockHeader(length: number, last: boolean): Uint8Array {
  const header = Buffer.alloc(5);
  header[0] = last ? 1 : 0; // BFINAL, BTYPE=00 (stored); the rest of the byte is padding
  header.writeUInt16LE(length, 1);
  header.writeUInt16LE(~length & 0xffff, 3);
  return header;
}

function ustarHeader(name: string, size: number, mtime: number): Uint8Array {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'utf8');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtime);
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  field(265, 32, 'root');
  field(297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}
