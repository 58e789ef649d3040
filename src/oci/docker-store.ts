/**
 * Docker's image store as the engine keeps it on disk (the overlay2 graph driver of Docker
 * 26, Debian trixie's docker.io), made at build time from pulled images, so the images are
 * there when the engine starts: no `docker load` at boot. Measured under QEMU (TCG, 2 vCPUs,
 * a busy host) with a 138.9 MiB image: /init unpacks its segment in 5.5 s (40 ms/MiB, the
 * rate of the OS's own packages in that boot) and it takes 1.00 MiB of RAM per MiB. Loading a
 * docker-save archive of it through `POST /images/load` took 17.0 s (122 ms/MiB) once the
 * engine was up, and the archive (0.37 MiB/MiB) sits in RAM as well until it is deleted.
 *
 *   image/overlay2/repositories.json                   names → image ID (`docker images`)
 *   image/overlay2/imagedb/content/sha256/<id>          the config, byte for byte (ID = its SHA-256)
 *   image/overlay2/layerdb/sha256/<chain ID>/           diff, size, cache-id, parent, tar-split.json.gz
 *   overlay2/<cache-id>/diff/                           the layer's files, whiteouts as 0/0 devices
 *   overlay2/<cache-id>/{link,lower,work,committed}     overlayfs bookkeeping
 *   overlay2/l/<link>                                   → ../<cache-id>/diff (short lowerdir names)
 *
 * The random names Docker picks (cache-id, link) are derived from the chain ID here, so the
 * store, like every other output, is a function of its inputs. An opaque directory
 * (`.wh..wh..opq`) is an xattr on overlayfs, which cpio cannot carry: it becomes a whiteout
 * for each entry the layers below have there, the same merged view. tar-split.json.gz lets
 * the engine give back each layer's exact tar (`docker save`, `docker push`).
 */
import { createHash } from 'node:crypto';
import { HookError } from '../errors.ts';
import { gzipDeterministic } from '../formats/gzip.ts';
import { readTar, type TarEntry } from '../formats/tar-read.ts';
import { fileNode, symlinkNode, Tree, type TreeNode, type TreePath, treePath } from '../tree/tree.ts';
import { parseReference } from './reference.ts';

/** Where the engine keeps its state (dockerd --data-root). */
export const DOCKER_ROOT = 'var/lib/docker';

export interface StoreImage {
  /** The config blob as pulled: its SHA-256 is the image ID. */
  configBytes: Uint8Array;
  /** Uncompressed layer tars, bottom to top, each checked against the config's diff_ids. */
  layers: ReadonlyArray<{ tar: Uint8Array; diffId: string }>;
  /**
   * References the image answers to in the OS: `registry/repo:tag` or `registry/repo@digest`
   * (Docker shows the short forms: `ubuntu:24.04` for `docker.io/library/ubuntu:24.04`).
   */
  names: readonly string[];
  /** Names the image in messages. */
  label: string;
}

export interface StoreResult {
  /** Paths under var/lib/docker (the directory itself and its parents are not included). */
  tree: Tree;
  /** Layers written (a layer shared by several images counts once). */
  layers: number;
  /** Bytes of layer file content. */
  contentBytes: number;
  /** Files whose extended attributes (file capabilities, SELinux labels) the OS does not get. */
  droppedXattrs: string[];
}

const sha256Hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** The chain IDs of a layer stack (image-spec: ChainID(L0) = DiffID(L0), then H(parent + " " + diff)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const parent = out.at(-1);
    out.push(parent === undefined ? diffId : `sha256:${sha256Hex(`${parent} ${diffId}`)}`);
  }
  return out;
}

