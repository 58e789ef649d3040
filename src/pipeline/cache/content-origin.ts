/**
 * Where a file's bytes came from, so a segment's cache key can name unchanged package
 * contents instead of hashing them on every build. Unpacked data tars are registered with
 * the SHA-256 of their verified `.deb`; the tar is a pure function of that `.deb`, so a view
 * into it is identified by (package SHA-256, offset, length). Anything else has no origin
 * and is hashed by its bytes.
 */

interface Region {
  id: string;
  start: number;
  end: number;
}

const regions = new WeakMap<ArrayBufferLike, Region[]>();

/** Records that `buf` holds the bytes `id` names; `buf` must never be written afterwards. */
export function recordOrigin(buf: Uint8Array, id: string): void {
  const list = regions.get(buf.buffer) ?? [];
  if (list.length === 0) regions.set(buf.buffer, list);
  list.push({ id, start: buf.byteOffset, end: buf.byteOffset + buf.byteLength });
}

/** `<id>@<offset>+<length>` for a view into a recorded buffer; undefined otherwise. */
export function contentOrigin(data: Uint8Array): string | undefined {
  const list = regions.get(data.buffer);
  if (list === undefined) return undefined;
  const from = data.byteOffset;
  const to = from + data.byteLength;
  const region = list.find((r) => r.start <= from && to <= r.end);
  return region && `${region.id}@${from - region.start}+${data.byteLength}`;
}
