/**
 * The OS is cut into segments, each compressed on its own and carried as a payload behind the
 * early boot archive (early-boot.ts); /init unpacks them into the OS's tmpfs (osie/early/init.sh).
 * Two kinds:
 * - `cpio`: a newc archive of many entries. All directories come first in a segment of their
 *   own; the other entries are cut, in path order, into chunks of at most CHUNK_MAX_BYTES,
 *   because /init decompresses a chunk into a file before busybox cpio reads it (cpio reading
 *   a pipe from zstd copies 4 KiB at a time: measured in the guest under TCG, the base segment
 *   took 10.9 s through a pipe and 6.5 s staged), so a chunk's size bounds the RAM the early
 *   boot needs beyond the OS itself.
 * - `file`: one large regular file, compressed alone; `zstd -d` writes it straight to its
 *   place with the mode, owner and time of its carrier entry (dockerd: 3.0 s instead of 7.3 s
 *   through zstd | cpio, same guest).
 * Chunk boundaries depend only on the paths and sizes near them (a cut needs CHUNK_MIN_BYTES
 * and a path whose hash says so), so a package that changes moves the boundaries of its own
 * chunk, not of every later one. Unchanged segments come from a cache keyed by what determines
 * their uncompressed bytes: every cpio header byte, and for each file's data either its origin
 * in a package's unpacked tar (see content-origin.ts) or its SHA-256.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type RepairReporter, readSealed, writeSealed } from '../../debian/cache.ts';
import { HookError } from '../../errors.ts';
import { compress, decompress, type OutputCompression } from '../../formats/compress.ts';
import { cpioTrailer, writeCpio } from '../../formats/cpio.ts';
import type { FileContent, Tree, TreeNode, TreePath } from '../../tree/tree.ts';
import { contentOrigin } from '../cache/content-origin.ts';

export type SegmentKind = 'cpio' | 'file';

export interface Segment {
  name: string;
  entries: Array<[TreePath, TreeNode]>;
  /** `file`: `entries` is one regular file, compressed as its bare bytes. Default `cpio`. */
  kind?: SegmentKind;
  /** The compression level of this segment (default: the build's, see SegmentBuildOptions). */
  level?: number;
}

/** A chunk is cut once it holds this much and a path allows it (see cutsAfter)... */
export const CHUNK_MIN_BYTES = 8 * 1024 * 1024;
/** ...and always before it would grow past this. */
export const CHUNK_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Files at least this large get a `file` segment each. Measured in the guest (TCG): zstd
 * writing a file itself is 2.5x as fast as zstd | busybox cpio; below 1 MiB per-file frames
 * would lose the context solid chunks share (small files compress together).
 */
export const FILE_SEGMENT_BYTES = 1024 * 1024;
/**
 * Kernel modules are `.ko.xz` already: zstd -19 takes 18.76 MB of them where -3 takes 18.86
 * (-1: 18.89), for many times the CPU; they are stored at a fast level.
 */
export const MODULES_LEVEL = 3;

export interface SegmentPlanOptions {
  /** Which package installed each path; paths absent here are generated configuration. */
  ownership: ReadonlyMap<TreePath, string>;
  /** Regular files of at least this many bytes become `file` segments (undefined: none). */
  fileBytes?: number | undefined;
  /** Regular files left out of every segment (the early archive carries them). */
  skip?: ReadonlySet<TreePath> | undefined;
}

export const DIRS = 'dirs';
const CONFIG = 'config';
const BASE = 'base';
const MODULES = 'kernel-modules';
const FIRMWARE = 'firmware';

/**
 * Assigns every node of the tree to exactly one segment, in a fixed order: directories, then
 * the files big enough for a segment of their own, then chunks of the rest by group (base,
 * kernel modules, firmware, generated configuration).
 */
export function planSegments(tree: Tree, options: SegmentPlanOptions): Segment[] {
  const entries = tree.entries();
  const links = new Map<FileContent, number>();
  for (const [, node] of entries) {
    if (node.kind === 'file') links.set(node.content, (links.get(node.content) ?? 0) + 1);
  }
  const dirs: Array<[TreePath, TreeNode]> = [];
  const files: Segment[] = [];
  const groups = new Map<string, Array<[TreePath, TreeNode]>>();
  for (const [path, node] of entries) {
    if (node.kind === 'file' && options.skip?.has(path)) continue;
    // Directories all go first, so every later segment finds its parents in place.
    if (node.kind === 'dir') {
      dirs.push([path, node]);
      continue;
    }
    const owner = options.ownership.get(path);
    if (
      node.kind === 'file' &&
      options.fileBytes !== undefined &&
      node.content.data.byteLength >= options.fileBytes &&
      links.get(node.content) === 1 &&
      PLAIN_PATH.test(path)
    ) {
      files.push({
        name: `${owner ?? CONFIG}:${path.slice(path.lastIndexOf('/') + 1)}`,
        entries: [[path, node]],
        kind: 'file',
      });
      continue;
    }
    const group = path.startsWith('usr/lib/modules/')
      ? MODULES
      : path.startsWith('usr/lib/firmware/')
        ? FIRMWARE
        : owner === undefined
          ? CONFIG
          : BASE;
    const list = groups.get(group) ?? [];
    if (list.length === 0) groups.set(group, list);
    list.push([path, node]);
  }
  const order = [BASE, MODULES, FIRMWARE, CONFIG];
  const chunks = order.flatMap((group) =>
    chunkEntries(group, groups.get(group) ?? []).map((segment) =>
      group === MODULES ? { ...segment, level: MODULES_LEVEL } : segment,
    ),
  );
  return [...(dirs.length > 0 ? [{ name: DIRS, entries: dirs }] : []), ...files, ...chunks];
}

