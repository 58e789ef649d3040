/**
 * Writer for small FAT12/FAT16 file system images: the EFI system image an El Torito EFI
 * entry (and the isohybrid MBR's EFI partition) points at, holding `EFI/BOOT/BOOTX64.EFI` and
 * friends. UEFI firmware must read FAT12, FAT16 and FAT32 (UEFI 2.10, 13.3); the type follows
 * from the cluster count alone (fewer than 4085 clusters: FAT12; fewer than 65525: FAT16), as
 * Microsoft's FAT specification defines it, and counts within 16 of the 4085 boundary are
 * avoided because some drivers guess the type there.
 *
 * Short (8.3, upper-case) names only: firmware and GRUB match FAT names case-insensitively,
 * so long-name entries would add nothing. Files are written contiguously, directories before
 * files, every date is `date` (SOURCE_DATE_EPOCH): the same input gives the same bytes.
 */
import { HookError } from '../errors.ts';

export const FAT_SECTOR = 512;
const ROOT_ENTRIES = 512;
const DIR_ENTRY = 32;
const FAT12_MAX_CLUSTERS = 4084;
const FAT16_MAX_CLUSTERS = 65524;
/** Counts this close to 4085 are ambiguous to some FAT drivers; avoided. */
const TYPE_MARGIN = 16;

export interface FatFile {
  /** `/`-separated path of 8.3 upper-case names, e.g. `EFI/BOOT/BOOTX64.EFI`. */
  path: string;
  data: Uint8Array | readonly Uint8Array[];
}

export interface FatOptions {
  files: FatFile[];
  /** Volume label, at most 11 characters (default `NO NAME`). */
  label?: string;
  /** Volume serial number (default: derived from `date`). */
  volumeId?: number;
  /** Seconds since the epoch: every timestamp. */
  date: number;
  /** Free space to leave, in bytes (default 0: boot media are read-only). */
  freeBytes?: number;
  /** Bytes per cluster (default 2048, one ISO 9660 sector). */
  clusterBytes?: number;
}

export interface FatImage {
  image: Uint8Array;
  type: 'FAT12' | 'FAT16';
  clusters: number;
  sectorsPerCluster: number;
}

interface Dir {
  name: string;
  dirs: Map<string, Dir>;
  files: Map<string, Uint8Array[]>;
  firstCluster: number;
  clusterCount: number;
  parent: Dir | undefined;
}

const NAME_CHARS = /^[A-Z0-9_-]+$/;
const ascii = new TextEncoder();

