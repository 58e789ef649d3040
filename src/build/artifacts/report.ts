/** The build report behind `hook inspect`: sizes by package and by segment, largest files. */
import { type ArtifactInput, byteLength } from './input.ts';

export interface BuildReport {
  arch: string;
  kernelVersion: string;
  initramfsBytes: number;
  uncompressedBytes: number;
  segments: Array<{
    name: string;
    entries: number;
    uncompressedBytes: number;
    compressedBytes: number;
    cached: boolean;
  }>;
  packages: Array<{ name: string; version: string; files: number; bytes: number }>;
  largestFiles: Array<{ path: string; bytes: number; package: string }>;
}

export function buildReport(input: ArtifactInput): BuildReport {
  const initramfsBytes = byteLength(input.initramfs);
  const byPackage = new Map<string, { files: number; bytes: number }>();
  const files: Array<{ path: string; bytes: number; package: string }> = [];
  const seen = new Set<unknown>();
  for (const [path, node] of input.tree.entries()) {
    if (node.kind !== 'file' || seen.has(node.content)) continue;
    seen.add(node.content);
    const owner = input.ownership.get(path) ?? '(generated)';
    const bytes = node.content.data.byteLength;
    const entry = byPackage.get(owner) ?? { files: 0, bytes: 0 };
    entry.files++;
    entry.bytes += bytes;
    byPackage.set(owner, entry);
    files.push({ path: `/${path}`, bytes, package: owner });
  }
  const versions = new Map(input.lock.packages.map((p) => [p.name, p.version]));
  return {
    arch: input.arch,
    kernelVersion: input.kernelVersion,
    initramfsBytes,
    uncompressedBytes: input.segments.reduce((sum, s) => sum + s.uncompressedBytes, 0),
    segments: input.segments.map(({ name, entries, uncompressedBytes, compressedBytes, cached }) => ({
      name,
      entries,
      uncompressedBytes,
      compressedBytes,
      cached,
    })),
    packages: [...byPackage.entries()]
      .map(([name, v]) => ({ name, version: versions.get(name) ?? '', ...v }))
      .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1)),
    largestFiles: files.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1)).slice(0, 25),
  };
}
