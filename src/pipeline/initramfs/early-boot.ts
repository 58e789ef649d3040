/**
 * The initramfs layout (the boot side is osie/early/init.sh):
 *
 * 1. the early archive, compressed, which the kernel unpacks: `/init`, busybox, zstd with its
 *    interpreter and shared libraries, the device nodes the kernel opens before /init;
 * 2. an uncompressed cpio whose files are the OS segments, still compressed: `cpio` segments
 *    as `payload/NN-<name>.cpio.zst`, `file` segments as `payload/files/<path>.zst` carrying
 *    the file's mode and owner, and `payload/index` saying how /init unpacks each.
 *
 * /init unpacks the payloads into a tmpfs of its own in two lanes at once (2 vCPUs: measured
 * under TCG, one lane leaves a CPU waiting on the other end of each pipe) and deletes each
 * payload as it goes, so the kernel's half-of-RAM cap on its own unpacking only ever sees the
 * compressed OS, and RAM never holds two copies of the unpacked OS: at most one chunk per lane
 * (CHUNK_MAX_BYTES) is staged as a file. The programs of the early archive are not repeated in
 * the payloads: /init copies them into the OS (`early` lines of the index).
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
import { type BuiltSegment, buildSegments, CHUNK_MAX_BYTES, DIRS } from './segments.ts';

export const PAYLOAD_DIR = 'payload';
export const PAYLOAD_INDEX = `${PAYLOAD_DIR}/index`;
/** Where `file` payloads sit in the carrier: `payload/files/<path in the OS>.zst`. */
export const PAYLOAD_FILES = `${PAYLOAD_DIR}/files`;

/** The programs /init runs, and the package each comes from (for the error when missing). */
const BUSYBOX = { path: 'usr/bin/busybox', pkg: 'busybox-static' };
const ZSTD = { path: 'usr/bin/zstd', pkg: 'zstd' };

const TRIPLET: Record<Arch, string> = { x86_64: 'x86_64-linux-gnu', aarch64: 'aarch64-linux-gnu' };

/**
 * Inode numbers of the payload carrier start here, far above the early archive's, so the two
 * archives the kernel unpacks never share one (it links equal inode numbers).
 */
const CARRIER_INODE_BASE = 1_000_000;

/** How many payloads /init unpacks at once. */
export const LANES = 2;

/**
 * The cost of unpacking a payload, in bytes: its size plus, per entry, what busybox cpio
 * spends on one file. Measured in the guest under TCG: the 120 MB base segment (2800 entries)
 * took 6.5 s staged where 94 MB of dockerd took 3.0 s, about 1 ms (~32 KiB) per entry.
 */
const ENTRY_COST_BYTES = 32 * 1024;

export interface Payload {
  /** Its name under payload/ (`NN-<name>.cpio.zst`, or `files/<path>.zst`). */
  file: string;
  segment: BuiltSegment;
  /** 0: unpacked first, alone (the directories); else the lane that unpacks it. */
  lane: number;
}

export interface InitramfsLayout {
  /** The bytes of `initramfs-<arch>`, in order (views, no copy of the payloads). */
  pieces: Uint8Array[];
  bytes: number;
  early: BuiltSegment;
  payloads: Payload[];
}

export interface AssembleOptions {
  compression: OutputCompression;
  /** Level of the early archive (the kernel decompresses it). */
  level?: number;
  mtime: number;
  cacheDir: string;
  /** Told when a damaged cache entry is replaced. */
  onRepair?: (message: string) => void;
}

/**
 * The early archive plus the carrier of `segments` (the OS, built by buildSegments from a plan
 * that skipped the files `early` hands over, see handedOver).
 */
export async function assembleInitramfs(
  early: Tree,
  segments: readonly BuiltSegment[],
  options: AssembleOptions,
): Promise<InitramfsLayout> {
  if (options.compression === 'none') {
    throw new HookError('E_SPEC', 'The initramfs payloads must be compressed (zstd or gzip)');
  }
  const [earlySegment] = await buildSegments([{ name: 'early', entries: early.entries() }], options);
  if (earlySegment === undefined) throw new Error('buildSegments returned nothing for the early archive');
  const extension = options.compression === 'zstd' ? 'zst' : 'gz';
  const lanes = assignLanes(segments);
  const payloads = segments.map((segment, i): Payload => {
    const file =
      segment.kind === 'file'
        ? `files/${onlyPath(segment)}.zst`
        : `${String(i).padStart(2, '0')}-${segment.name}.cpio.${extension}`;
    return { file, segment, lane: lanes[i] as number };
  });
  const index = [
    ...payloads.map((p) =>
      p.segment.kind === 'file'
        ? `file ${p.lane} ${onlyPath(p.segment)} ${p.segment.uncompressedBytes} zstd\n`
        : `cpio ${p.lane} ${p.file} ${p.segment.uncompressedBytes} ${options.compression}\n`,
    ),
    ...handedOver(early).map((path) => `early - ${path} ${fileSize(early, path)} -\n`),
  ].join('');
  const carrier: Array<[TreePath, TreeNode]> = [];
  const carrierDirs = new Set<string>();
  const addDir = (path: string) => {
    if (carrierDirs.has(path)) return;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent !== '') addDir(parent);
    carrierDirs.add(path);
    carrier.push([treePath(path), dirNode(0o700)]);
  };
  addDir(PAYLOAD_DIR);
  for (const p of payloads) {
    const path = `${PAYLOAD_DIR}/${p.file}`;
    addDir(path.slice(0, path.lastIndexOf('/')));
    // A file payload carries the mode and owner zstd gives the file it writes.
    const node = p.segment.kind === 'file' ? onlyNode(p.segment) : undefined;
    carrier.push([
      treePath(path),
      fileNode(p.segment.data, node?.mode ?? 0o600, node?.uid ?? 0, node?.gid ?? 0),
    ]);
  }
  carrier.push([treePath(PAYLOAD_INDEX), fileNode(index, 0o600)]);
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

