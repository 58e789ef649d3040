/**
 * gzip (RFC 1952) written so that the bytes depend only on the input: MTIME 0, no file
 * name, OS = Unix (3) whatever the host (zlib writes the host's OS byte).
 */
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;
/** `zlib.crc32` exists from Node 20.15 on. */
const crc32 = (zlib as { crc32?: Crc32 }).crc32;

const OS_UNIX = 3;
/** Largest payload of a stored deflate block (its length field is 16 bits). */
const STORED_BLOCK = 0xffff;

/** Deflated at `level`, with the header fields fixed. */
export function gzipDeterministic(data: Uint8Array, level = 6): Uint8Array {
  const gz = zlib.gzipSync(data, { level });
  gz[9] = OS_UNIX;
  return gz;
}

/** Whether storedGzip can run here (it needs zlib.crc32). */
export const canStoreGzip = crc32 !== undefined;

/**
 * A gzip member of stored deflate blocks (RFC 1951 §3.2.4) over `pieces`, for data that is
 * compressed already: a few bytes per 64 KiB larger than the data, and no copy of it (the
 * returned pieces are views of the input).
 */
export function storedGzip(pieces: readonly Uint8Array[]): Uint8Array[] {
  if (crc32 === undefined) throw new Error('storedGzip needs zlib.crc32 (Node 20.15 or later)');
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=Unix.
  const out: Uint8Array[] = [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, OS_UNIX)];
  let crc = 0;
  let total = 0;
  let remaining = 0;
  for (const piece of pieces) remaining += piece.byteLength;
  // Blocks are cut across piece boundaries: each holds up to 64 KiB of the concatenation.
  let blockLeft = 0;
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
