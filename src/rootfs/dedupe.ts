/**
 * Identical regular files become hard links to one content object: the booted OS keeps one
 * copy in RAM, and the cpio carries the data once. Only files with the same mode and owner
 * are merged, so no path changes its metadata.
 */
import { createHash } from 'node:crypto';
import type { FileContent, Tree, TreePath } from '../tree/tree.ts';

export interface DedupeStats {
  linkedFiles: number;
  savedBytes: number;
}

export function dedupeFiles(tree: Tree, minSize = 1024): DedupeStats {
  const byKey = new Map<string, FileContent>();
  const hashes = new Map<FileContent, string>();
  const stats: DedupeStats = { linkedFiles: 0, savedBytes: 0 };
  for (const [path, node] of tree.entries()) {
    if (node.kind !== 'file' || node.content.data.byteLength < minSize) continue;
    let hash = hashes.get(node.content);
    if (hash === undefined) {
      hash = createHash('sha256').update(node.content.data).digest('hex');
      hashes.set(node.content, hash);
    }
    const key = `${hash}:${node.mode}:${node.uid}:${node.gid}`;
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, node.content);
    } else if (first !== node.content) {
      stats.linkedFiles++;
      stats.savedBytes += node.content.data.byteLength;
      tree.set(path as TreePath, { ...node, content: first });
    }
  }
  return stats;
}
