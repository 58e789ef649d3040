/**
 * Reads a Debian binary package (`.deb`): an ar archive holding `debian-binary` ("2.0"),
 * `control.tar[.gz|.xz|.zst]` and `data.tar[.gz|.xz|.zst]`. Nothing touches the host
 * filesystem: entries come back with normalized image paths, exact modes, owners and
 * device numbers, and file data as views into the decompressed data archive.
 */
import { HookError, isHookError } from '../errors.ts';
import { type ArMember, readAr } from '../formats/ar.ts';
import { type CompressionKind, decompress } from '../formats/compress.ts';
import { readTar, type TarEntry } from '../formats/tar-read.ts';
import { PERMISSION_BITS, type TreePath, treePath } from '../tree/tree.ts';
import { parseDeb822, type Stanza } from './deb822.ts';

/** A data.tar entry as the image sees it: a normalized path, permission bits, resolved links. */
export interface DebEntry extends Pick<TarEntry, 'type' | 'uid' | 'gid' | 'uname' | 'gname' | 'mtime'> {
  /** Normalized image path; `''` for the data archive's `./`. */
  path: TreePath;
  /** Permission bits (`07777`). */
  mode: number;
  /** Symlink target as written, or for a hard link the normalized path of its target. */
  linkTarget?: string;
  devMajor?: number;
  devMinor?: number;
  /** Contents, for files only. */
  data?: Uint8Array;
}

export interface Deb {
  /** Files of control.tar by name: `control`, `postinst`, `conffiles`, `md5sums`, ... */
  control: Map<string, Uint8Array>;
  data: DebEntry[];
}

const TAR_SUFFIXES: Record<string, CompressionKind> = {
  '': 'none',
  '.gz': 'gzip',
  '.xz': 'xz',
  '.zst': 'zstd',
};

/** `source` names the package in error messages (e.g. its file name). */
export async function readDeb(buf: Uint8Array, source = 'package'): Promise<Deb> {
  const { control, data } = debMembers(buf, source);
  const controlTar = readTar(await decompressMember(control, source), `${control.name} of ${source}`);
  const dataTar = readTar(await decompressMember(data, source), `${data.name} of ${source}`);
  return {
    control: controlFiles(controlTar, source),
    data: dataTar.map((entry) => toDebEntry(entry, source)),
  };
}

/** The decompressed control and data tars of a `.deb` (what the build caches between runs). */
export async function unpackDeb(
  buf: Uint8Array,
  source = 'package',
): Promise<{ controlTar: Uint8Array; dataTar: Uint8Array }> {
  const { control, data } = debMembers(buf, source);
  return {
    controlTar: await decompressMember(control, source),
    dataTar: await decompressMember(data, source),
  };
}

/** Reads a `.deb` from its decompressed tars, with the same checks as readDeb. */
export function debFromTars(controlTar: Uint8Array, dataTar: Uint8Array, source = 'package'): Deb {
  return {
    control: controlFiles(readTar(controlTar, `control.tar of ${source}`), source),
    data: readTar(dataTar, `data.tar of ${source}`).map((entry) => toDebEntry(entry, source)),
  };
}

/** The fields of the package's `control` file, without decompressing its data archive. */
export async function readDebControl(buf: Uint8Array, source = 'package'): Promise<Stanza> {
  const { control } = debMembers(buf, source);
  const files = controlFiles(
    readTar(await decompressMember(control, source), `${control.name} of ${source}`),
    source,
  );
  const text = files.get('control');
  if (!text)
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ${source}: control.tar has no "control" file`);
  const [stanza, ...rest] = parseDeb822(new TextDecoder().decode(text), `control file of ${source}`);
  if (!stanza || rest.length > 0) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot read ${source}: its control file must hold exactly one stanza`,
    );
  }
  return stanza;
}

/** Checks the member layout dpkg requires; members starting with `_` are reserved and skipped. */
function debMembers(buf: Uint8Array, source: string): { control: ArMember; data: ArMember } {
  const members = readAr(buf).filter((member) => !member.name.startsWith('_'));
  const [binary, control, data] = members;
  if (binary?.name !== 'debian-binary') {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ${source}: first ar member is not "debian-binary"`);
  }
  const version = new TextDecoder().decode(binary.data);
  if (!/^2\.[0-9]+\n/.test(version)) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot read ${source}: unsupported .deb format version "${version.trim()}"`,
    );
  }
  if (!control?.name.startsWith('control.tar') || !data?.name.startsWith('data.tar')) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot read ${source}: expected members control.tar* then data.tar*, found ${members.map((m) => m.name).join(', ')}`,
    );
  }
  return { control, data };
}

async function decompressMember(member: ArMember, source: string): Promise<Uint8Array> {
  const suffix = member.name.replace(/^(control|data)\.tar/, '');
  const kind = TAR_SUFFIXES[suffix];
  if (kind === undefined) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Cannot read ${source}: unsupported compression of ${member.name}`,
      {
        hint: 'Supported: .tar, .tar.gz, .tar.xz, .tar.zst',
      },
    );
  }
  try {
    return await decompress(member.data, kind);
  } catch (error) {
    if (isHookError(error)) throw new HookError(error.code, `${error.message} (${member.name} of ${source})`);
    throw error;
  }
}

function controlFiles(entries: TarEntry[], source: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    files.set(safePath(entry.path, entry.path, `control.tar of ${source}`), entry.data);
  }
  return files;
}

function toDebEntry(entry: TarEntry, source: string): DebEntry {
  const path = safePath(entry.path, entry.path, source);
  const out: DebEntry = {
    path,
    type: entry.type,
    mode: entry.mode & PERMISSION_BITS,
    uid: entry.uid,
    gid: entry.gid,
    uname: entry.uname,
    gname: entry.gname,
    mtime: entry.mtime,
  };
  if (entry.type === 'file') out.data = entry.data;
  if (entry.type === 'symlink') out.linkTarget = entry.linkName; // resolved inside the image at boot
  if (entry.type === 'hardlink') out.linkTarget = safePath(entry.linkName, entry.path, source);
  if (entry.type === 'char' || entry.type === 'block') {
    out.devMajor = entry.devMajor;
    out.devMinor = entry.devMinor;
  }
  return out;
}

/** Normalizes a path of the archive, refusing any `..` component (they could escape the root). */
function safePath(raw: string, entryName: string, source: string): TreePath {
  if (raw.split('/').includes('..') || raw.includes('\0')) {
    throw new HookError(
      'E_UNSAFE_PATH',
      `Refusing entry "${entryName}" of ${source}: "${raw}" contains ".." and could escape the image root`,
    );
  }
  return treePath(raw);
}
