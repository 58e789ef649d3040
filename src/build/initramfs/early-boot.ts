/**
 * The initramfs layout (the boot side is osie/early/init.sh):
 *
 * 1. the early archive, compressed, which the kernel unpacks: `/init`, busybox, zstd with its
 *    interpreter and shared libraries, the device nodes the kernel opens before /init;
 * 2. an uncompressed cpio whose files are the OS segments, still compressed, under
 *    `payload/`, with `payload/index` listing them in order.
 *
 * /init unpacks the payloads into a tmpfs of its own and deletes each as it goes, so the
 * kernel's half-of-RAM cap on its own unpacking only ever sees the compressed OS, and RAM
 * never holds two copies of the unpacked OS.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { OSIE_EARLY_INIT } from '../../../osie/manifest.ts';
import type { Arch } from '../../arch.ts';
import { HookError } from '../../errors.ts';
import { decompress, detectCompression, type OutputCompression } from '../../formats/compress.ts';
import { type CpioEntry, cpioTrailer, readCpio, writeCpio } from '../../formats/cpio.ts';
import { ElfFile } from '../../formats/elf.ts';
import { zstdFrameEnd } from '../../formats/zstd-frames.ts';
import { REPO_ROOT } from '../../repo.ts';
import {
  dirNode,
  fileNode,
  joinTreePath,
  parentOf,
  ROOT,
  Tree,
  type TreeNode,
  type TreePath,
  treePath,
} from '../../tree/tree.ts';
import { type BuiltSegment, buildSegments } from './segments.ts';

export const PAYLOAD_DIR = 'payload';
export const PAYLOAD_INDEX = `${PAYLOAD_DIR}/index`;

/** The programs /init runs, and the package each comes from (for the error when missing). */
const BUSYBOX = { path: 'usr/bin/busybox', pkg: 'busybox-static' };
const ZSTD = { path: 'usr/bin/zstd', pkg: 'zstd' };

const TRIPLET: Record<Arch, string> = { x86_64: 'x86_64-linux-gnu', aarch64: 'aarch64-linux-gnu' };

/**
 * Inode numbers of the payload carrier start here, far above the early archive's, so the two
 * archives the kernel unpacks never share one (it links equal inode numbers).
 */
const CARRIER_INODE_BASE = 1_000_000;

export interface Payload {
  /** File name under payload/. */
  file: string;
  segment: BuiltSegment;
}

export interface InitramfsLayout {
  /** The bytes of `initramfs-<arch>`, in order (views, no copy of the payloads). */
  pieces: Uint8Array[];
  bytes: number;
  early: BuiltSegment;
  payloads: Payload[];
}

export interface AssembleOptions {
  arch: Arch;
  compression: OutputCompression;
  mtime: number;
  cacheDir: string;
  /** Told when a damaged cache entry is replaced. */
  onRepair?: (message: string) => void;
}

/** The early archive plus the carrier of `segments` (the OS, built by buildSegments). */
export async function assembleInitramfs(
  os: Tree,
  segments: readonly BuiltSegment[],
  options: AssembleOptions,
): Promise<InitramfsLayout> {
  if (options.compression === 'none') {
    throw new HookError('E_SPEC', 'The initramfs payloads must be compressed (zstd or gzip)');
  }
  const script = await readFile(join(REPO_ROOT, 'osie', OSIE_EARLY_INIT));
  const early = earlyTree(os, { arch: options.arch, compression: options.compression, init: script });
  const [earlySegment] = await buildSegments([{ name: 'early', entries: early.entries() }], options);
  if (earlySegment === undefined) throw new Error('buildSegments returned nothing for the early archive');
  const payloads = segments.map((segment, i) => ({
    file: `${String(i).padStart(2, '0')}-${segment.name}.cpio.${options.compression === 'zstd' ? 'zst' : 'gz'}`,
    segment,
  }));
  const index = payloads
    .map((p) => `${p.file} ${p.segment.uncompressedBytes} ${options.compression}\n`)
    .join('');
  const carrier: Array<[TreePath, TreeNode]> = [
    [treePath(PAYLOAD_DIR), dirNode(0o700)],
    ...payloads.map((p): [TreePath, TreeNode] => [
      treePath(`${PAYLOAD_DIR}/${p.file}`),
      fileNode(p.segment.data, 0o600),
    ]),
    [treePath(PAYLOAD_INDEX), fileNode(index, 0o600)],
  ];
  const pieces = [
    earlySegment.data,
    ...alignment(earlySegment.data.byteLength),
    ...writeCpio(carrier, { mtime: options.mtime, inodeBase: CARRIER_INODE_BASE }),
    cpioTrailer(),
  ];
  let bytes = 0;
  for (const piece of pieces) bytes += piece.byteLength;
  return { pieces, bytes, early: earlySegment, payloads };
}

/**
 * NUL bytes up to the next 4-byte boundary: the kernel reads an uncompressed cpio after a
 * compressed one only when it starts on such a boundary, and skips NULs in between.
 */
function alignment(length: number): Uint8Array[] {
  const pad = (4 - (length % 4)) % 4;
  return pad === 0 ? [] : [new Uint8Array(pad)];
}

export interface EarlyTreeOptions {
  arch: Arch;
  compression: Exclude<OutputCompression, 'none'>;
  /** The /init script. */
  init: Uint8Array;
}

