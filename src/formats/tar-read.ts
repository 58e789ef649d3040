/**
 * Strict reader for uncompressed tar archives held in one buffer: POSIX ustar (with the
 * `prefix` field), GNU (`L`/`K` long names, base-256 numbers) and pax (`x` per-entry and
 * `g` global extended headers). Header checksums and every length are checked; file data
 * are views into the input (no copy). Paths are returned as written; callers normalize.
 */
import { HookError } from '../errors.ts';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  /** Path as written in the archive (`./usr/bin/x`), after long-name/pax overrides. */
  path: string;
  type: TarEntryType;
  /** Mode field as written (permission bits, sometimes with type bits). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch (fractional pax mtimes are truncated). */
  mtime: number;
  /** Symlink target, or hard-link target path as written; `''` otherwise. */
  linkName: string;
  devMajor: number;
  devMinor: number;
  /** File contents (empty for anything but files): a view into the archive buffer. */
  data: Uint8Array;
  /** Where the entry's data starts in the archive (after its header and any extended headers). */
  dataOffset: number;
  /** Extended attributes the pax headers give the entry (`SCHILY.xattr.<name>`), by name. */
  xattrs: string[];
}

const BLOCK = 512;
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');
const MAX_PAX_LENGTH_DIGITS = 16;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

type PaxRecords = Map<string, string>;

class TarFormatError extends HookError {
  constructor(source: string, offset: number, what: string) {
    super('E_ARCHIVE_FORMAT', `Cannot read tar archive ${source} at offset ${offset}: ${what}`);
  }
}

/** Reads every entry. `source` names the archive in error messages (`data.tar of bash_5.2.deb`). */
export function readTar(buf: Uint8Array, source = ''): TarEntry[] {
  const entries: TarEntry[] = [];
  const globalPax: PaxRecords = new Map();
  let pax: PaxRecords | undefined;
  let gnuLongName: string | undefined;
  let gnuLongLink: string | undefined;
  let offset = 0;
  while (offset + BLOCK <= buf.byteLength) {
    const header = buf.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return entries; // end-of-archive marker
    const fail = (what: string) => new TarFormatError(source, offset, what);
    verifyChecksum(header, fail);
    const typeFlag = String.fromCharCode(header[156] as number);
    const size = numberField(header, 124, 12, 'size', fail);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.byteLength) throw fail(`entry data (${size} bytes) runs past the end of the archive`);
    const body = buf.subarray(dataStart, dataEnd);
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (typeFlag === 'x' || typeFlag === 'g') {
      const records = parsePax(body, fail);
      if (typeFlag === 'g') for (const [key, value] of records) globalPax.set(key, value);
      else pax = records;
    } else if (typeFlag === 'L') {
      gnuLongName = cString(body);
    } else if (typeFlag === 'K') {
      gnuLongLink = cString(body);
    } else {
      const type = TYPES[typeFlag];
      if (type === undefined) throw fail(`unsupported entry type "${printable(typeFlag)}"`);
      const attrs: PaxRecords = new Map([...globalPax, ...(pax ?? [])]);
      const entry = decodeEntry(header, type, attrs, gnuLongName, gnuLongLink, fail);
      entry.dataOffset = dataStart;
      // A pax size overrides the header's (needed above 8 GiB); the data region follows it.
      const paxSize = attrs.get('size');
      let entryNext = next;
      if (paxSize !== undefined) {
        const realSize = decimal(paxSize, 'pax size', fail);
        const realEnd = dataStart + realSize;
        if (realEnd > buf.byteLength)
          throw fail(`entry data (${realSize} bytes) runs past the end of the archive`);
        entry.data = type === 'file' ? buf.subarray(dataStart, realEnd) : new Uint8Array(0);
        entryNext = dataStart + Math.ceil(realSize / BLOCK) * BLOCK;
      } else {
        entry.data = type === 'file' ? body : new Uint8Array(0);
      }
      entries.push(entry);
      pax = undefined;
      gnuLongName = undefined;
      gnuLongLink = undefined;
      offset = entryNext;
      continue;
    }
    offset = next;
  }
  if (offset !== buf.byteLength) throw new TarFormatError(source, offset, 'truncated header block');
  if (pax || gnuLongName !== undefined || gnuLongLink !== undefined) {
    throw new TarFormatError(source, offset, 'archive ends after an extended header without its entry');
  }
  return entries; // no end-of-archive marker: tolerated, every entry was complete
}

