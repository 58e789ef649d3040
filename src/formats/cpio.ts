/**
 * The "newc" cpio format (magic `070701`) the Linux kernel unpacks as initramfs: a 110-byte
 * ASCII-hex header, the NUL-terminated name, then the data, each padded to 4 bytes.
 *
 * Written deterministically from the in-memory tree: entries in the order given, one fixed
 * mtime, inode numbers assigned in order from `inodeBase`. Hard links (file nodes sharing
 * one content object) share an inode; as GNU cpio does, only the last link carries the
 * data (the kernel links the earlier names to it and writes the data when it arrives).
 * The kernel forgets hard-link inodes at every `TRAILER!!!`, so each segment of a
 * concatenated initramfs must hold all links of a file; distinct `inodeBase` values per
 * segment keep inode numbers unique across the whole image anyway.
 */
import { HookError } from '../errors.ts';
import type { FileContent, TreeNode, TreePath } from '../tree/tree.ts';

export interface CpioWriteOptions {
  /** mtime of every entry, seconds since the epoch (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** First inode number of this archive (default 1). */
  inodeBase?: number;
}

export interface CpioEntry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  ino: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  /** A view into the archive buffer. */
  data: Uint8Array;
}

export const S_IFMT = 0o170000;
const TYPE_BITS: Record<TreeNode['kind'], number> = {
  fifo: 0o010000,
  char: 0o020000,
  dir: 0o040000,
  block: 0o060000,
  file: 0o100000,
  symlink: 0o120000,
};

const MAGIC = '070701';
const MAGIC_CRC = '070702';
const HEADER_SIZE = 110;
const TRAILER = 'TRAILER!!!';
const MAX_FIELD = 0xffffffff;
const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8');

interface HeaderFields {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
}

/**
 * Encodes the entries (no trailer: append `cpioTrailer()` to close the archive). Returns
 * chunks to concatenate; file data are passed through without a copy. The total length is
 * a multiple of 4.
 */
export function writeCpio(entries: Iterable<[TreePath, TreeNode]>, options: CpioWriteOptions): Uint8Array[] {
  const list = [...entries];
  const linkCount = countLinks(list);
  const lastLink = lastLinkIndex(list);
  const subdirs = countSubdirectories(list);
  const inodes = new Map<FileContent, number>();
  let nextInode = options.inodeBase ?? 1;
  const chunks: Uint8Array[] = [];
  list.forEach(([path, node], index) => {
    const name = path === '' ? '.' : path;
    let ino: number;
    if (node.kind === 'file') {
      const known = inodes.get(node.content);
      ino = known ?? nextInode++;
      if (known === undefined) inodes.set(node.content, ino);
    } else {
      ino = nextInode++;
    }
    const data = entryData(node, node.kind === 'file' && lastLink.get(node.content) === index);
    const fields: HeaderFields = {
      ino,
      mode: TYPE_BITS[node.kind] | (node.kind === 'symlink' ? 0o777 : node.mode & 0o7777),
      uid: node.uid,
      gid: node.gid,
      nlink: linkCountOf(path, node, linkCount, subdirs),
      mtime: options.mtime,
      size: data.byteLength,
      rdevMajor: node.kind === 'char' || node.kind === 'block' ? node.major : 0,
      rdevMinor: node.kind === 'char' || node.kind === 'block' ? node.minor : 0,
    };
    chunks.push(encodeHeader(name, fields));
    if (data.byteLength > 0) {
      chunks.push(data);
      const pad = padding(data.byteLength);
      if (pad > 0) chunks.push(new Uint8Array(pad));
    }
  });
  return chunks;
}

/** The `TRAILER!!!` entry that ends a newc archive (124 bytes). */
export function cpioTrailer(): Uint8Array {
  return encodeHeader(TRAILER, {
    ino: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    nlink: 1,
    mtime: 0,
    size: 0,
    rdevMajor: 0,
    rdevMinor: 0,
  });
}

function entryData(node: TreeNode, carriesData: boolean): Uint8Array {
  if (node.kind === 'symlink') return encoder.encode(node.target);
  if (node.kind === 'file' && carriesData) return node.content.data;
  return new Uint8Array(0);
}

function countLinks(list: Array<[TreePath, TreeNode]>): Map<FileContent, number> {
  const counts = new Map<FileContent, number>();
  for (const [, node] of list) {
    if (node.kind === 'file') counts.set(node.content, (counts.get(node.content) ?? 0) + 1);
  }
  return counts;
}