/** The early archive's tree: /init and the programs it runs, taken from the OS tree. */
export function earlyTree(os: Tree, options: EarlyTreeOptions): Tree {
  const early = new Tree();
  const libraryDirs = [`usr/lib/${TRIPLET[options.arch]}`, `lib/${TRIPLET[options.arch]}`, 'usr/lib', 'lib'];
  const programs = options.compression === 'zstd' ? [BUSYBOX, ZSTD] : [BUSYBOX];
  for (const program of programs) {
    if (os.get(os.resolveParents(treePath(program.path))) === undefined) {
      throw new HookError(
        'E_SPEC',
        `The early boot needs /${program.path}, which the spec does not install`,
        {
          hint: `Add the package ${program.pkg} to packages (the default hook.yaml has it).`,
        },
      );
    }
    addProgram(os, early, program.path, libraryDirs, new Set());
  }
  early.set(treePath('init'), fileNode(options.init, 0o755));
  // The kernel opens /dev/console for /init before anything mounts devtmpfs.
  early.set(treePath('dev/console'), { kind: 'char', mode: 0o600, uid: 0, gid: 0, major: 5, minor: 1 });
  early.set(treePath('dev/null'), { kind: 'char', mode: 0o666, uid: 0, gid: 0, major: 1, minor: 3 });
  for (const dir of ['proc', 'sys', 'sysroot']) early.mkdirp(treePath(dir));
  return early;
}

/** Copies an ELF program, its interpreter and its shared libraries (transitively). */
function addProgram(os: Tree, early: Tree, path: string, libraryDirs: string[], done: Set<string>): void {
  const real = copyResolved(os, early, path, 0);
  if (done.has(real)) return;
  done.add(real);
  const node = os.get(real);
  if (node?.kind !== 'file') return;
  const elf = new ElfFile(node.content.data, `/${real}`, { errorCode: 'E_ARCHIVE_FORMAT', what: 'program' });
  const interpreter = elf.interpreter();
  if (interpreter !== undefined) copyResolved(os, early, interpreter, 0);
  for (const library of elf.neededLibraries()) {
    const dir = libraryDirs.find((d) => exists(os, `${d}/${library}`));
    if (dir === undefined) {
      throw new HookError('E_SPEC', `/${real} needs ${library}, which is not in the OS`, {
        hint: 'The early boot copies programs with their libraries; keep the packages that provide them.',
      });
    }
    addProgram(os, early, `${dir}/${library}`, libraryDirs, done);
  }
}

function exists(os: Tree, path: string): boolean {
  try {
    return os.get(os.resolveParents(treePath(path))) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Copies `raw` from `os` into `early` as the kernel would find it: every symlink met on the
 * way (merged-/usr links, library version links) is copied too, and followed. Returns the
 * path of what the name finally refers to.
 */
function copyResolved(os: Tree, early: Tree, raw: string, depth: number): TreePath {
  if (depth > 40) throw new HookError('E_UNSAFE_PATH', `Too many levels of symbolic links at /${raw}`);
  const parts = treePath(raw).split('/');
  let current: TreePath = ROOT;
  for (const [i, part] of parts.entries()) {
    current = joinTreePath(current, part);
    let node = os.get(current);
    while (node?.kind === 'symlink') {
      early.set(current, node);
      current = copyResolved(os, early, linkTarget(current, node.target), depth + 1);
      node = os.get(current);
    }
    if (node === undefined) {
      throw new HookError('E_SPEC', `The early boot needs /${raw}, but /${current} is not in the OS`);
    }
    const last = i === parts.length - 1;
    if (node.kind === 'dir') {
      if (!early.has(current)) early.set(current, node);
    } else if (last) {
      early.set(current, node);
    } else {
      throw new HookError('E_SPEC', `The early boot needs /${raw}, but /${current} is not a directory`);
    }
  }
  return current;
}

/** Where a symlink at `link` points, as a path from the root (`..` stops at the root, as in a chroot). */
function linkTarget(link: TreePath, target: string): string {
  const parts = target.startsWith('/') ? [] : parentOf(link).split('/');
  for (const part of target.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  return parts.filter((p) => p !== '').join('/');
}

export interface InitramfsContents {
  early: CpioEntry[];
  payloads: Array<{ file: string; compressed: Uint8Array }>;
  index: string;
}

/**
 * Splits an initramfs written by assembleInitramfs into the early archive's entries and the
 * payload files (still compressed), for `hook inspect` and the tests.
 */
export async function readInitramfs(bytes: Uint8Array): Promise<InitramfsContents> {
  const kind = detectCompression(bytes);
  let consumed: number;
  let cpio: Uint8Array;
  if (kind === 'zstd') {
    consumed = zstdFrameEnd(bytes, 0).offset;
    cpio = await decompress(bytes.subarray(0, consumed), 'zstd');
  } else if (kind === 'gzip') {
    const result = gunzipSync(bytes, { info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    consumed = result.engine.bytesWritten;
    cpio = result.buffer;
  } else {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `Not a HookOS initramfs: it starts with neither zstd nor gzip data`,
    );
  }
  const early = readCpio(cpio);
  const carrier = readCpio(bytes.subarray(consumed + ((4 - (consumed % 4)) % 4)));
  const payloads: InitramfsContents['payloads'] = [];
  let index = '';
  for (const entry of carrier) {
    if (entry.name === PAYLOAD_INDEX) index = new TextDecoder().decode(entry.data);
    else if (entry.name.startsWith(`${PAYLOAD_DIR}/`)) {
      payloads.push({ file: entry.name.slice(PAYLOAD_DIR.length + 1), compressed: entry.data });
    }
  }
  if (index === '') throw new HookError('E_ARCHIVE_FORMAT', `Not a HookOS initramfs: no ${PAYLOAD_INDEX}`);
  return { early, payloads, index };
}
