/**
 * Writer for ISO 9660 (ECMA-119) images with El Torito boot entries, as a list of pieces:
 * file contents are referenced, never copied (a 170 MB initramfs stays where it is).
 *
 * Plain ISO 9660 names only (no Rock Ridge, no Joliet): the readers that matter here — GRUB,
 * ISOLINUX, OVMF's El Torito code and Linux — match plain names case-insensitively and ignore
 * the `;1` version, and nobody reads owners or modes from a boot medium. Names are checked
 * against the d-characters (`A-Z 0-9 _`), up to 30 characters for a file (interchange level 2,
 * which every reader above accepts; `INITRAMFS` does not fit level 1's 8.3).
 *
 * Layout: system area (sectors 0-15, e.g. an isohybrid MBR), primary volume descriptor (16),
 * El Torito boot record (17), terminator, the L and M path tables, the directories, the boot
 * catalog, then the files in the order given, each starting on a sector boundary (or on a
 * multiple of `alignSectors`). Every date is `date` (SOURCE_DATE_EPOCH), directories are sorted
 * as ECMA-119 9.3 says: the same input gives the same bytes.
 */
import { HookError } from '../errors.ts';

export const SECTOR = 2048;
const SYSTEM_AREA_SECTORS = 16;
const PVD_SECTOR = 16;
/** Virtual sectors of the El Torito sector count. */
const VIRTUAL_SECTOR = 512;

export interface IsoFile {
  /** Path in the image, `/`-separated, e.g. `BOOT/GRUB/GRUB.CFG`. */
  path: string;
  /** The contents, in order; written as they are (no copy). */
  data: readonly Uint8Array[];
  /** Start on a multiple of this many sectors (default 1). */
  alignSectors?: number;
}

export interface ElToritoEntry {
  /** `bios`: x86 PC (platform 0); `efi`: UEFI (platform 0xEF). */
  platform: 'bios' | 'efi';
  /** One of the files: the no-emulation boot image. */
  path: string;
  /**
   * 512-byte sectors the firmware loads. Default: the whole file. ISOLINUX wants 4 (its first
   * 2048 bytes; it loads the rest itself through the boot info table).
   */
  loadSectors?: number;
  /** Write a boot info table into the image at offset 8 (`mkisofs -boot-info-table`). */
  bootInfoTable?: boolean;
}

export interface ElToritoOptions {
  /** Path of the boot catalog in the directory tree, e.g. `BOOT/BOOT.CAT`. */
  catalogPath: string;
  /** The first entry is the catalog's default entry. */
  entries: ElToritoEntry[];
}

export interface IsoOptions {
  /** d-characters, at most 32. */
  volumeId: string;
  /** a-characters, at most 128 (default empty). */
  applicationId?: string;
  /** a-characters, at most 128 (default empty). */
  publisherId?: string;
  /** Seconds since the epoch: every date in the image. */
  date: number;
  files: IsoFile[];
  boot?: ElToritoOptions;
  /** Pad the image (and the volume) to a multiple of this many bytes, e.g. 1 MiB for isohybrid. */
  padToBytes?: number;
  /** The system area (sectors 0-15), made once the layout is known: an isohybrid MBR, say. */
  systemArea?: (layout: IsoLayout) => Uint8Array;
}

export interface IsoExtent {
  /** First sector (2048 bytes). */
  lba: number;
  size: number;
}

export interface IsoLayout {
  totalSectors: number;
  /** Every file by its path as given. */
  files: Map<string, IsoExtent>;
  /** Every directory by path (`''` is the root). */
  directories: Map<string, IsoExtent>;
  bootCatalogLba?: number;
}

export interface IsoImage {
  pieces: Uint8Array[];
  size: number;
  layout: IsoLayout;
}

interface DirNode {
  /** Path without a trailing slash; `''` for the root. */
  path: string;
  /** ISO identifier of this directory (its last path component). */
  name: string;
  parent: DirNode | undefined;
  dirs: Map<string, DirNode>;
  files: Map<string, FileNode>;
  /** Path-table number, from 1 (the root). */
  number: number;
  extent: IsoExtent;
}

interface FileNode {
  path: string;
  /** Identifier as recorded: `NAME.EXT;1`. */
  identifier: string;
  size: number;
  data: readonly Uint8Array[];
  alignSectors: number;
  extent: IsoExtent;
}

