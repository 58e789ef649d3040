/**
 * A deterministic tar writer (POSIX ustar, with a pax extended header for a path or link
 * target too long for ustar's fields). Output is a list of pieces: headers, and file data
 * passed through without a copy. The same entries give the same bytes: no host user names,
 * one mtime for every entry, fixed header fields.
 */
import { HookError } from '../errors.ts';

export type TarEntry =
  /** `data` may be a list of pieces, written one after the other without a copy. */
  | {
      kind: 'file';
      path: string;
      mode: number;
      uid: number;
      gid: number;
      data: Uint8Array | readonly Uint8Array[];
    }
  | { kind: 'dir'; path: string; mode: number; uid: number; gid: number }
  | { kind: 'symlink'; path: string; uid: number; gid: number; target: string }
  /** A hard link to `target`, a file written earlier in the same archive. */
  | { kind: 'hardlink'; path: string; mode: number; uid: number; gid: number; target: string }
  | {
      kind: 'char' | 'block';
      path: string;
      mode: number;
      uid: number;
      gid: number;
      major: number;
      minor: number;
    }
  | { kind: 'fifo'; path: string; mode: number; uid: number; gid: number };

const BLOCK = 512;
const TYPE_FLAG: Record<TarEntry['kind'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};
const encoder = new TextEncoder();

export interface TarWriteOptions {
  /** mtime of every entry, seconds since the epoch (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** User and group names written in every header (default: none, numeric ids only). */
  ownerNames?: { user: string; group: string };
}

/** The archive's pieces, ending with the two zero blocks. */
export function writeTar(entries: Iterable<TarEntry>, options: TarWriteOptions): Uint8Array[] {
  const { mtime } = options;
  const names = options.ownerNames ?? { user: '', group: '' };
  const pieces: Uint8Array[] = [];
  for (const entry of entries) {
    const name = entry.kind === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
    const link = entry.kind === 'symlink' || entry.kind === 'hardlink' ? entry.target : '';
    const split = splitName(name);
    const pax: Array<[string, string]> = [];
    if (split === undefined) pax.push(['path', name]);
    if (encoder.encode(link).byteLength > 100) pax.push(['linkpath', link]);
    if (pax.length > 0) pieces.push(...paxHeader(name, pax, mtime));
    const data = entry.kind === 'file' ? (entry.data instanceof Uint8Array ? [entry.data] : entry.data) : [];
    let size = 0;
    for (const piece of data) size += piece.byteLength;
    pieces.push(
      header({
        name: split?.name ?? truncate(name, 100),
        prefix: split?.prefix ?? '',
        mode: entry.kind === 'symlink' ? 0o777 : entry.mode & 0o7777,
        uid: entry.uid,
        gid: entry.gid,
        size,
        mtime,
        type: TYPE_FLAG[entry.kind],
        link: truncate(link, 100),
        user: names.user,
        group: names.group,
        device: entry.kind === 'char' || entry.kind === 'block' ? [entry.major, entry.minor] : undefined,
      }),
    );
    pieces.push(...data);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) pieces.push(new Uint8Array(pad));
  }
  pieces.push(new Uint8Array(2 * BLOCK));
  return pieces;
}

/** ustar keeps a path up to 255 bytes as prefix (≤ 155) + "/" + name (≤ 100). */
function splitName(path: string): { prefix: string; name: string } | undefined {
  const bytes = encoder.encode(path).byteLength;
  if (bytes <= 100) return { prefix: '', name: path };
  for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
    const prefix = path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (encoder.encode(prefix).byteLength <= 155 && encoder.encode(name).byteLength <= 100 && name !== '')
      return { prefix, name };
  }
  return undefined;
}

function truncate(text: string, bytes: number): string {
  const encoded = encoder.encode(text);
  return encoded.byteLength <= bytes ? text : new TextDecoder().decode(encoded.subarray(0, bytes));
}

/** A pax extended header ('x') carrying the records, before the entry it describes. */
function paxHeader(name: string, records: Array<[string, string]>, mtime: number): Uint8Array[] {
  const body = encoder.encode(records.map(([key, value]) => paxRecord(key, value)).join(''));
  const head = header({
    name: truncate(`PaxHeaders/${name.split('/').filter(Boolean).pop() ?? 'entry'}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.byteLength,
    mtime,
    type: 'x',
    link: '',
    user: '',
    group: '',
    device: undefined,
  });
  return [head, ...withPadding(body)];
}

/** `<length> <key>=<value>\n`, where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restBytes = encoder.encode(rest).byteLength;
  let length = restBytes + 1;
  while (String(length).length + restBytes !== length) length = String(length).length + restBytes;
  return `${length}${rest}`;
}

function withPadding(data: Uint8Array): Uint8Array[] {
  const pad = (BLOCK - (data.byteLength % BLOCK)) % BLOCK;
  return pad === 0 ? [data] : [data, new Uint8Array(pad)];
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  link: string;
  user: string;
  group: string;
  /** Major and minor numbers, written for device entries only. */
  device: [number, number] | undefined;
}

function header(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const text = (offset: number, length: number, value: string) => {
    const bytes = encoder.encode(value);
    if (bytes.byteLength > length) throw new HookError('E_ARCHIVE_FORMAT', `tar field too long: "${value}"`);
    block.set(bytes, offset);
  };
  const octal = (offset: number, length: number, value: number) => {
    const digits = value.toString(8);
    if (!Number.isSafeInteger(value) || value < 0 || digits.length > length - 1) {
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `tar field value ${value} does not fit in ${length - 1} octal digits`,
      );
    }
    text(offset, length, `${digits.padStart(length - 1, '0')}\0`);
  };
  text(0, 100, fields.name);
  octal(100, 8, fields.mode);
  octal(108, 8, fields.uid);
  octal(116, 8, fields.gid);
  octal(124, 12, fields.size);
  octal(136, 12, fields.mtime);
  text(148, 8, '        ');
  text(156, 1, fields.type);
  text(157, 100, fields.link);
  text(257, 6, 'ustar\0');
  text(263, 2, '00');
  text(265, 32, fields.user);
  text(297, 32, fields.group);
  if (fields.device) {
    octal(329, 8, fields.device[0]);
    octal(337, 8, fields.device[1]);
  }
  text(345, 155, fields.prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  text(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}