function decodeEntry(
  header: Uint8Array,
  type: TarEntryType,
  attrs: PaxRecords,
  longName: string | undefined,
  longLink: string | undefined,
  fail: (what: string) => Error,
): TarEntry {
  const magic = String.fromCharCode(...header.subarray(257, 265));
  // POSIX ustar splits long paths into prefix/name; GNU uses those bytes for atime/ctime.
  const prefix = magic === 'ustar\u000000' ? cString(header.subarray(345, 500)) : '';
  const name = cString(header.subarray(0, 100));
  const headerPath = prefix === '' ? name : `${prefix}/${name}`;
  const path = attrs.get('path') ?? longName ?? headerPath;
  if (path === '') throw fail('entry with an empty name');
  const hasDevice = type === 'char' || type === 'block';
  return {
    path,
    type,
    mode: numberField(header, 100, 8, 'mode', fail),
    uid: paxNumber(attrs, 'uid', fail) ?? numberField(header, 108, 8, 'uid', fail),
    gid: paxNumber(attrs, 'gid', fail) ?? numberField(header, 116, 8, 'gid', fail),
    uname: attrs.get('uname') ?? cString(header.subarray(265, 297)),
    gname: attrs.get('gname') ?? cString(header.subarray(297, 329)),
    mtime: paxNumber(attrs, 'mtime', fail) ?? numberField(header, 136, 12, 'mtime', fail),
    linkName: attrs.get('linkpath') ?? longLink ?? cString(header.subarray(157, 257)),
    devMajor: hasDevice ? numberField(header, 329, 8, 'devmajor', fail) : 0,
    devMinor: hasDevice ? numberField(header, 337, 8, 'devminor', fail) : 0,
    data: new Uint8Array(0),
    dataOffset: 0,
    xattrs: [...attrs.keys()]
      .filter((key) => /^(SCHILY|LIBARCHIVE)\.xattr\./.test(key))
      .map((key) => key.replace(/^(SCHILY|LIBARCHIVE)\.xattr\./, '')),
  };
}

function verifyChecksum(header: Uint8Array, fail: (what: string) => Error): void {
  const stored = numberField(header, 148, 8, 'checksum', fail);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  if (stored !== unsigned && stored !== signed) {
    throw fail(
      `header checksum mismatch (stored ${stored}, computed ${unsigned}): not a tar archive or corrupt`,
    );
  }
}

/** Octal text (NUL/space terminated) or GNU base-256 (high bit of the first byte set). */
function numberField(
  header: Uint8Array,
  start: number,
  width: number,
  label: string,
  fail: (what: string) => Error,
): number {
  const field = header.subarray(start, start + width);
  if (((field[0] as number) & 0x80) !== 0) {
    if ((field[0] as number) & 0x40) throw fail(`negative ${label}`);
    let value = (field[0] as number) & 0x3f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] as number);
    if (!Number.isSafeInteger(value)) throw fail(`${label} too large`);
    return value;
  }
  // Octal digits, optionally led by spaces and ended by NUL or space; blank reads as 0.
  const text = String.fromCharCode(...field)
    .replace(/^ +/, '')
    .replace(/[\0 ].*$/s, '');
  return text === '' ? 0 : octal(text, label, fail);
}

function octal(text: string, label: string, fail: (what: string) => Error): number {
  if (!/^[0-7]+$/.test(text)) throw fail(`bad ${label} field "${printable(text)}"`);
  return Number.parseInt(text, 8);
}

function decimal(text: string, label: string, fail: (what: string) => Error): number {
  if (!/^[0-9]+$/.test(text)) throw fail(`bad ${label} "${printable(text)}"`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw fail(`${label} too large`);
  return value;
}

function paxNumber(attrs: PaxRecords, key: string, fail: (what: string) => Error): number | undefined {
  const text = attrs.get(key);
  if (text === undefined) return undefined;
  // pax mtimes may be fractional (`1700000000.123456789`); seconds are kept.
  const whole = key === 'mtime' ? (text.split('.')[0] as string) : text;
  return decimal(whole, `pax ${key}`, fail);
}

/** pax records: `<length> <key>=<value>\n`, where length counts the whole record in bytes. */
function parsePax(body: Uint8Array, fail: (what: string) => Error): PaxRecords {
  const records: PaxRecords = new Map();
  let pos = 0;
  while (pos < body.byteLength) {
    if (body[pos] === 0) break; // trailing NUL padding written by some tools
    // The length is at most a safe integer's 16 digits: look no further for its space, and
    // decode without spreading the bytes into arguments (a long run overflowed the stack).
    let space = pos;
    const limit = Math.min(body.byteLength, pos + MAX_PAX_LENGTH_DIGITS + 1);
    while (space < limit && body[space] !== 0x20) space++;
    if (space >= limit) throw fail(`malformed pax record at byte ${pos} of the extended header`);
    const lengthText = latin1.decode(body.subarray(pos, space));
    const length = decimal(lengthText, 'pax record length', fail);
    const end = pos + length;
    if (
      space >= body.byteLength ||
      length <= space - pos + 1 ||
      end > body.byteLength ||
      body[end - 1] !== 0x0a
    ) {
      throw fail(`malformed pax record at byte ${pos} of the extended header`);
    }
    const record = utf8.decode(body.subarray(space + 1, end - 1));
    const equals = record.indexOf('=');
    if (equals <= 0) throw fail(`malformed pax record "${printable(record)}"`);
    const key = record.slice(0, equals);
    if (key.startsWith('GNU.sparse.')) throw fail('sparse files are not supported');
    records.set(key, record.slice(equals + 1));
    pos = end;
  }
  return records;
}

/** A NUL-terminated (or full-width) field, decoded as UTF-8. */
function cString(field: Uint8Array): string {
  const nul = field.indexOf(0);
  return utf8.decode(nul < 0 ? field : field.subarray(0, nul));
}

function printable(full: string): string {
  const text = full.length > 80 ? `${full.slice(0, 80)}...` : full;
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
