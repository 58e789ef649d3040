/**
 * Splits concatenated zstd frames without decompressing them, by walking frame and block
 * headers (RFC 8878), to find the compressed archives of an initramfs.
 */
import { HookError } from '../errors.ts';

const FRAME_MAGIC = 0xfd2fb528;

export function splitZstdFrames(buf: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let offset = 0;
  while (offset < buf.byteLength) {
    const end = zstdFrameEnd(buf, offset);
    if (end.frame) frames.push(buf.subarray(offset, end.offset));
    offset = end.offset;
  }
  return frames;
}

/**
 * Where the zstd frame (or skippable frame, `frame: false`) starting at `start` ends, from its
 * headers alone; what follows it may be anything.
 */
export function zstdFrameEnd(buf: Uint8Array, start: number): { offset: number; frame: boolean } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = start;
  const need = (n: number) => {
    if (offset + n > buf.byteLength) {
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `Truncated zstd data at byte ${offset} (needs ${n} more bytes)`,
      );
    }
  };
  need(4);
  const magic = view.getUint32(offset, true);
  offset += 4;
  if ((magic & 0xfffffff0) === 0x184d2a50) {
    need(4);
    offset += 4 + view.getUint32(offset, true);
    need(0);
    return { offset, frame: false };
  }
  if (magic !== FRAME_MAGIC) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Not a zstd frame at byte ${start} (magic ${magic.toString(16)})`,
    );
  }
  need(1);
  const descriptor = buf[offset++] as number;
  const singleSegment = (descriptor & 0x20) !== 0;
  const checksum = (descriptor & 0x04) !== 0;
  const dictBytes = [0, 1, 2, 4][descriptor & 0x03] as number;
  const fcsFlag = descriptor >> 6;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([0, 2, 4, 8][fcsFlag] as number);
  offset += (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
  for (;;) {
    need(3);
    const header =
      (buf[offset] as number) | ((buf[offset + 1] as number) << 8) | ((buf[offset + 2] as number) << 16);
    offset += 3;
    const last = (header & 1) === 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new HookError('E_ARCHIVE_FORMAT', `Reserved zstd block type at byte ${offset - 3}`);
    offset += type === 1 ? 1 : size;
    if (last) break;
  }
  if (checksum) offset += 4;
  need(0);
  return { offset, frame: true };
}
