/**
 * Compression codecs over whole buffers: detection by magic number, decompression of xz
 * (the host's `xz` when on PATH, else WebAssembly, `xz-decompress`), zstd (native,
 * `@mongodb-js/zstd`) and gzip (`node:zlib`), and deterministic compression to zstd or gzip
 * (same input and level → same bytes).
 */

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import xz from 'xz-decompress';
import { HookError } from '../errors.ts';

/**
 * The native binding of `@mongodb-js/zstd`, used directly: the package's `compress()`
 * wrapper (1.2.2) drops the `level` argument, so every level would compress at the default.
 */
const zstd = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js') as {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
};

export type CompressionKind = 'xz' | 'zstd' | 'gzip' | 'none';
export type OutputCompression = 'zstd' | 'gzip' | 'none';

const MAGICS: Array<[Exclude<CompressionKind, 'none'>, number[]]> = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['gzip', [0x1f, 0x8b]],
];

/**
 * Default zstd level. Measured on 100 MiB of docker.io's data.tar (2 shared cores):
 * -3: ratio 3.13 at 61 MB/s; -9: 3.48 at 18 MB/s; -19: 3.92 at 0.5 MB/s. Decompression
 * speed barely changes with the level, so -19 only pays for cached release builds.
 */
export const DEFAULT_ZSTD_LEVEL = 3;
export const DEFAULT_GZIP_LEVEL = 6;

/**
 * The level of the OS's initramfs payloads, which every machine downloads and holds in RAM.
 * Measured on docker.io's 96.9 MB (host zstd 1.5.4): -3 30.7 MB, -9 28.0, -12 27.3, -15 26.9,
 * -17 25.7, -19 25.2 (about 1.5 MB/s a core, once per package version: segments are cached by
 * content). Long windows (--long=27: 24.6 MB; 5% on the small files, 20.2 against 21.3 MB) are
 * out of reach of this binding and would make zstd hold up to a whole file while /init unpacks
 * it; xz -9 is ~8% smaller than zstd -19 but decompresses ~10x slower, and /init decompresses
 * everything at every boot. gzip (for kernels without zstd): its best level.
 */
export function payloadLevel(kind: OutputCompression): number {
  return kind === 'zstd' ? 19 : kind === 'gzip' ? 9 : 0;
}

/** The compression of `buf` judged by its first bytes; anything unrecognized is `'none'`. */
export function detectCompression(buf: Uint8Array): CompressionKind {
  for (const [kind, magic] of MAGICS) {
    if (buf.byteLength >= magic.length && magic.every((byte, i) => buf[i] === byte)) return kind;
  }
  return 'none';
}

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Decompresses `buf` (of the given kind, else the detected one). `'none'` returns the input.
 * Concatenated streams/frames/members are all decoded.
 */