/** What Docker's stringid.GenerateRandomID would give, taken from the chain ID instead (64 hex). */
function cacheIdOf(chainId: string): string {
  return sha256Hex(`hook docker cache-id\n${chainId}`);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** overlay2's short link name (26 base32 characters, as its GenerateID), from the chain ID. */
function linkIdOf(chainId: string): string {
  const bytes = createHash('sha256').update(`hook docker link\n${chainId}`).digest();
  let out = '';
  for (let bit = 0; out.length < 26; bit += 5) {
    const byte = bit >> 3;
    const value = (((bytes[byte] ?? 0) << 8) | (bytes[byte + 1] ?? 0)) >> (11 - (bit & 7));
    out += BASE32[value & 31];
  }
  return out;
}

/** Docker's short form of a name: `docker.io/library/x` → `x`, `docker.io/a/b` → `a/b`. */
function familiar(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}

/** repositories.json: repository (short form) → reference (short form) → image ID. */
function repositoriesJson(
  images: ReadonlyArray<{ id: string; names: readonly string[]; label: string }>,
): string {
  const repositories: Record<string, Record<string, string>> = {};
  for (const image of images) {
    for (const name of image.names) {
      const ref = parseReference(name);
      const repository = familiar(`${ref.registry}/${ref.repository}`);
      const key =
        ref.digest !== undefined ? `${repository}@${ref.digest}` : `${repository}:${ref.tag ?? 'latest'}`;
      const entries = repositories[repository] ?? {};
      repositories[repository] = entries;
      const other = entries[key];
      if (other !== undefined && other !== image.id) {
        throw new HookError(
          'E_SPEC',
          `Two embedded images both want the name ${key} (${image.label} and another)`,
          {
            hint: 'Give each image its own tag',
          },
        );
      }
      entries[key] = image.id;
    }
  }
  const sorted = (record: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const out: Record<string, unknown> = {};
  for (const [repository, entries] of Object.entries(sorted(repositories)))
    out[repository] = sorted(entries as Record<string, string>);
  return JSON.stringify({ Repositories: out });
}

/** The directory tree of what the layers below hold, to turn opaque directories into whiteouts. */
class MergedView {
  readonly #children = new Map<string, Set<string>>([['', new Set()]]);

  clone(): MergedView {
    const copy = new MergedView();
    for (const [dir, names] of this.#children) copy.#children.set(dir, new Set(names));
    return copy;
  }

  names(dir: string): ReadonlySet<string> {
    return this.#children.get(dir) ?? new Set();
  }

  remove(path: string): void {
    const slash = path.lastIndexOf('/');
    this.#children.get(slash < 0 ? '' : path.slice(0, slash))?.delete(path.slice(slash + 1));
    const below = this.#children.get(path);
    if (below === undefined) return;
    this.#children.delete(path);
    for (const name of below) this.remove(`${path}/${name}`);
  }

  clear(dir: string): void {
    for (const name of [...this.names(dir)]) this.remove(dir === '' ? name : `${dir}/${name}`);
  }

  add(path: string, isDir: boolean): void {
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? '' : path.slice(0, slash);
    if (!this.#children.has(parent)) this.add(parent, true);
    this.#children.get(parent)?.add(path.slice(slash + 1));
    const below = this.#children.get(path);
    if (isDir && below === undefined) this.#children.set(path, new Set());
    if (!isDir && below !== undefined) {
      // A file over a directory hides everything the directory held below.
      this.clear(path);
      this.#children.delete(path);
    }
  }
}

interface LayerFiles {
  /** Paths relative to the layer root, in tar order (later entries replace earlier ones). */
  nodes: Map<string, TreeNode>;
  /** Mode and owner of the layer root (`./` in the tar), if given. */
  root: TreeNode | undefined;
  /** Bytes of regular file content (Docker's layer `size`). */
  size: number;
  droppedXattrs: string[];
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** A whiteout as overlayfs (and Docker's overlay2 driver) writes it: a 0/0 character device. */
function whiteoutNode(uid: number, gid: number): TreeNode {
  return { kind: 'char', mode: 0, uid, gid, major: 0, minor: 0 };
}

function layerPath(raw: string, label: string): string {
  if (raw.includes('\ufffd')) {
    throw new HookError(
      'E_OCI',
      `Cannot embed ${label}: a layer has a file name that is not UTF-8 (${JSON.stringify(raw)})`,
    );
  }
  try {
    return treePath(raw);
  } catch (error) {
    throw new HookError(
      'E_UNSAFE_PATH',
      `Cannot embed ${label}: a layer entry ${JSON.stringify(raw)} climbs above its root`,
      {
        cause: error,
      },
    );
  }
}

/** A layer's tar as overlayfs wants it in `diff/`, against the merged view of the layers below. */
function layerFiles(entries: readonly TarEntry[], below: MergedView, label: string): LayerFiles {
  const nodes = new Map<string, TreeNode>();
  let root: TreeNode | undefined;
  let size = 0;
  const droppedXattrs: string[] = [];
  const opaque: string[] = [];
  for (const entry of entries) {
    const path = layerPath(entry.path, label);
    const mode = entry.mode & 0o7777;
    const { uid, gid } = entry;
    if (entry.xattrs.length > 0) droppedXattrs.push(`/${path} (${entry.xattrs.join(', ')})`);
    if (path === '') {
      if (entry.type === 'dir') root = { kind: 'dir', mode, uid, gid };
      continue;
    }
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (name === OPAQUE) {
      opaque.push(dir);
      continue;
    }
    if (name.startsWith(WHITEOUT)) {
      nodes.set(
        dir === '' ? name.slice(WHITEOUT.length) : `${dir}/${name.slice(WHITEOUT.length)}`,
        whiteoutNode(uid, gid),
      );
      continue;
    }
    switch (entry.type) {
      case 'file':
        size += entry.data.byteLength;
        nodes.set(path, { kind: 'file', mode, uid, gid, content: { data: entry.data } });
        break;
      case 'hardlink': {
        const target = nodes.get(layerPath(entry.linkName, label));
        if (target?.kind !== 'file') {
          throw new HookError(
            'E_OCI',
            `Cannot embed ${label}: /${path} is a hard link to ${JSON.stringify(entry.linkName)}, not a file earlier in its layer`,
          );
        }
        nodes.set(path, { ...target });
        break;
      }
      case 'dir':
        nodes.set(path, { kind: 'dir', mode, uid, gid });
        break;
      case 'symlink':
        nodes.set(path, symlinkNode(entry.linkName, uid, gid));
        break;
      case 'char':
      case 'block':
        nodes.set(path, { kind: entry.type, mode, uid, gid, major: entry.devMajor, minor: entry.devMinor });
        break;
      case 'fifo':
        nodes.set(path, { kind: 'fifo', mode, uid, gid });
        break;
    }
  }
  for (const dir of opaque) {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const name of below.names(dir)) {
      if (!nodes.has(`${prefix}${name}`)) nodes.set(`${prefix}${name}`, whiteoutNode(0, 0));
    }
    if (dir !== '' && !nodes.has(dir)) nodes.set(dir, { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
  }
  return { nodes, root, size, droppedXattrs };
}

/** The layer applied to the merged view: what the next layer's opaque directories hide. */
function applyToView(view: MergedView, entries: readonly TarEntry[], label: string): void {
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  const added: Array<[string, boolean]> = [];
  for (const entry of entries) {
    const path = layerPath(entry.path, label);
    if (path === '') continue;
    const slash = path.lastIndexOf('/');
    const dir = slash < 0 ? '' : path.slice(0, slash);
    const name = path.slice(slash + 1);
    if (name === OPAQUE) opaque.push(dir);
    else if (name.startsWith(WHITEOUT))
      whiteouts.push(dir === '' ? name.slice(4) : `${dir}/${name.slice(4)}`);
    else added.push([path, entry.type === 'dir']);
  }
  for (const dir of opaque) view.clear(dir);
  for (const path of whiteouts) view.remove(path);
  for (const [path, isDir] of added) view.add(path, isDir);
}

// CRC-64 with the ISO polynomial, as Go's hash/crc64 (tar-split's file checksums), on two
// 32-bit halves kept as int32: JavaScript numbers cannot hold 64 bits, BigInt is far slower,
// and unsigned (>>> 0) halves ran 4x slower than int32 ones (2.3 s against 0.55 s per 100 MiB
// here). Slicing-by-8 measured slower still (0.74 s): more typed-array reads per byte.
const CRC_LO = new Int32Array(256);
const CRC_HI = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let j = 0; j < 8; j++) {
    const carry = lo & 1;
    lo = (lo >>> 1) | ((hi & 1) << 31);
    hi >>>= 1;
    if (carry) hi ^= 0xd8000000 | 0;
  }
  CRC_LO[i] = lo;
  CRC_HI[i] = hi;
}

/** Go's `crc64.Checksum(data, crc64.MakeTable(crc64.ISO))`, as 8 big-endian bytes. */
export function crc64Iso(data: Uint8Array): Uint8Array {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < data.length; i++) {
    const index = (lo ^ (data[i] as number)) & 0xff;
    lo = (CRC_LO[index] as number) ^ ((lo >>> 8) | (hi << 24));
    hi = (CRC_HI[index] as number) ^ (hi >>> 8);
  }
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, ~hi >>> 0);
  view.setUint32(4, ~lo >>> 0);
  return out;
}

/**
 * tar-split's record of a tar (github.com/vbatts/tar-split, as Docker stores it): the raw
 * bytes between file contents as segments, and each entry's name, size and CRC-64 of its
 * content, one JSON object per line, gzip-compressed. With the files in `diff/` it gives the
 * tar back byte for byte.
 */
export function tarSplit(tar: Uint8Array, entries: readonly TarEntry[]): Uint8Array {
  const lines: string[] = [];
  let position = 0;
  let cursor = 0;
  const segment = (end: number) => {
    const payload = Buffer.from(tar.buffer, tar.byteOffset + cursor, end - cursor).toString('base64');
    lines.push(JSON.stringify({ type: 2, payload, position: position++ }));
    cursor = end;
  };
  for (const entry of entries) {
    segment(entry.dataOffset);
    const size = entry.type === 'file' ? entry.data.byteLength : 0;
    const record: Record<string, unknown> = { type: 1, name: entry.path };
    if (size > 0) record.size = size;
    record.payload = size > 0 ? Buffer.from(crc64Iso(entry.data)).toString('base64') : null;
    record.position = position++;
    lines.push(JSON.stringify(record));
    cursor += size;
  }
  segment(tar.byteLength);
  return gzipDeterministic(new TextEncoder().encode(`${lines.join('\n')}\n`));
}

function decimalText(value: number): Uint8Array {
  return new TextEncoder().encode(String(value));
}

/** Builds the store for `images` (their layers already verified against the diff_ids). */
export function dockerImageStore(images: readonly StoreImage[]): StoreResult {
  const tree = new Tree();
  const at = (path: string) => treePath(path);
  const dir700 = (path: string) => tree.set(at(path), { kind: 'dir', mode: 0o700, uid: 0, gid: 0 });
  dir700('image');
  dir700('image/overlay2');
  for (const path of [
    'imagedb',
    'imagedb/content',
    'imagedb/content/sha256',
    'imagedb/metadata',
    'imagedb/metadata/sha256',
    'layerdb',
    'layerdb/sha256',
  ])
    dir700(`image/overlay2/${path}`);
  tree.set(at('overlay2'), { kind: 'dir', mode: 0o710, uid: 0, gid: 0 });
  dir700('overlay2/l');

  const done = new Set<string>();
  const committed = new Set<string>();
  let contentBytes = 0;
  const droppedXattrs: string[] = [];
  const named: Array<{ id: string; names: readonly string[]; label: string }> = [];
  for (const image of images) {
    const id = sha256Hex(image.configBytes);
    named.push({ id: `sha256:${id}`, names: image.names, label: image.label });
    tree.set(at(`image/overlay2/imagedb/content/sha256/${id}`), fileNode(image.configBytes, 0o600));
    const chain = chainIds(image.layers.map((l) => l.diffId));
    let view = new MergedView();
    for (const [i, layer] of image.layers.entries()) {
      const chainId = chain[i] as string;
      const entries = readTar(layer.tar, `layer ${layer.diffId} of ${image.label}`);
      const parentId = i === 0 ? undefined : (chain[i - 1] as string);
      if (!done.has(chainId)) {
        done.add(chainId);
        const files = layerFiles(entries, view, image.label);
        contentBytes += files.size;
        droppedXattrs.push(...files.droppedXattrs);
        const cacheId = cacheIdOf(chainId);
        const layerDir = `overlay2/${cacheId}`;
        tree.set(at(layerDir), { kind: 'dir', mode: 0o710, uid: 0, gid: 0 });
        tree.set(at(`${layerDir}/diff`), files.root ?? { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
        for (const [path, node] of files.nodes) {
          // Parents the tar leaves out are made as the engine's untar makes them.
          tree.set(at(`${layerDir}/diff/${path}`), node);
        }
        tree.set(at(`${layerDir}/link`), fileNode(linkIdOf(chainId)));
        tree.set(at(`overlay2/l/${linkIdOf(chainId)}`), symlinkNode(`../${cacheId}/diff`));
        if (parentId !== undefined) {
          tree.set(at(`${layerDir}/work`), { kind: 'dir', mode: 0o700, uid: 0, gid: 0 });
          const lowers: string[] = [];
          for (let j = i - 1; j >= 0; j--) lowers.push(`l/${linkIdOf(chain[j] as string)}`);
          tree.set(at(`${layerDir}/lower`), fileNode(lowers.join(':')));
          committed.add(cacheIdOf(parentId));
        }
        const db = `image/overlay2/layerdb/sha256/${chainId.slice('sha256:'.length)}`;
        tree.set(at(`${db}/diff`), fileNode(layer.diffId));
        tree.set(at(`${db}/size`), fileNode(decimalText(files.size)));
        tree.set(at(`${db}/cache-id`), fileNode(cacheId));
        if (parentId !== undefined) tree.set(at(`${db}/parent`), fileNode(parentId));
        tree.set(at(`${db}/tar-split.json.gz`), fileNode(tarSplit(layer.tar, entries)));
      }
      if (i < image.layers.length - 1) {
        view = view.clone();
        applyToView(view, entries, image.label);
      }
    }
  }
  for (const cacheId of committed)
    tree.set(at(`overlay2/${cacheId}/committed`), fileNode(new Uint8Array(0), 0o600));
  tree.set(at('image/overlay2/repositories.json'), fileNode(repositoriesJson(named), 0o644));
  return { tree, layers: done.size, contentBytes, droppedXattrs };
}

/** The store's entries placed under var/lib/docker, for an initramfs segment. */
export function storeEntries(store: Tree): Array<[TreePath, TreeNode]> {
  return store
    .entries()
    .filter(([path]) => path !== '')
    .map(([path, node]): [TreePath, TreeNode] => [treePath(`${DOCKER_ROOT}/${path}`), node]);
}
