/**
 * The in-memory filesystem tree the OS is assembled in. Nothing is written to the host:
 * entries come from `.deb` data archives, the spec and the kernel, and the tree is written
 * out as cpio (initramfs) or tar (OCI layers) with exact modes, owners and device numbers.
 *
 * Hard links are represented by two file nodes sharing one `FileContent` object; writers
 * give every distinct content object one inode number.
 */
import { HookError } from '../errors.ts';

/** A normalized path inside the tree (the OS, or a container image's layer): relative to `/`, no leading slash, no `.`/`..`; `''` is the root. */
export type TreePath = string & { readonly __brand: 'TreePath' };

export const ROOT = '' as TreePath;

/**
 * Normalizes a path found in an archive or a spec (`./usr/bin/x`, `/etc/y`, `usr//z/`) to an
 * TreePath. A path that would climb above the root is refused.
 */
export function treePath(raw: string): TreePath {
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new HookError('E_UNSAFE_PATH', `Refusing path "${raw}": it climbs above the root`);
    }
    parts.push(part);
  }
  return parts.join('/') as TreePath;
}

export function parentOf(path: TreePath): TreePath {
  const slash = path.lastIndexOf('/');
  return (slash < 0 ? '' : path.slice(0, slash)) as TreePath;
}

export function baseName(path: TreePath): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinTreePath(dir: TreePath, name: string): TreePath {
  return treePath(dir === '' ? name : `${dir}/${name}`);
}

export interface FileContent {
  data: Uint8Array;
}

interface Owned {
  uid: number;
  gid: number;
}

export type TreeNode =
  | ({ kind: 'dir'; mode: number } & Owned)
  | ({ kind: 'file'; mode: number; content: FileContent } & Owned)
  | ({ kind: 'symlink'; target: string } & Owned)
  | ({ kind: 'char' | 'block'; mode: number; major: number; minor: number } & Owned)
  | ({ kind: 'fifo'; mode: number } & Owned);

/** Permission bits only (`07777`); the type lives in `kind`. */
export const PERMISSION_BITS = 0o7777;

export function dirNode(mode = 0o755, uid = 0, gid = 0): TreeNode {
  return { kind: 'dir', mode, uid, gid };
}

export function fileNode(data: Uint8Array | string, mode = 0o644, uid = 0, gid = 0): TreeNode {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return { kind: 'file', mode, uid, gid, content: { data: bytes } };
}

export function symlinkNode(target: string, uid = 0, gid = 0): TreeNode {
  return { kind: 'symlink', target, uid, gid };
}

export class Tree {
  readonly #nodes = new Map<TreePath, TreeNode>([[ROOT, dirNode()]]);

  get size(): number {
    return this.#nodes.size;
  }

  get(path: TreePath): TreeNode | undefined {
    return this.#nodes.get(path);
  }

  has(path: TreePath): boolean {
    return this.#nodes.has(path);
  }

  /**
   * Resolves symlinks in the directory part of `path` (not the last component), so that
   * writing `bin/ls` lands in `usr/bin/ls` once `bin -> usr/bin` exists (merged /usr).
   */
  resolveParents(path: TreePath): TreePath {
    if (path === ROOT) return path;
    const parts = path.split('/');
    let current = ROOT;
    for (let i = 0; i < parts.length - 1; i++) {
      current = joinTreePath(current, parts[i] as string);
      current = this.#followSymlinks(current, 0);
    }
    return joinTreePath(current, parts[parts.length - 1] as string);
  }

  #followSymlinks(path: TreePath, depth: number): TreePath {
    const node = this.#nodes.get(path);
    if (node?.kind !== 'symlink') return path;
    if (depth > 40) throw new HookError('E_UNSAFE_PATH', `Too many levels of symbolic links at /${path}`);
    const target = node.target.startsWith('/')
      ? treePath(node.target)
      : treePath(`${parentOf(path)}/${node.target}`);
    return this.#followSymlinks(this.resolveParents(target), depth + 1);
  }

  /** Adds or replaces a node; missing parent directories are created (0755, root). */
  set(path: TreePath, node: TreeNode): void {
    if (path === ROOT) {
      if (node.kind !== 'dir')
        throw new HookError('E_UNSAFE_PATH', 'The root of the tree must be a directory');
      this.#nodes.set(ROOT, node);
      return;
    }
    this.mkdirp(parentOf(path));
    const existing = this.#nodes.get(path);
    if (existing?.kind === 'dir' && node.kind !== 'dir') this.delete(path);
    this.#nodes.set(path, node);
  }

  /** Creates a directory and its parents if missing; an existing directory keeps its attributes. */
  mkdirp(path: TreePath, mode = 0o755): void {
    if (this.#nodes.get(path)?.kind === 'dir') return;
    if (path !== ROOT) this.mkdirp(parentOf(path));
    const existing = this.#nodes.get(path);
    if (existing && existing.kind !== 'dir') {
      throw new HookError('E_UNSAFE_PATH', `Cannot create directory /${path}: a ${existing.kind} is there`);
    }
    this.#nodes.set(path, dirNode(mode));
  }

  /** Removes a node and, for a directory, everything below it. */
  delete(path: TreePath): void {
    const node = this.#nodes.get(path);
    if (!node) return;
    this.#nodes.delete(path);
    if (node.kind === 'dir') {
      const prefix = `${path}/`;
      for (const key of [...this.#nodes.keys()]) if (key.startsWith(prefix)) this.#nodes.delete(key);
    }
  }

  /** Every node, parents before children, in a stable byte order (reproducible archives). */
  entries(): Array<[TreePath, TreeNode]> {
    return [...this.#nodes.entries()].sort(([a], [b]) => comparePaths(a, b));
  }

  /** Children paths of a directory (direct only), sorted. */
  children(dir: TreePath): TreePath[] {
    const prefix = dir === ROOT ? '' : `${dir}/`;
    const out: TreePath[] = [];
    for (const key of this.#nodes.keys()) {
      if (key !== ROOT && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) out.push(key);
    }
    return out.sort(comparePaths);
  }

  /** Sum of the sizes of distinct file contents (hard links counted once). */
  contentBytes(): number {
    const seen = new Set<FileContent>();
    let total = 0;
    for (const node of this.#nodes.values()) {
      if (node.kind === 'file' && !seen.has(node.content)) {
        seen.add(node.content);
        total += node.content.data.byteLength;
      }
    }
    return total;
  }
}

/** Orders paths component by component so `a/b` sorts right after `a` (byte order within a component). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return Buffer.compare(Buffer.from(x), Buffer.from(y));
  }
  return pa.length - pb.length;
}