export async function decompress(
  buf: Uint8Array,
  kind: CompressionKind = detectCompression(buf),
): Promise<Uint8Array> {
  const detected = detectCompression(buf);
  if (kind !== 'none' && detected !== kind) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot decompress: data is not ${kind} (its magic says ${detected})`,
    );
  }
  try {
    switch (kind) {
      case 'none':
        return buf;
      case 'gzip':
        return gunzipSync(buf);
      case 'zstd':
        return await zstd.decompress(asBuffer(buf));
      case 'xz':
        return await xzDecompress(buf);
    }
  } catch (error) {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot decompress ${kind} data: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Stream header: 6-byte magic, then flags whose second byte's low nibble is the check type. */
const XZ_CHECK_SHA256 = 0x0a;

/**
 * Below this size the WebAssembly decoder is quicker than starting a process. Above it the
 * host's `xz` (4-5× faster, and several run at once) is used when there is one.
 */
const HOST_XZ_MIN_BYTES = 256 * 1024;

export type XzDecoder = 'host' | 'wasm';

async function xzDecompress(buf: Uint8Array): Promise<Uint8Array> {
  refuseSha256Check(buf);
  return hostXz() !== undefined && buf.byteLength >= HOST_XZ_MIN_BYTES
    ? await xzDecompressHost(buf)
    : await xzDecompressWasm(buf);
}

/**
 * The WebAssembly decoder cannot verify SHA-256 checks; refused with either decoder, so a
 * build does not depend on whether the host has `xz`.
 */
function refuseSha256Check(buf: Uint8Array): void {
  if (((buf[7] ?? 0) & 0x0f) === XZ_CHECK_SHA256) {
    throw new Error('the stream uses a SHA-256 integrity check, which the xz decoder does not support');
  }
}

/** Decompresses xz with the given decoder (both give the same bytes; tests compare them). */
export async function decompressXzWith(buf: Uint8Array, decoder: XzDecoder): Promise<Uint8Array> {
  if (detectCompression(buf) !== 'xz')
    throw new HookError('E_ARCHIVE_FORMAT', 'Cannot decompress: not xz data');
  try {
    refuseSha256Check(buf);
    return decoder === 'host' ? await xzDecompressHost(buf) : await xzDecompressWasm(buf);
  } catch (error) {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot decompress xz data: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Decompresses many small xz files (kernel modules) at once: with the host's `xz`, the
 * files are concatenated (a valid multi-stream .xz) into one process per core and the
 * output is cut by each file's uncompressed size from its stream index. Same order out.
 */
export async function decompressXzBatch(bufs: readonly Uint8Array[]): Promise<Uint8Array[]> {
  try {
    for (const buf of bufs) {
      if (detectCompression(buf) !== 'xz') throw new Error('not xz data (magic)');
      refuseSha256Check(buf);
    }
    if (hostXz() === undefined || bufs.length < 2) {
      const out: Uint8Array[] = [];
      for (const buf of bufs) out.push(await xzDecompressWasm(buf));
      return out;
    }
    const groups = splitEvenly(bufs, availableParallelism());
    const parts = await Promise.all(groups.map((group) => decompressConcatenated(group)));
    return parts.flat();
  } catch (error) {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot decompress xz data: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function decompressConcatenated(group: readonly Uint8Array[]): Promise<Uint8Array[]> {
  if (group.length === 0) return [];
  const sizes = group.map(xzUncompressedSize);
  const out = await runHostXz(
    Buffer.concat(group),
    sizes.reduce((a, b) => a + b, 0),
  );
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(out.subarray(at, at + size));
    at += size;
  }
  return parts;
}

/** Contiguous groups of about equal compressed bytes, order kept. */
function splitEvenly(bufs: readonly Uint8Array[], count: number): Uint8Array[][] {
  const total = bufs.reduce((a, b) => a + b.byteLength, 0);
  const groups: Uint8Array[][] = [[]];
  let acc = 0;
  for (const buf of bufs) {
    const current = groups[groups.length - 1] as Uint8Array[];
    if (current.length > 0 && acc >= (total * groups.length) / count) groups.push([buf]);
    else current.push(buf);
    acc += buf.byteLength;
  }
  return groups;
}

/**
 * The uncompressed size of an .xz file (all its streams), read from the stream indexes
 * backwards from the end, as `xz --list` does. Throws when the structure is not xz.
 */
export function xzUncompressedSize(buf: Uint8Array): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let end = buf.byteLength;
  let total = 0;
  while (end > 0) {
    while (end >= 4 && view.getUint32(end - 4) === 0) end -= 4; // stream padding
    if (end < 24 || buf[end - 2] !== 0x59 || buf[end - 1] !== 0x5a) throw new Error('bad xz stream footer');
    const indexSize = (view.getUint32(end - 8, true) + 1) * 4;
    let pos = end - 12 - indexSize;
    if (pos < 12 || buf[pos] !== 0) throw new Error('bad xz index');
    const indexEnd = pos + indexSize;
    pos++;
    const varint = (): number => {
      let value = 0;
      for (let shift = 1; pos < indexEnd; shift *= 128) {
        const byte = buf[pos++] as number;
        value += (byte & 0x7f) * shift;
        if ((byte & 0x80) === 0) return value;
      }
      throw new Error('bad xz index');
    };
    let blocks = 0;
    for (let records = varint(); records > 0; records--) {
      blocks += Math.ceil(varint() / 4) * 4;
      total += varint();
    }
    const start = end - 12 - indexSize - blocks - 12;
    if (start < 0 || !XZ_MAGIC.every((byte, i) => buf[start + i] === byte)) throw new Error('bad xz index');
    end = start;
  }
  return total;
}

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

let hostXzPath: string | null | undefined;

/** The `xz` executable on PATH, looked up once; undefined when there is none. */
function hostXz(): string | undefined {
  if (hostXzPath === undefined) {
    hostXzPath = null;
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (dir === '') continue;
      try {
        accessSync(join(dir, 'xz'), constants.X_OK);
        hostXzPath = join(dir, 'xz');
        break;
      } catch {
        // not in this directory
      }
    }
  }
  return hostXzPath ?? undefined;
}

/** At most one `xz` process per core at a time; callers queue in call order. */
const hostSlots = { free: availableParallelism(), waiting: [] as Array<() => void> };

async function withHostSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (hostSlots.free > 0) hostSlots.free--;
  else await new Promise<void>((resolve) => hostSlots.waiting.push(resolve));
  try {
    return await fn();
  } finally {
    const next = hostSlots.waiting.shift();
    if (next) next();
    else hostSlots.free++;
  }
}

async function xzDecompressHost(buf: Uint8Array): Promise<Uint8Array> {
  return await runHostXz(buf, xzUncompressedSize(buf));
}

/**
 * `xz -dc` over `input`; the output must be exactly `expected` bytes (from the index), and
 * xz itself verifies every block's check and the index.
 */
function runHostXz(input: Uint8Array, expected: number): Promise<Buffer> {
  const path = hostXz();
  if (path === undefined) return Promise.reject(new Error('no xz on PATH'));
  return withHostSlot(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        const out = Buffer.allocUnsafeSlow(expected);
        let filled = 0;
        let tooLong = false;
        const stderr: Buffer[] = [];
        const child = spawn(path, ['--decompress', '--stdout', '--quiet'], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        child.stdin.on('error', () => {}); // xz stopped reading: its exit status says why
        child.stdout.on('data', (chunk: Buffer) => {
          if (filled + chunk.byteLength > expected) tooLong = true;
          else chunk.copy(out, filled);
          filled += chunk.byteLength;
        });
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        child.on('error', reject);
        child.on('close', (code, signal) => {
          const message = Buffer.concat(stderr).toString().trim();
          if (code !== 0) reject(new Error(`xz failed (${signal ?? `exit ${code}`}): ${message}`));
          else if (tooLong || filled !== expected)
            reject(new Error(`xz wrote ${filled} bytes where the index says ${expected}`));
          else resolve(out);
        });
        child.stdin.end(input);
      }),
  );
}

async function xzDecompressWasm(buf: Uint8Array): Promise<Uint8Array> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(buf);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of new xz.XzReadableStream(input) as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk); // already a copy out of the wasm memory
    total += chunk.byteLength;
  }
  return Buffer.concat(chunks, total);
}

/**
 * Compresses deterministically. zstd runs single-threaded at `level` (default 3); gzip uses
 * `level` (default 6: level 9 is several times slower for <1% smaller output) with a header carrying mtime 0 and OS "Unix" whatever the host.
 */
export async function compress(
  buf: Uint8Array,
  kind: OutputCompression,
  level?: number,
): Promise<Uint8Array> {
  switch (kind) {
    case 'none':
      return buf;
    case 'zstd':
      return await zstd.compress(asBuffer(buf), level ?? DEFAULT_ZSTD_LEVEL);
    case 'gzip': {
      const out = gzipSync(buf, { level: level ?? DEFAULT_GZIP_LEVEL });
      out.writeUInt32LE(0, 4); // MTIME (zlib already writes 0; made explicit)
      out[9] = 3; // OS = Unix, so hosts with another zlib OS_CODE produce the same bytes
      return out;
    }
  }
}
