/**
 * The initramfs is several cpio archives concatenated, each compressed on its own (the
 * kernel accepts that). Cutting the image by stable lines — directories and small packages,
 * kernel modules, firmware, each large package, generated configuration — means a change to
 * one file recompresses one segment; unchanged segments come from a cache keyed by what
 * determines their uncompressed bytes: every cpio header byte, and for each file's data
 * either its origin in a package's unpacked tar (see content-origin.ts) or its SHA-256.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type RepairReporter, readSealed, writeSealed } from '../../debian/cache.ts';
import { HookError } from '../../errors.ts';
import { compress, decompress, type OutputCompression } from '../../formats/compress.ts';
import { cpioTrailer, writeCpio } from '../../formats/cpio.ts';
import type { FileContent, Tree, TreeNode, TreePath } from '../../tree/tree.ts';
import { contentOrigin } from '../cache/content-origin.ts';

export interface Segment {
  name: string;
  entries: Array<[TreePath, TreeNode]>;
}

export interface SegmentPlanOptions {
  /** Which package installed each path; paths absent here are generated configuration. */
  ownership: ReadonlyMap<TreePath, string>;
  /** A package whose files add up to at least this many bytes gets a segment of its own. */
  largePackageBytes: number;
}

const CONFIG = 'config';
const BASE = 'base';

/** Assigns every node of the tree to exactly one segment, in a fixed order. */
export function planSegments(tree: Tree, options: SegmentPlanOptions): Segment[] {
  const entries = tree.entries();
  const packageBytes = new Map<string, number>();
  for (const [path, node] of entries) {
    const owner = options.ownership.get(path);
    if (owner !== undefined && node.kind === 'file') {
      packageBytes.set(owner, (packageBytes.get(owner) ?? 0) + node.content.data.byteLength);
    }
  }
  const segmentOf = (path: TreePath, node: TreeNode): string => {
    // Directories all go first, so every later segment finds its parents in place.
    if (node.kind === 'dir') return BASE;
    if (path.startsWith('usr/lib/modules/')) return 'kernel-modules';
    if (path.startsWith('usr/lib/firmware/')) return 'firmware';
    const owner = options.ownership.get(path);
    if (owner === undefined) return CONFIG;
    if ((packageBytes.get(owner) ?? 0) >= options.largePackageBytes) return `package-${owner}`;
    return BASE;
  };
  // Hard links must stay in one segment: the kernel forgets link inodes at each trailer.
  const contentSegment = new Map<FileContent, string>();
  const bySegment = new Map<string, Array<[TreePath, TreeNode]>>();
  for (const [path, node] of entries) {
    let name = segmentOf(path, node);
    if (node.kind === 'file') {
      const first = contentSegment.get(node.content);
      if (first === undefined) contentSegment.set(node.content, name);
      else name = first;
    }
    const list = bySegment.get(name) ?? [];
    if (list.length === 0) bySegment.set(name, list);
    list.push([path, node]);
  }
  const rank = (name: string) =>
    name === BASE ? 0 : name === 'kernel-modules' ? 1 : name === 'firmware' ? 2 : name === CONFIG ? 4 : 3;
  return [...bySegment.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, list]) => ({ name, entries: list }));
}

export interface BuiltSegment {
  name: string;
  entries: number;
  uncompressedBytes: number;
  compressedBytes: number;
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
  level?: number;
  cacheDir: string;
  /** Told about each damaged cached segment that was deleted and compressed again (default: none). */
  onRepair?: RepairReporter | undefined;
}

/** Writes each segment as a cpio archive, compressed, reusing cached compressed output. */
export async function buildSegments(
  segments: Segment[],
  options: SegmentBuildOptions,
): Promise<BuiltSegment[]> {
  const dir = join(options.cacheDir, 'segments');
  await mkdir(dir, { recursive: true });
  const built: BuiltSegment[] = [];
  let inodeBase = 1;
  for (const segment of segments) {
    const chunks = [...writeCpio(segment.entries, { mtime: options.mtime, inodeBase }), cpioTrailer()];
    inodeBase += segment.entries.length + 1;
    const { cacheKey, size } = segmentKey(segment, chunks);
    const key = `${cacheKey}.${options.compression}${options.level ?? ''}`;
    let data = await readCachedSegment(join(dir, key), segment.name, size, options);
    const cached = data !== undefined;
    if (data === undefined)
      data = await compressIntoCache(join(dir, key), segment.name, chunks, size, options);
    built.push({
      name: segment.name,
      entries: segment.entries.length,
      uncompressedBytes: size,
      compressedBytes: data.byteLength,
      cacheKey,
      cached,
      data,
      members: segment.entries,
    });
  }
  return built;
}

/** Bumped when the key's layout changes, so old cache entries are never read as new ones. */
const KEY_VERSION = 'segment-key-2';

/**
 * A hash that changes whenever the segment's cpio bytes change, without reading the bytes
 * of package files: a data chunk that is a file's content is named by its origin (package
 * SHA-256, offset, length) when it has one, else by its own SHA-256; every other chunk
 * (headers, names, padding, symlink targets) is hashed as it is. Each chunk is tagged and
 * length-prefixed, so no two different archives give the same sequence.
 */
function segmentKey(segment: Segment, chunks: readonly Uint8Array[]): { cacheKey: string; size: number } {
  const contents = new Set<Uint8Array>();
  for (const [, node] of segment.entries) if (node.kind === 'file') contents.add(node.content.data);
  const hash = createHash('sha256').update(`${KEY_VERSION}\n`);
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
// bytes, taken right after they were shown to decompress to this segment's cpio; a reused
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
 * The cached compressed segment when it is intact and made for `uncompressedBytes` of cpio in
 * this compression; a damaged one is reported and deleted (undefined: compress again).
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
 * Compresses a segment, checks that it decompresses to exactly the cpio bytes (so no
 * compressor fault reaches the image or the cache), and stores it sealed. Comparing the
 * bytes beats hashing both sides: measured on the 440 MB of a cold build, the round trip
 * costs ~0.9 s (decompression 0.74 s, memcmp the rest) against 1.4 s for decompressing and
 * hashing, on ~2 s of compression; a one-file rebuild only redoes its 0.3 MB segment.
 */
async function compressIntoCache(
  keyPath: string,
  name: string,
  chunks: readonly Uint8Array[],
  size: number,
  options: SegmentBuildOptions,
): Promise<Uint8Array> {
  const raw = Buffer.concat(chunks, size);
  const data = await compress(raw, options.compression, options.level);
  const back = options.compression === 'none' ? data : await decompress(data, options.compression);
  if (!raw.equals(back)) {
    throw new HookError(
      'E_IO',
      `Compressing segment ${name} (${options.compression}) gave data that does not decompress to its ${size} bytes of cpio (${back.byteLength} bytes back)`,
      { hint: 'The compressor is faulty; set another compression in hook.yaml (compression:)' },
    );
  }
  const meta: SegmentMeta = { compression: options.compression, uncompressedBytes: size };
  await writeSealed(sealedSegmentPath(keyPath), meta, [data]);
  await rm(keyPath, { force: true });
  return data;
}
