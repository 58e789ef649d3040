/**
 * Compression codecs over whole buffers: detection by magic number, decompression of xz
 * (WebAssembly, `xz-decompress`), zstd (native, `@mongodb-js/zstd`) and gzip (`node:zlib`),
 * and deterministic compression to zstd or gzip (same input and level → same bytes).
 */

import { createRequire } from 'node:module';
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

async function xzDecompress(buf: Uint8Array): Promise<Uint8Array> {
  if (((buf[7] ?? 0) & 0x0f) === XZ_CHECK_SHA256) {
    throw new Error('the stream uses a SHA-256 integrity check, which the xz decoder does not support');
  }
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
