/**
 * Installs a package's data archive into the tree the way dpkg would unpack it, minus
 * maintainer scripts: paths go through the merged-/usr symlinks, modes and owners are kept,
 * hard links share content, and path filters drop what the image does not need.
 */
import type { DebEntry } from '../debian/deb.ts';
import { HookError } from '../errors.ts';
import { pathFilter } from '../tree/path-filter.ts';
import { ROOT, symlinkNode, type Tree, type TreeNode, type TreePath } from '../tree/tree.ts';

export interface InstallFilter {
  include: readonly string[];
  exclude: readonly string[];
}

/** Which package put each path in the tree (for `hook inspect` and segmenting). */
export type Ownership = Map<TreePath, string>;

/** Directories that are symlinks into /usr in a merged-/usr system. */
export function mergedUsrLinks(debianArch: string): Array<[string, string]> {
  const links: Array<[string, string]> = [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
  ];
  if (debianArch === 'amd64') links.push(['lib64', 'usr/lib64']);
  return links;
}

export function createMergedUsr(tree: Tree, debianArch: string): void {
  for (const [link, target] of mergedUsrLinks(debianArch)) {
    tree.mkdirp(target as TreePath);
    tree.set(link as TreePath, symlinkNode(target));
  }
}

export interface InstallStats {
  files: number;
  bytes: number;
  skipped: number;
}

export function installEntries(
  tree: Tree,
  packageName: string,
  entries: readonly DebEntry[],
  filter: InstallFilter,
  ownership: Ownership,
): InstallStats {
  const keep = pathFilter(filter.include, filter.exclude);
  const stats: InstallStats = { files: 0, bytes: 0, skipped: 0 };
  for (const entry of entries) {
    if (entry.path === ROOT) continue;
    if (!keep(entry.path, entry.type === 'dir')) {
      stats.skipped++;
      continue;
    }
    const target = tree.resolveParents(entry.path);
    const existing = tree.get(target);
    if (entry.type === 'dir') {
      // A directory entry over a merged-/usr symlink (or any symlink to a directory) keeps the link.
      if (existing?.kind === 'symlink' || existing?.kind === 'dir') continue;
      tree.set(target, { kind: 'dir', mode: entry.mode, uid: entry.uid, gid: entry.gid });
      continue;
    }
    const node = nodeFor(tree, packageName, entry);
    if (node === undefined) continue;
    if (node.kind === 'symlink' && existing?.kind === 'symlink' && existing.target === node.target) continue;
    if (existing?.kind === 'dir') {
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `Package ${packageName} wants a ${node.kind} at /${entry.path}, where a directory already is`,
      );
    }
    tree.set(target, node);
    ownership.set(target, packageName);
    if (node.kind === 'file') {
      stats.files++;
      stats.bytes += node.content.data.byteLength;
    }
  }
  return stats;
}

function nodeFor(tree: Tree, packageName: string, entry: DebEntry): TreeNode | undefined {
  const owner = { uid: entry.uid, gid: entry.gid };
  switch (entry.type) {
    case 'file':
      return { kind: 'file', mode: entry.mode, ...owner, content: { data: entry.data ?? new Uint8Array() } };
    case 'symlink':
      return { kind: 'symlink', target: entry.linkTarget ?? '', ...owner };
    case 'hardlink': {
      const linked = tree.get(tree.resolveParents((entry.linkTarget ?? '') as TreePath));
      if (linked?.kind !== 'file') {
        // The target was filtered out: nothing to link to, and the path is not wanted either.
        return undefined;
      }
      return { ...linked, mode: entry.mode, ...owner };
    }
    case 'char':
    case 'block':
      return {
        kind: entry.type,
        mode: entry.mode,
        ...owner,
        major: entry.devMajor ?? 0,
        minor: entry.devMinor ?? 0,
      };
    case 'fifo':
      return { kind: 'fifo', mode: entry.mode, ...owner };
    default:
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `Package ${packageName}: unsupported entry type at /${entry.path}`,
      );
  }
}