function lastLinkIndex(list: Array<[TreePath, TreeNode]>): Map<FileContent, number> {
  const last = new Map<FileContent, number>();
  list.forEach(([, node], index) => {
    if (node.kind === 'file') last.set(node.content, index);
  });
  return last;
}

function linkCountOf(
  path: TreePath,
  node: TreeNode,
  links: Map<FileContent, number>,
  subdirs: Map<string, number>,
): number {
  if (node.kind === 'file') return links.get(node.content) ?? 1;
  if (node.kind === 'dir') return 2 + (subdirs.get(path) ?? 0);
  return 1;
}

/** A directory's link count is 2 plus its subdirectories (as `stat` would say). */
function countSubdirectories(list: Array<[TreePath, TreeNode]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [path, node] of list) {
    if (node.kind !== 'dir' || path === '') continue;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    counts.set(parent, (counts.get(parent) ?? 0) + 1);
  }
  return counts;
}

function padding(length: number): number {
  return (4 - (length % 4)) % 4;
}

function hex(value: number, field: string, name: string): string {
  if (!Number.isInteger(value) || value < 0 || value > MAX_FIELD) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot write cpio entry "${name}": ${field} ${value} does not fit newc`,
    );
  }
  return value.toString(16).padStart(8, '0');
}

function encodeHeader(name: string, f: HeaderFields): Uint8Array {
  const nameBytes = encoder.encode(name);
  if (nameBytes.includes(0))
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot write cpio entry "${name}": NUL in name`);
  const text =
    MAGIC +
    hex(f.ino, 'inode', name) +
    hex(f.mode, 'mode', name) +
    hex(f.uid, 'uid', name) +
    hex(f.gid, 'gid', name) +
    hex(f.nlink, 'nlink', name) +
    hex(f.mtime, 'mtime', name) +
    hex(f.size, 'size', name) +
    hex(0, 'devmajor', name) +
    hex(0, 'devminor', name) +
    hex(f.rdevMajor, 'rdevmajor', name) +
    hex(f.rdevMinor, 'rdevminor', name) +
    hex(nameBytes.byteLength + 1, 'namesize', name) +
    hex(0, 'check', name);
  const total = HEADER_SIZE + nameBytes.byteLength + 1;
  const out = new Uint8Array(total + padding(total));
  encoder.encodeInto(text, out);
  out.set(nameBytes, HEADER_SIZE);
  return out;
}

/**
 * Reads every entry of one or more concatenated newc archives (uncompressed), skipping the
 * trailers and the zero padding between archives. Data are views into `buf`.
 */
export function readCpio(buf: Uint8Array): CpioEntry[] {
  const entries: CpioEntry[] = [];
  let offset = 0;
  while (offset < buf.byteLength) {
    if (buf[offset] === 0) {
      offset++; // padding between concatenated archives
      continue;
    }
    if (offset % 4 !== 0) throw readError(offset, 'archive does not start on a 4-byte boundary');
    const header = String.fromCharCode(...buf.subarray(offset, offset + HEADER_SIZE));
    const magic = header.slice(0, 6);
    if (magic !== MAGIC && magic !== MAGIC_CRC)
      throw readError(offset, `bad magic ${shown(magic)} (not newc cpio)`);
    if (header.length < HEADER_SIZE) throw readError(offset, 'truncated header');
    const field = (i: number): number => {
      const text = header.slice(6 + i * 8, 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text)) throw readError(offset, `bad header field ${shown(text)}`);
      return Number.parseInt(text, 16);
    };
    const nameSize = field(11);
    const size = field(6);
    const nameEnd = offset + HEADER_SIZE + nameSize;
    if (nameSize === 0 || nameEnd > buf.byteLength || buf[nameEnd - 1] !== 0) {
      throw readError(offset, 'name runs past the end of the archive or is not NUL-terminated');
    }
    const name = utf8.decode(buf.subarray(offset + HEADER_SIZE, nameEnd - 1));
    const dataStart = nameEnd + padding(HEADER_SIZE + nameSize);
    const dataEnd = dataStart + size;
    if (dataEnd > buf.byteLength)
      throw readError(offset, `data of ${shown(name)} runs past the end of the archive`);
    offset = dataEnd + padding(size);
    if (name === TRAILER) continue;
    entries.push({
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      devMajor: field(7),
      devMinor: field(8),
      rdevMajor: field(9),
      rdevMinor: field(10),
      data: buf.subarray(dataStart, dataEnd),
    });
  }
  return entries;
}

/** A name or field from the archive for a message: quoted, escaped, at most 100 characters. */
function shown(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
}

function readError(offset: number, what: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot read cpio archive at offset ${offset}: ${what}`);
}