function onlyNode(segment: BuiltSegment): Extract<TreeNode, { kind: 'file' }> {
  const [entry] = segment.members ?? [];
  if (entry?.[1].kind !== 'file') throw new Error(`file segment ${segment.name} holds no file`);
  return entry[1];
}

function onlyPath(segment: BuiltSegment): TreePath {
  const [entry] = segment.members ?? [];
  if (entry === undefined) throw new Error(`segment ${segment.name} has no members`);
  return entry[0];
}

function fileSize(tree: Tree, path: TreePath): number {
  const node = tree.get(path);
  return node?.kind === 'file' ? node.content.data.byteLength : 0;
}

/**
 * The lane of each segment: the directories first and alone (0), the others spread over
 * LANES by their unpacking cost, largest first onto the least loaded lane.
 */
export function assignLanes(segments: readonly BuiltSegment[]): number[] {
  const lanes = segments.map(() => 0);
  const load = new Array<number>(LANES).fill(0);
  const order = segments
    .map((segment, i) => ({ i, cost: segment.uncompressedBytes + segment.entries * ENTRY_COST_BYTES }))
    .filter(({ i }) => segments[i]?.name !== DIRS)
    .sort((a, b) => b.cost - a.cost || a.i - b.i);
  for (const { i, cost } of order) {
    const lane = load.indexOf(Math.min(...load));
    load[lane] = (load[lane] as number) + cost;
    lanes[i] = lane + 1;
  }
  return lanes;
}

/**
 * The regular files of the early archive that /init copies into the OS, which therefore
 * leaves them out of its payloads: everything but /init itself (busybox, zstd, their
 * libraries: ~6 MiB, ~2.5 MB compressed, that would otherwise travel twice).
 */
export function handedOver(early: Tree): TreePath[] {
  return early
    .entries()
    .filter(([path, node]) => node.kind === 'file' && path !== 'init')
    .map(([path]) => path);
}

/** The most RAM the staged chunks of the lanes take at once, for /init's memory check. */
export const STAGED_BYTES = LANES * CHUNK_MAX_BYTES;

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

export interface PayloadContents {
  /** Its name under payload/. */
  file: string;
  compressed: Uint8Array;
  /** A `file` payload: the carrier entry, whose name, mode and owner zstd gives the file. */
  carrier?: CpioEntry;
}

export interface InitramfsContents {
  early: CpioEntry[];
  payloads: PayloadContents[];
  index: string;
  /** The files /init copies from the early archive into the OS. */
  handover: string[];
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
  const payloads: PayloadContents[] = [];
  let index = '';
  for (const entry of carrier) {
    if (entry.name === PAYLOAD_INDEX) index = new TextDecoder().decode(entry.data);
    else if (entry.name.startsWith(`${PAYLOAD_FILES}/`) && (entry.mode & 0o170000) === 0o100000) {
      payloads.push({
        file: entry.name.slice(PAYLOAD_DIR.length + 1),
        compressed: entry.data,
        carrier: entry,
      });
    } else if (entry.name.startsWith(`${PAYLOAD_DIR}/`) && (entry.mode & 0o170000) === 0o100000) {
      payloads.push({ file: entry.name.slice(PAYLOAD_DIR.length + 1), compressed: entry.data });
    }
  }
  if (index === '') throw new HookError('E_ARCHIVE_FORMAT', `Not a HookOS initramfs: no ${PAYLOAD_INDEX}`);
  const lines = index.split('\n').map((line) => line.split(' '));
  // The index's order is the unpacking plan's; the carrier lists payloads sorted by name.
  const order = new Map(
    lines
      .filter((f) => f[0] === 'cpio' || f[0] === 'file')
      .map((f, i) => [f[0] === 'file' ? `files/${f[2]}.zst` : (f[2] as string), i]),
  );
  payloads.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0));
  const handover = lines.filter((f) => f[0] === 'early').map((f) => f[2] as string);
  return { early, payloads, index, handover };
}

/**
 * What a payload puts into the OS, as cpio entries: a cpio payload's own entries, or for a
 * file payload the one file zstd writes (named and owned like its carrier entry); and the
 * payload's uncompressed size.
 */
export async function payloadEntries(
  payload: PayloadContents,
): Promise<{ entries: CpioEntry[]; bytes: number }> {
  const data = await decompress(payload.compressed);
  if (payload.carrier === undefined) return { entries: readCpio(data), bytes: data.byteLength };
  const name = payload.file.slice('files/'.length).replace(/\.zst$/, '');
  return { entries: [{ ...payload.carrier, name, nlink: 1, data }], bytes: data.byteLength };
}

/** Every entry of the OS as /init leaves it: the payloads' and the files handed over. */
export async function osEntries(contents: InitramfsContents): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [];
  for (const payload of contents.payloads) entries.push(...(await payloadEntries(payload)).entries);
  const handover = new Set(contents.handover);
  entries.push(...contents.early.filter((e) => handover.has(e.name)));
  return entries;
}

/** The early boot's /init script (osie/early/init.sh). */
export async function earlyInitScript(): Promise<Uint8Array> {
  return await readFile(join(REPO_ROOT, 'osie', OSIE_EARLY_INIT));
}