function fatError(message: string, hint?: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot write the FAT image: ${message}`, hint ? { hint } : {});
}

/** `NAME.EXT` → the 11 bytes of a short directory entry name. */
export function shortName(name: string): Uint8Array {
  const dot = name.indexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (
    base.length < 1 ||
    base.length > 8 ||
    ext.length > 3 ||
    !NAME_CHARS.test(base) ||
    (ext !== '' && !NAME_CHARS.test(ext))
  ) {
    throw fatError(
      `"${name}" is not an 8.3 upper-case FAT name`,
      'Use 1-8 characters of A-Z, 0-9, _ or -, and an extension of up to 3',
    );
  }
  return ascii.encode(base.padEnd(8, ' ') + ext.padEnd(3, ' '));
}

function dosDateTime(seconds: number): { date: number; time: number } {
  const d = new Date(seconds * 1000);
  if (!Number.isFinite(d.getTime()) || d.getUTCFullYear() < 1980)
    return { date: (0 << 9) | (1 << 5) | 1, time: 0 };
  const year = Math.min(d.getUTCFullYear(), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

function pieceList(data: FatFile['data']): Uint8Array[] {
  return data instanceof Uint8Array ? [data] : [...data];
}

function size(pieces: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.byteLength;
  return n;
}

function buildTree(files: readonly FatFile[]): Dir {
  const root: Dir = {
    name: '',
    dirs: new Map(),
    files: new Map(),
    firstCluster: 0,
    clusterCount: 0,
    parent: undefined,
  };
  for (const file of files) {
    const parts = file.path.split('/');
    if (parts.some((p) => p === '')) throw fatError(`bad path "${file.path}"`);
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      shortName(part);
      if (dir.files.has(part)) throw fatError(`"${file.path}": ${part} is a file`);
      let next = dir.dirs.get(part);
      if (!next) {
        next = {
          name: part,
          dirs: new Map(),
          files: new Map(),
          firstCluster: 0,
          clusterCount: 0,
          parent: dir,
        };
        dir.dirs.set(part, next);
      }
      dir = next;
    }
    const name = parts[parts.length - 1] as string;
    shortName(name);
    if (dir.files.has(name) || dir.dirs.has(name)) throw fatError(`"${file.path}" is given twice`);
    dir.files.set(name, pieceList(file.data));
  }
  return root;
}

function allDirs(root: Dir): Dir[] {
  const out: Dir[] = [];
  const walk = (dir: Dir) => {
    for (const name of [...dir.dirs.keys()].sort()) {
      const child = dir.dirs.get(name) as Dir;
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

function entryCount(dir: Dir): number {
  // `.` and `..` in subdirectories; the root holds the volume label instead.
  return (dir.parent ? 2 : 1) + dir.dirs.size + dir.files.size;
}

function layoutFor(clusters: number, sectorsPerCluster: number) {
  const type: FatImage['type'] = clusters <= FAT12_MAX_CLUSTERS ? 'FAT12' : 'FAT16';
  const fatBytes = type === 'FAT12' ? Math.ceil(((clusters + 2) * 3) / 2) : (clusters + 2) * 2;
  const fatSectors = Math.ceil(fatBytes / FAT_SECTOR);
  const rootSectors = (ROOT_ENTRIES * DIR_ENTRY) / FAT_SECTOR;
  const dataStart = 1 + 2 * fatSectors + rootSectors;
  return { type, fatSectors, rootSectors, dataStart, totalSectors: dataStart + clusters * sectorsPerCluster };
}

/** Cluster count for at least `needed` clusters, outside the ambiguous band around 4085. */
function clusterCount(needed: number): number {
  let clusters = Math.max(needed, 1);
  if (clusters > FAT12_MAX_CLUSTERS - TYPE_MARGIN && clusters <= FAT12_MAX_CLUSTERS + TYPE_MARGIN) {
    clusters = FAT12_MAX_CLUSTERS + TYPE_MARGIN + 1;
  }
  return clusters;
}

export function writeFat(options: FatOptions): FatImage {
  const clusterBytes = options.clusterBytes ?? 2048;
  if (
    !Number.isInteger(clusterBytes) ||
    clusterBytes < FAT_SECTOR ||
    clusterBytes > 32768 ||
    (clusterBytes & (clusterBytes - 1)) !== 0
  ) {
    throw fatError(`cluster size ${clusterBytes} is not a power of two from 512 to 32768`);
  }
  const sectorsPerCluster = clusterBytes / FAT_SECTOR;
  const root = buildTree(options.files);
  if (entryCount(root) > ROOT_ENTRIES)
    throw fatError(`more than ${ROOT_ENTRIES - 1} entries in the root directory`);
  const dirs = allDirs(root);

  // Clusters: directories first (in tree order), then files in the order given.
  let next = 2;
  for (const dir of dirs) {
    dir.clusterCount = Math.ceil((entryCount(dir) * DIR_ENTRY) / clusterBytes);
    dir.firstCluster = next;
    next += dir.clusterCount;
  }
  const fileClusters = new Map<Uint8Array[], { first: number; count: number; bytes: number }>();
  const order: Uint8Array[][] = [];
  for (const file of options.files) {
    const parts = file.path.split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) dir = dir.dirs.get(part) as Dir;
    const pieces = dir.files.get(parts[parts.length - 1] as string) as Uint8Array[];
    const bytes = size(pieces);
    const count = Math.ceil(bytes / clusterBytes);
    fileClusters.set(pieces, { first: count === 0 ? 0 : next, count, bytes });
    order.push(pieces);
    next += count;
  }
  const used = next - 2;
  const clusters = clusterCount(used + Math.ceil((options.freeBytes ?? 0) / clusterBytes));
  if (clusters > FAT16_MAX_CLUSTERS) {
    throw fatError(
      `${clusters} clusters of ${clusterBytes} bytes do not fit FAT16`,
      'Use larger clusters or fewer files',
    );
  }
  const layout = layoutFor(clusters, sectorsPerCluster);
  const image = new Uint8Array(layout.totalSectors * FAT_SECTOR);
  const view = new DataView(image.buffer);
  const { date, time } = dosDateTime(options.date);
  const volumeId = (options.volumeId ?? options.date) >>> 0;
  const label = options.label ?? 'NO NAME';
  if (label.length > 11 || !/^[A-Z0-9 _-]*$/.test(label))
    throw fatError(`volume label "${label}" is not 11 upper-case characters`);

  // Boot sector with the BIOS parameter block (FAT12/16 layout).
  image.set([0xeb, 0x3c, 0x90], 0);
  image.set(ascii.encode('MSWIN4.1'), 3);
  view.setUint16(11, FAT_SECTOR, true);
  image[13] = sectorsPerCluster;
  view.setUint16(14, 1, true); // reserved sectors
  image[16] = 2; // FATs
  view.setUint16(17, ROOT_ENTRIES, true);
  if (layout.totalSectors < 0x10000) view.setUint16(19, layout.totalSectors, true);
  else view.setUint32(32, layout.totalSectors, true);
  image[21] = 0xf8; // media: fixed disk
  view.setUint16(22, layout.fatSectors, true);
  view.setUint16(24, 32, true); // sectors per track
  view.setUint16(26, 64, true); // heads
  image[36] = 0x80; // drive number
  image[38] = 0x29; // extended boot signature
  view.setUint32(39, volumeId, true);
  image.set(ascii.encode(label.padEnd(11, ' ')), 43);
  image.set(ascii.encode(layout.type.padEnd(8, ' ')), 54);
  // Not a BIOS boot volume: `int 18h` (try the next boot device), then halt.
  image.set([0xcd, 0x18, 0xf4, 0xeb, 0xfd], 62);
  image[510] = 0x55;
  image[511] = 0xaa;

  // FAT: media and end-of-chain markers, then one contiguous chain per directory and file.
  const fat = new Uint8Array(layout.fatSectors * FAT_SECTOR);
  const setFat =
    layout.type === 'FAT12'
      ? (n: number, value: number) => {
          const at = Math.floor((n * 3) / 2);
          if (n % 2 === 0) {
            fat[at] = value & 0xff;
            fat[at + 1] = ((fat[at + 1] as number) & 0xf0) | ((value >> 8) & 0x0f);
          } else {
            fat[at] = ((fat[at] as number) & 0x0f) | ((value << 4) & 0xf0);
            fat[at + 1] = (value >> 4) & 0xff;
          }
        }
      : (n: number, value: number) => new DataView(fat.buffer).setUint16(n * 2, value, true);
  const eoc = layout.type === 'FAT12' ? 0xfff : 0xffff;
  setFat(0, layout.type === 'FAT12' ? 0xff8 : 0xfff8);
  setFat(1, eoc);
  const chain = (first: number, count: number) => {
    for (let i = 0; i < count; i++) setFat(first + i, i === count - 1 ? eoc : first + i + 1);
  };
  for (const dir of dirs) chain(dir.firstCluster, dir.clusterCount);
  for (const { first, count } of fileClusters.values()) if (count > 0) chain(first, count);
  image.set(fat, FAT_SECTOR);
  image.set(fat, FAT_SECTOR * (1 + layout.fatSectors));

  const clusterOffset = (n: number) => (layout.dataStart + (n - 2) * sectorsPerCluster) * FAT_SECTOR;
  const entry = (out: number, name: Uint8Array, attr: number, cluster: number, bytes: number) => {
    image.set(name, out);
    image[out + 11] = attr;
    view.setUint16(out + 14, time, true); // created
    view.setUint16(out + 16, date, true);
    view.setUint16(out + 18, date, true); // accessed
    view.setUint16(out + 22, time, true); // written
    view.setUint16(out + 24, date, true);
    view.setUint16(out + 26, cluster, true);
    view.setUint32(out + 28, bytes, true);
  };
  const writeDir = (dir: Dir, at: number) => {
    let out = at;
    if (dir.parent) {
      entry(out, ascii.encode('.          '), 0x10, dir.firstCluster, 0);
      entry(
        out + DIR_ENTRY,
        ascii.encode('..         '),
        0x10,
        dir.parent.parent ? dir.parent.firstCluster : 0,
        0,
      );
      out += 2 * DIR_ENTRY;
    } else {
      entry(out, ascii.encode(label.padEnd(11, ' ')), 0x08, 0, 0);
      out += DIR_ENTRY;
    }
    for (const name of [...dir.dirs.keys()].sort()) {
      entry(out, shortName(name), 0x10, (dir.dirs.get(name) as Dir).firstCluster, 0);
      out += DIR_ENTRY;
    }
    for (const name of [...dir.files.keys()].sort()) {
      const placed = fileClusters.get(dir.files.get(name) as Uint8Array[]) as {
        first: number;
        bytes: number;
      };
      entry(out, shortName(name), 0x20, placed.first, placed.bytes);
      out += DIR_ENTRY;
    }
  };
  writeDir(root, (1 + 2 * layout.fatSectors) * FAT_SECTOR);
  for (const dir of dirs) writeDir(dir, clusterOffset(dir.firstCluster));
  for (const pieces of order) {
    const placed = fileClusters.get(pieces) as { first: number };
    let at = clusterOffset(placed.first);
    for (const piece of pieces) {
      image.set(piece, at);
      at += piece.byteLength;
    }
  }
  return { image, type: layout.type, clusters, sectorsPerCluster };
}