/**
 * Paths /init hands to zstd on its command line as they are: no spaces, quotes, globs or
 * leading dashes. Any other large file stays in a chunk.
 */
const PLAIN_PATH = /^[A-Za-z0-9_.+@%=,-][A-Za-z0-9_.+@%=,/-]*$/;

/**
 * Cuts a list of entries (in path order) into chunks of at most CHUNK_MAX_BYTES of file data,
 * named `<name>-1`, `<name>-2`… (just `<name>` when one is enough). All names of a hard-linked
 * file go to the chunk of its first name: the kernel and cpio forget links at each trailer.
 */
export function chunkEntries(name: string, entries: Array<[TreePath, TreeNode]>): Segment[] {
  const chunks: Array<Array<[TreePath, TreeNode]>> = [];
  const chunkOf = new Map<FileContent, Array<[TreePath, TreeNode]>>();
  let current: Array<[TreePath, TreeNode]> = [];
  let bytes = 0;
  for (const [path, node] of entries) {
    if (node.kind === 'file') {
      const earlier = chunkOf.get(node.content);
      if (earlier !== undefined) {
        earlier.push([path, node]);
        continue;
      }
      const size = node.content.data.byteLength;
      if (current.length > 0 && bytes + size > CHUNK_MAX_BYTES) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      chunkOf.set(node.content, current);
      bytes += size;
    }
    current.push([path, node]);
    if (bytes >= CHUNK_MIN_BYTES && cutsAfter(path)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) chunks.push(current);
  if (chunks.length === 1) return [{ name, entries: chunks[0] as Array<[TreePath, TreeNode]> }];
  return chunks.map((list, i) => ({ name: `${name}-${i + 1}`, entries: list }));
}

/** One path in 32 ends a chunk that is big enough: where is decided by the path alone. */
function cutsAfter(path: TreePath): boolean {
  return (createHash('sha256').update(path).digest()[0] as number) < 8;
}

export interface BuiltSegment {
  name: string;
  /** Default `cpio`. */
  kind?: SegmentKind;
  entries: number;
  /** The cpio archive's size, or for a `file` segment the file's. */
  uncompressedBytes: number;
  compressedBytes: number;
  /** The zstd or gzip level it was compressed at. */
  level?: number;
  /** The segment's cache key (see segmentKey), not a hash of its bytes. */
  cacheKey: string;
  cached: boolean;
  data: Uint8Array;
  /** What the segment holds (the plan's own list, not a copy), for the build report. */
  members?: ReadonlyArray<readonly [TreePath, TreeNode]>;
}

export interface SegmentBuildOptions {
  mtime: number;
  compression: OutputCompression;
  /** The level of segments that name none (default: the compressor's own default). */
  level?: number;
  cacheDir: string;
  /** Told about each damaged cached segment that was deleted and compressed again (default: none). */
  onRepair?: RepairReporter | undefined;
  /** Told before each segment that has to be compressed (the cache had none). */
  onCompress?: ((segment: Segment, bytes: number, level: number) => void) | undefined;
}

/**
 * Writes each segment as a cpio archive (a `file` segment as its file's bytes), compressed,
 * reusing cached compressed output. Segments missing from the cache are compressed several at
 * once (one per core: the compressor is single-threaded); the result keeps the plan's order.
 */
export async function buildSegments(
  segments: Segment[],
  options: SegmentBuildOptions,
): Promise<BuiltSegment[]> {
  const dir = join(options.cacheDir, 'segments');
  await mkdir(dir, { recursive: true });
  const jobs = segments.map((segment) => async (): Promise<BuiltSegment> => {
    const level = segment.level ?? options.level ?? defaultLevel(options.compression);
    const chunks =
      segment.kind === 'file'
        ? [fileData(segment)]
        : // Each payload is unpacked by a cpio of its own: inode numbers start at 1 in every
          // one, so a segment's bytes do not depend on how many entries came before it.
          [...writeCpio(segment.entries, { mtime: options.mtime, inodeBase: 1 }), cpioTrailer()];
    const { cacheKey, size } = segmentKey(segment, chunks);
    const key = `${cacheKey}.${options.compression}${level}`;
    let data = await readCachedSegment(join(dir, key), segment.name, size, options);
    const cached = data !== undefined;
    if (data === undefined) {
      options.onCompress?.(segment, size, level);
      data = await compressIntoCache(join(dir, key), segment.name, chunks, size, level, options);
    }
    return {
      name: segment.name,
      kind: segment.kind ?? 'cpio',
      entries: segment.entries.length,
      uncompressedBytes: size,
      compressedBytes: data.byteLength,
      level,
      cacheKey,
      cached,
      data,
      members: segment.entries,
    };
  });
  return await runLimited(jobs, availableParallelism());
}

function defaultLevel(compression: OutputCompression): number {
  return compression === 'gzip' ? 6 : compression === 'zstd' ? 3 : 0;
}

function fileData(segment: Segment): Uint8Array {
  const [only] = segment.entries;
  if (segment.entries.length !== 1 || only?.[1].kind !== 'file') {
    throw new Error(`file segment ${segment.name} must hold exactly one regular file`);
  }
  return only[1].content.data;
}

/** Runs the jobs, at most `limit` at a time, in order of start; results in the jobs' order. */
async function runLimited<T>(jobs: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  return results;
}

/** Bumped when the key's layout changes, so old cache entries are never read as new ones. */
const KEY_VERSION = 'segment-key-3';

/**
 * A hash that changes whenever the segment's bytes change, without reading the bytes of
 * package files: a data chunk that is a file's content is named by its origin (package
 * SHA-256, offset, length) when it has one, else by its own SHA-256; every other chunk
 * (headers, names, padding, symlink targets) is hashed as it is. Each chunk is tagged and
 * length-prefixed, so no two different archives give the same sequence; the kind is part of
 * the key (a file's bare bytes and a cpio of it differ).
 */
function segmentKey(segment: Segment, chunks: readonly Uint8Array[]): { cacheKey: string; size: number } {
  const contents = new Set<Uint8Array>();
  for (const [, node] of segment.entries) if (node.kind === 'file') contents.add(node.content.data);
  const hash = createHash('sha256').update(`${KEY_VERSION} ${segment.kind ?? 'cpio'}\n`);
  let size = 0;
  for (const chunk of chunks) {
    size += chunk.byteLength;
    const name = contents.has(chunk) ? (contentOrigin(chunk) ?? `sha256:${sha256Of(chunk)}`) : undefined;
    if (name === undefined) hash.update(`b${chunk.byteLength}\n`).update(chunk);
    else hash.update(`c${chunk.byteLength} ${name}\n`);
  }
  return { cacheKey: hash.digest('hex'), size };
}

function sha256Of(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---------------------------------------------------------------------------------------
// The segment cache: each entry is sealed (cache.ts) with the SHA-256 of its compressed
// bytes, taken right after they were shown to decompress to this segment's bytes; a reused
// segment must hash to it, so the image only ever gets bytes that passed that round trip.

/** What a sealed segment records besides the SHA-256 of its compressed bytes (in the seal). */
interface SegmentMeta {
  compression: OutputCompression;
  uncompressedBytes: number;
}

/** `<key>.sealed`; the unsealed `<key>` of older versions is deleted when it is replaced. */
function sealedSegmentPath(keyPath: string): string {
  return `${keyPath}.sealed`;
}

/**
 * The cached compressed segment when it is intact and made for `uncompressedBytes` in this
 * compression; a damaged one is reported and deleted (undefined: compress again).
 */
async function readCachedSegment(
  keyPath: string,
  name: string,
  uncompressedBytes: number,
  options: SegmentBuildOptions,
): Promise<Uint8Array | undefined> {
  const entry = await readSealed<SegmentMeta>(sealedSegmentPath(keyPath), {
    onRepair: options.onRepair,
    label: `compressed segment ${name}`,
    checkMeta: (meta): meta is SegmentMeta => {
      const m = meta as Partial<SegmentMeta> | null;
      return m?.compression === options.compression && m.uncompressedBytes === uncompressedBytes;
    },
  });
  return entry?.payload;
}

/**
 * Compresses a segment, checks that it decompresses to exactly its bytes (so no compressor
 * fault reaches the image or the cache), and stores it sealed. Comparing the bytes beats
 * hashing both sides: measured on the 440 MB of a cold build, the round trip costs ~0.9 s
 * (decompression 0.74 s, memcmp the rest) against 1.4 s for decompressing and hashing.
 */
async function compressIntoCache(
  keyPath: string,
  name: string,
  chunks: readonly Uint8Array[],
  size: number,
  level: number,
  options: SegmentBuildOptions,
): Promise<Uint8Array> {
  const raw =
    chunks.length === 1
      ? Buffer.from((chunks[0] as Uint8Array).buffer, (chunks[0] as Uint8Array).byteOffset, size)
      : Buffer.concat(chunks, size);
  const data = await compress(raw, options.compression, level);
  const back = options.compression === 'none' ? data : await decompress(data, options.compression);
  if (!raw.equals(back)) {
    throw new HookError(
      'E_IO',
      `Compressing segment ${name} (${options.compression} level ${level}) gave data that does not decompress to its ${size} bytes (${back.byteLength} bytes back)`,
      { hint: 'The compressor is faulty; set another compression in hook.yaml (compression:)' },
    );
  }
  const meta: SegmentMeta = { compression: options.compression, uncompressedBytes: size };
  await writeSealed(sealedSegmentPath(keyPath), meta, [data]);
  await rm(keyPath, { force: true });
  return data;
}