const D_CHARS = /^[A-Z0-9_]+$/;
const A_CHARS = /^[A-Z0-9_ !"%&'()*+,\-./:;<=>?]*$/;
const MAX_FILE_ID = 30;
const MAX_DIR_ID = 31;
const MAX_DEPTH = 8;
const ZEROS = new Uint8Array(64 * 1024);
const latin1 = new TextEncoder();

function isoError(message: string, hint?: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot write the ISO image: ${message}`, hint ? { hint } : {});
}

/** `NAME.EXT` or `NAME` → the recorded identifier `NAME.EXT;1` / `NAME.;1`, checked. */
function fileIdentifier(name: string, path: string): string {
  const dot = name.indexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (
    base === '' ||
    !D_CHARS.test(base) ||
    (ext !== '' && !D_CHARS.test(ext)) ||
    base.length + ext.length > MAX_FILE_ID
  ) {
    throw isoError(
      `"${path}" is not an ISO 9660 file name`,
      `Use at most ${MAX_FILE_ID} characters of A-Z, 0-9 and _, with at most one "." before an extension`,
    );
  }
  return `${base}.${ext};1`;
}

function checkDirName(name: string, path: string): void {
  if (!D_CHARS.test(name) || name.length > MAX_DIR_ID) {
    throw isoError(
      `directory "${path}" is not an ISO 9660 name`,
      `Use at most ${MAX_DIR_ID} of A-Z, 0-9 and _`,
    );
  }
}

function newDir(path: string, name: string, parent: DirNode | undefined): DirNode {
  return { path, name, parent, dirs: new Map(), files: new Map(), number: 0, extent: { lba: 0, size: 0 } };
}

function byteLength(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.byteLength;
  return n;
}

function buildTree(files: readonly IsoFile[]): { root: DirNode; fileNodes: FileNode[] } {
  const root = newDir('', '', undefined);
  const fileNodes: FileNode[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    if (parts.some((p) => p === '') || parts.length > MAX_DEPTH) {
      throw isoError(`bad path "${file.path}"`, `Give a relative path of at most ${MAX_DEPTH} components`);
    }
    if (seen.has(file.path)) throw isoError(`"${file.path}" is given twice`);
    seen.add(file.path);
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      const path = dir.path === '' ? part : `${dir.path}/${part}`;
      checkDirName(part, path);
      if (dir.files.has(part)) throw isoError(`"${path}" is both a file and a directory`);
      let next = dir.dirs.get(part);
      if (!next) {
        next = newDir(path, part, dir);
        dir.dirs.set(part, next);
      }
      dir = next;
    }
    const name = parts[parts.length - 1] as string;
    if (dir.dirs.has(name)) throw isoError(`"${file.path}" is both a file and a directory`);
    const size = byteLength(file.data);
    if (size > 0xffffffff) {
      throw isoError(`"${file.path}" is ${size} bytes, over the 4 GiB of one ISO 9660 extent`);
    }
    const alignSectors = file.alignSectors ?? 1;
    if (!Number.isInteger(alignSectors) || alignSectors < 1) {
      throw isoError(`alignSectors of "${file.path}" must be a positive integer`);
    }
    const node: FileNode = {
      path: file.path,
      identifier: fileIdentifier(name, file.path),
      size,
      data: file.data,
      alignSectors,
      extent: { lba: 0, size },
    };
    dir.files.set(name, node);
    fileNodes.push(node);
  }
  return { root, fileNodes };
}

/** ECMA-119 9.3: names compared as if padded with spaces, name part first, then extension. */
function compareIdentifiers(a: string, b: string): number {
  const split = (id: string) => {
    const semi = id.indexOf(';');
    const bare = semi < 0 ? id : id.slice(0, semi);
    const dot = bare.indexOf('.');
    return dot < 0 ? [bare, ''] : [bare.slice(0, dot), bare.slice(dot + 1)];
  };
  const [an = '', ae = ''] = split(a);
  const [bn = '', be = ''] = split(b);
  const pad = (x: string, y: string): [string, string] => {
    const n = Math.max(x.length, y.length);
    return [x.padEnd(n, ' '), y.padEnd(n, ' ')];
  };
  const [pa, pb] = pad(an, bn);
  if (pa !== pb) return pa < pb ? -1 : 1;
  const [xa, xb] = pad(ae, be);
  return xa < xb ? -1 : xa > xb ? 1 : 0;
}

interface DirEntry {
  identifier: Uint8Array;
  extent: () => IsoExtent;
  isDir: boolean;
}

function dirEntries(dir: DirNode): DirEntry[] {
  const self = dir;
  const parent = dir.parent ?? dir;
  const children: { id: string; entry: DirEntry }[] = [];
  for (const child of dir.dirs.values()) {
    children.push({
      id: child.name,
      entry: { identifier: latin1.encode(child.name), extent: () => child.extent, isDir: true },
    });
  }
  for (const file of dir.files.values()) {
    children.push({
      id: file.identifier,
      entry: { identifier: latin1.encode(file.identifier), extent: () => file.extent, isDir: false },
    });
  }
  children.sort((a, b) => compareIdentifiers(a.id, b.id));
  return [
    { identifier: Uint8Array.of(0), extent: () => self.extent, isDir: true },
    { identifier: Uint8Array.of(1), extent: () => parent.extent, isDir: true },
    ...children.map((c) => c.entry),
  ];
}

function recordLength(identifier: Uint8Array): number {
  const n = 33 + identifier.byteLength;
  return n + (n % 2);
}

/** Bytes of a directory's extent: records never cross a sector boundary. */
function directorySize(entries: DirEntry[]): number {
  let sectors = 1;
  let used = 0;
  for (const entry of entries) {
    const len = recordLength(entry.identifier);
    if (used + len > SECTOR) {
      sectors++;
      used = 0;
    }
    used += len;
  }
  return sectors * SECTOR;
}

/** Directories in path-table order: by level, then parent number, then name. */
function pathTableOrder(root: DirNode): DirNode[] {
  const ordered: DirNode[] = [root];
  root.number = 1;
  for (let i = 0; i < ordered.length; i++) {
    const dir = ordered[i] as DirNode;
    const children = [...dir.dirs.values()].sort((a, b) => compareIdentifiers(a.name, b.name));
    for (const child of children) {
      ordered.push(child);
      child.number = ordered.length;
    }
  }
  return ordered;
}

function pathTable(dirs: DirNode[], bigEndian: boolean): Uint8Array {
  const records: Uint8Array[] = [];
  for (const dir of dirs) {
    const id = dir.parent ? latin1.encode(dir.name) : Uint8Array.of(0);
    const rec = new Uint8Array(8 + id.byteLength + (id.byteLength % 2));
    const view = new DataView(rec.buffer);
    rec[0] = id.byteLength;
    view.setUint32(2, dir.extent.lba, !bigEndian);
    view.setUint16(6, dir.parent ? dir.parent.number : 1, !bigEndian);
    rec.set(id, 8);
    records.push(rec);
  }
  return concat(records);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(byteLength(parts));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function both16(view: DataView, at: number, value: number): void {
  view.setUint16(at, value, true);
  view.setUint16(at + 2, value, false);
}

function both32(view: DataView, at: number, value: number): void {
  view.setUint32(at, value, true);
  view.setUint32(at + 4, value, false);
}

/** The 7-byte date of a directory record (UTC). */
function recordDate(date: Date): Uint8Array {
  return Uint8Array.of(
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  );
}

/** The 17-byte date of a volume descriptor: `YYYYMMDDHHMMSScc` + GMT offset; undefined → "not specified". */
function volumeDate(date: Date | undefined): Uint8Array {
  const out = new Uint8Array(17);
  if (!date) {
    out.fill(0x30, 0, 16);
    return out;
  }
  const p = (n: number, w: number) => String(n).padStart(w, '0');
  const text =
    p(date.getUTCFullYear(), 4) +
    p(date.getUTCMonth() + 1, 2) +
    p(date.getUTCDate(), 2) +
    p(date.getUTCHours(), 2) +
    p(date.getUTCMinutes(), 2) +
    p(date.getUTCSeconds(), 2) +
    '00';
  out.set(latin1.encode(text), 0);
  return out;
}

function directoryRecord(entry: DirEntry, date: Uint8Array): Uint8Array {
  const rec = new Uint8Array(recordLength(entry.identifier));
  const view = new DataView(rec.buffer);
  const extent = entry.extent();
  rec[0] = rec.byteLength;
  both32(view, 2, extent.lba);
  both32(view, 10, extent.size);
  rec.set(date, 18);
  rec[25] = entry.isDir ? 0x02 : 0x00;
  both16(view, 28, 1);
  rec[32] = entry.identifier.byteLength;
  rec.set(entry.identifier, 33);
  return rec;
}

function directoryExtent(entries: DirEntry[], size: number, date: Uint8Array): Uint8Array {
  const out = new Uint8Array(size);
  let sectorStart = 0;
  let at = 0;
  for (const entry of entries) {
    const rec = directoryRecord(entry, date);
    if (at - sectorStart + rec.byteLength > SECTOR) {
      sectorStart += SECTOR;
      at = sectorStart;
    }
    out.set(rec, at);
    at += rec.byteLength;
  }
  return out;
}

function textField(
  out: Uint8Array,
  at: number,
  width: number,
  text: string,
  what: string,
  chars: RegExp,
): void {
  if (text.length > width || !chars.test(text)) {
    throw isoError(`${what} "${text}" does not fit ISO 9660 (${width} characters of ${chars.source})`);
  }
  out.fill(0x20, at, at + width);
  out.set(latin1.encode(text), at);
}

function primaryVolumeDescriptor(
  options: IsoOptions,
  totalSectors: number,
  pathTableSize: number,
  lPathLba: number,
  mPathLba: number,
  rootRecord: Uint8Array,
  date: Date,
): Uint8Array {
  const pvd = new Uint8Array(SECTOR);
  const view = new DataView(pvd.buffer);
  pvd[0] = 1;
  pvd.set(latin1.encode('CD001'), 1);
  pvd[6] = 1;
  textField(pvd, 8, 32, '', 'system identifier', A_CHARS);
  textField(pvd, 40, 32, options.volumeId, 'volume identifier', /^[A-Z0-9_]*$/);
  both32(view, 80, totalSectors);
  both16(view, 120, 1); // volume set size
  both16(view, 124, 1); // volume sequence number
  both16(view, 128, SECTOR);
  both32(view, 132, pathTableSize);
  view.setUint32(140, lPathLba, true);
  view.setUint32(148, mPathLba, false);
  pvd.set(rootRecord, 156);
  textField(pvd, 190, 128, '', 'volume set identifier', A_CHARS);
  textField(pvd, 318, 128, options.publisherId ?? '', 'publisher identifier', A_CHARS);
  textField(pvd, 446, 128, '', 'data preparer identifier', A_CHARS);
  textField(pvd, 574, 128, options.applicationId ?? '', 'application identifier', A_CHARS);
  pvd.fill(0x20, 702, 702 + 37 * 3); // copyright, abstract, bibliographic file identifiers
  pvd.set(volumeDate(date), 813); // creation
  pvd.set(volumeDate(date), 830); // modification
  pvd.set(volumeDate(undefined), 847); // expiration
  pvd.set(volumeDate(undefined), 864); // effective
  pvd[881] = 1; // file structure version
  return pvd;
}

function bootRecord(catalogLba: number): Uint8Array {
  const br = new Uint8Array(SECTOR);
  br[0] = 0;
  br.set(latin1.encode('CD001'), 1);
  br[6] = 1;
  br.set(latin1.encode('EL TORITO SPECIFICATION'), 7);
  new DataView(br.buffer).setUint32(0x47, catalogLba, true);
  return br;
}

function terminator(): Uint8Array {
  const t = new Uint8Array(SECTOR);
  t[0] = 255;
  t.set(latin1.encode('CD001'), 1);
  t[6] = 1;
  return t;
}

const PLATFORM = { bios: 0x00, efi: 0xef } as const;

function bootEntry(view: DataView, at: number, sectors: number, lba: number): void {
  view.setUint8(at, 0x88); // bootable
  view.setUint8(at + 1, 0); // no emulation
  view.setUint16(at + 2, 0, true); // load segment: default (0x7C0)
  view.setUint8(at + 4, 0); // system type
  view.setUint16(at + 6, sectors, true);
  view.setUint32(at + 8, lba, true);
}

function bootCatalog(
  entries: { platform: ElToritoEntry['platform']; sectors: number; lba: number }[],
): Uint8Array {
  const cat = new Uint8Array(SECTOR);
  const view = new DataView(cat.buffer);
  const [first, ...rest] = entries;
  if (!first) throw isoError('El Torito needs at least one boot entry');
  if (32 * (2 + rest.length * 2) > SECTOR)
    throw isoError('too many El Torito entries for one catalog sector');
  cat[0] = 1; // validation entry
  cat[1] = PLATFORM[first.platform];
  cat[30] = 0x55;
  cat[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + view.getUint16(i, true)) & 0xffff;
  view.setUint16(28, (0x10000 - sum) & 0xffff, true);
  bootEntry(view, 32, first.sectors, first.lba);
  let at = 64;
  rest.forEach((entry, i) => {
    cat[at] = i === rest.length - 1 ? 0x91 : 0x90; // section header: last or more to come
    cat[at + 1] = PLATFORM[entry.platform];
    view.setUint16(at + 2, 1, true);
    bootEntry(view, at + 32, entry.sectors, entry.lba);
    at += 64;
  });
  return cat;
}

/**
 * The boot info table of `mkisofs -boot-info-table` at offset 8 of a copy of the boot image:
 * LBA of the primary volume descriptor, the image's own LBA and length, and the 32-bit sum of
 * its little-endian words from offset 64 on.
 */
export function withBootInfoTable(image: Uint8Array, lba: number): Uint8Array {
  if (image.byteLength < 64)
    throw isoError(`boot image of ${image.byteLength} bytes is too small for a boot info table`);
  const out = new Uint8Array(image.byteLength + ((4 - (image.byteLength % 4)) % 4));
  out.set(image);
  const view = new DataView(out.buffer);
  let sum = 0;
  for (let i = 64; i < out.byteLength; i += 4) sum = (sum + view.getUint32(i, true)) >>> 0;
  out.fill(0, 8, 64);
  view.setUint32(8, PVD_SECTOR, true);
  view.setUint32(12, lba, true);
  view.setUint32(16, image.byteLength, true);
  view.setUint32(20, sum, true);
  return out.subarray(0, image.byteLength);
}

function zeroPieces(bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let left = bytes; left > 0; left -= ZEROS.byteLength)
    out.push(ZEROS.subarray(0, Math.min(left, ZEROS.byteLength)));
  return out;
}

export function writeIso(options: IsoOptions): IsoImage {
  const date = new Date(options.date * 1000);
  if (!Number.isFinite(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 2155) {
    throw isoError(`date ${options.date} is outside what ISO 9660 records (1970-2155)`);
  }
  const recDate = recordDate(date);
  const boot = options.boot;
  const catalogFile: IsoFile | undefined = boot
    ? { path: boot.catalogPath, data: [new Uint8Array(SECTOR)] }
    : undefined;
  const { root, fileNodes } = buildTree(catalogFile ? [catalogFile, ...options.files] : options.files);
  const dirs = pathTableOrder(root);
  const entriesOf = new Map(dirs.map((d) => [d, dirEntries(d)]));

  // Fixed part: system area, PVD, boot record, terminator.
  let next = PVD_SECTOR + 1 + (boot ? 1 : 0) + 1;
  const pathTableSize = pathTable(dirs, false).byteLength;
  const pathTableSectors = Math.ceil(pathTableSize / SECTOR);
  const lPathLba = next;
  next += pathTableSectors;
  const mPathLba = next;
  next += pathTableSectors;
  for (const dir of dirs) {
    const size = directorySize(entriesOf.get(dir) as DirEntry[]);
    dir.extent = { lba: next, size };
    next += size / SECTOR;
  }
  const [catalogNode, ...dataNodes] = catalogFile ? fileNodes : [undefined, ...fileNodes];
  if (catalogNode) {
    catalogNode.extent = { lba: next, size: SECTOR };
    next += 1;
  }
  const headerSectors = next;
  const byPath = new Map<string, FileNode>();
  for (const node of dataNodes) {
    if (!node) continue;
    byPath.set(node.path, node);
    next = Math.ceil(next / node.alignSectors) * node.alignSectors;
    node.extent = { lba: next, size: node.size };
    next += Math.ceil(node.size / SECTOR);
  }

  // El Torito: patch boot info tables, then the catalog.
  const replaced = new Map<FileNode, Uint8Array[]>();
  let catalog: Uint8Array | undefined;
  if (boot) {
    const entries = boot.entries.map((entry) => {
      const node = byPath.get(entry.path);
      if (!node) throw isoError(`El Torito boot image "${entry.path}" is not one of the files`);
      if (entry.bootInfoTable) replaced.set(node, [withBootInfoTable(concat(node.data), node.extent.lba)]);
      const sectors = entry.loadSectors ?? Math.ceil(node.size / VIRTUAL_SECTOR);
      if (!Number.isInteger(sectors) || sectors < 1 || sectors > 0xffff) {
        throw isoError(
          `El Torito image "${entry.path}" needs ${sectors} sectors of 512 bytes; the catalog holds 1-65535`,
          'Keep the EFI system image under 32 MiB',
        );
      }
      return { platform: entry.platform, sectors, lba: node.extent.lba };
    });
    catalog = bootCatalog(entries);
  }

  let totalSectors = next;
  const pad = options.padToBytes;
  if (pad !== undefined) {
    if (!Number.isInteger(pad) || pad <= 0 || pad % SECTOR !== 0) {
      throw isoError(`padToBytes ${pad} is not a positive multiple of ${SECTOR}`);
    }
    totalSectors = Math.ceil((totalSectors * SECTOR) / pad) * (pad / SECTOR);
  }

  const directories = new Map(dirs.map((d) => [d.path, d.extent]));
  const files = new Map<string, IsoExtent>();
  for (const node of dataNodes) if (node) files.set(node.path, node.extent);
  const layout: IsoLayout = {
    totalSectors,
    files,
    directories,
    ...(catalogNode ? { bootCatalogLba: catalogNode.extent.lba } : {}),
  };

  const header = new Uint8Array(headerSectors * SECTOR);
  const systemArea = options.systemArea?.(layout);
  if (systemArea) {
    if (systemArea.byteLength > SYSTEM_AREA_SECTORS * SECTOR) {
      throw isoError(`system area of ${systemArea.byteLength} bytes is over ${SYSTEM_AREA_SECTORS * SECTOR}`);
    }
    header.set(systemArea, 0);
  }
  const rootRecord = directoryRecord(
    { identifier: Uint8Array.of(0), extent: () => root.extent, isDir: true },
    recDate,
  );
  header.set(
    primaryVolumeDescriptor(options, totalSectors, pathTableSize, lPathLba, mPathLba, rootRecord, date),
    PVD_SECTOR * SECTOR,
  );
  let at = (PVD_SECTOR + 1) * SECTOR;
  if (boot && catalogNode) {
    header.set(bootRecord(catalogNode.extent.lba), at);
    at += SECTOR;
  }
  header.set(terminator(), at);
  header.set(pathTable(dirs, false), lPathLba * SECTOR);
  header.set(pathTable(dirs, true), mPathLba * SECTOR);
  for (const dir of dirs) {
    header.set(
      directoryExtent(entriesOf.get(dir) as DirEntry[], dir.extent.size, recDate),
      dir.extent.lba * SECTOR,
    );
  }
  if (catalogNode && catalog) header.set(catalog, catalogNode.extent.lba * SECTOR);

  // File data: the pieces as given (or the patched copy), each padded to its last sector.
  const pieces: Uint8Array[] = [header];
  let cursor = headerSectors;
  for (const node of dataNodes) {
    if (!node) continue;
    if (node.extent.lba > cursor) pieces.push(...zeroPieces((node.extent.lba - cursor) * SECTOR));
    const data = replaced.get(node) ?? node.data;
    for (const piece of data) if (piece.byteLength > 0) pieces.push(piece);
    const sectors = Math.ceil(node.size / SECTOR);
    pieces.push(...zeroPieces(sectors * SECTOR - node.size));
    cursor = node.extent.lba + sectors;
  }
  pieces.push(...zeroPieces((totalSectors - cursor) * SECTOR));
  return { pieces, size: totalSectors * SECTOR, layout };
}
