/**
 * The build report behind `hook inspect` (`hook-<arch>.report.json`): sizes by segment, by
 * package and by file. Since version 2 it lists every regular file of the image with its
 * package and the segment it is in, and gives each package a compressed size (see
 * packageCompressed for which are measured and which estimated). Only `hook inspect` reads
 * it; version-1 reports (no `reportVersion`, no `files`) stay readable.
 */
import { HookError } from '../../errors.ts';
import type { TreeNode, TreePath } from '../../tree/tree.ts';
import { type ArtifactInput, byteLength } from './input.ts';

export const REPORT_VERSION = 2;

/** Files installed by no package: the build's own configuration and the HookOS services. */
export const GENERATED = '(generated)';

/** The package of a file in an initramfs read without its build report, when its segment does not say. */
export const UNKNOWN_PACKAGE = '(unknown)';

export interface ReportSegment {
  name: string;
  entries: number;
  uncompressedBytes: number;
  compressedBytes: number;
  cached: boolean;
}

export interface ReportPackage {
  name: string;
  version: string;
  files: number;
  /** Uncompressed bytes of its files (a hard-linked file counted once). */
  bytes: number;
  /** Version 2: compressed bytes, measured or estimated (see compressedMeasured). */
  compressedBytes?: number;
  /**
   * Version 2: true when every segment holding its files holds no other package's (the sum of
   * those compressed segments); false when some files are estimated from the ratios of the
   * segments they share (see packageCompressed).
   */
  compressedMeasured?: boolean;
}

export interface ReportFile {
  /** Absolute path in the OS (`/usr/sbin/dockerd`). */
  path: string;
  /** The package that installed it, or GENERATED. */
  package: string;
  /** The segment it is in (`early` for the copies in the early boot archive). */
  segment: string;
  bytes: number;
}

export interface BuildReport {
  /** REPORT_VERSION; absent in version-1 reports. */
  reportVersion?: number;
  arch: string;
  kernelVersion: string;
  initramfsBytes: number;
  uncompressedBytes: number;
  segments: ReportSegment[];
  packages: ReportPackage[];
  largestFiles: Array<{ path: string; bytes: number; package: string }>;
  /** Version 2: every regular file, by segment in image order, then by path. */
  files?: ReportFile[];
}

export function buildReport(input: ArtifactInput): BuildReport {
  const files: ReportFile[] = [];
  const owner = (path: TreePath) => input.ownership.get(path) ?? GENERATED;
  if (input.segments.every((s) => s.members !== undefined)) {
    for (const segment of input.segments) {
      // Hard links share one content and are stored once; planSegments keeps them in one segment.
      const seen = new Set<unknown>();
      for (const [path, node] of segment.members ?? []) {
        if (node.kind !== 'file' || seen.has(node.content)) continue;
        seen.add(node.content);
        files.push(fileEntry(path, node, owner(path), segment.name));
      }
    }
  } else {
    // Segments made without their member list (tests): every file of the tree, segment unknown.
    const seen = new Set<unknown>();
    for (const [path, node] of input.tree.entries()) {
      if (node.kind !== 'file' || seen.has(node.content)) continue;
      seen.add(node.content);
      files.push(fileEntry(path, node, owner(path), ''));
    }
  }
  const segments = input.segments.map(({ name, entries, uncompressedBytes, compressedBytes, cached }) => ({
    name,
    entries,
    uncompressedBytes,
    compressedBytes,
    cached,
  }));
  const versions = new Map(input.lock.packages.map((p) => [p.name, p.version]));
  return {
    reportVersion: REPORT_VERSION,
    arch: input.arch,
    kernelVersion: input.kernelVersion,
    initramfsBytes: byteLength(input.initramfs),
    uncompressedBytes: input.segments.reduce((sum, s) => sum + s.uncompressedBytes, 0),
    segments,
    packages: packagesOf(files, segments, (name) => versions.get(name) ?? ''),
    largestFiles: largestFiles(files, 25),
    files,
  };
}

function fileEntry(
  path: TreePath,
  node: TreeNode & { kind: 'file' },
  pkg: string,
  segment: string,
): ReportFile {
  return { path: `/${path}`, package: pkg, segment, bytes: node.content.data.byteLength };
}

/** Packages by size (largest first), each with its compressed size. */
export function packagesOf(
  files: readonly ReportFile[],
  segments: readonly ReportSegment[],
  versionOf: (name: string) => string,
): ReportPackage[] {
  const byName = new Map<string, ReportFile[]>();
  for (const file of files) {
    const list = byName.get(file.package);
    if (list === undefined) byName.set(file.package, [file]);
    else list.push(file);
  }
  return [...byName.entries()]
    .map(([name, own]) => {
      const { bytes: compressedBytes, measured } = packageCompressed(name, own, files, segments);
      return {
        name,
        version: versionOf(name),
        files: own.length,
        bytes: own.reduce((sum, f) => sum + f.bytes, 0),
        compressedBytes,
        compressedMeasured: measured,
      };
    })
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}

/**
 * A package's compressed size: every segment holding its files and no other package's (a large
 * file's segment of its own, a chunk of kernel modules) counts as measured, the size of that
 * compressed segment (cpio headers included); each of its other files is estimated at its
 * segment's ratio (compressed / uncompressed bytes), what a byte costs on average there: zstd
 * does not say which input bytes made which output bytes. Measured when nothing was estimated.
 */
export function packageCompressed(
  name: string,
  own: readonly ReportFile[],
  all: readonly ReportFile[],
  segments: readonly ReportSegment[],
): { bytes: number; measured: boolean } {
  const shared = new Set(all.filter((f) => f.package !== name).map((f) => f.segment));
  const ownSegments = new Set(own.map((f) => f.segment));
  const ratios = segmentRatios(segments);
  let bytes = 0;
  let measured = true;
  for (const segment of segments) {
    if (segment.name !== '' && ownSegments.has(segment.name) && !shared.has(segment.name)) {
      bytes += segment.compressedBytes;
      ownSegments.delete(segment.name);
    }
  }
  for (const file of own) {
    if (!ownSegments.has(file.segment)) continue;
    bytes += estimateCompressed(file, ratios);
    measured = false;
  }
  return { bytes: Math.round(bytes), measured };
}

/** Compressed / uncompressed bytes of each segment. */
export function segmentRatios(segments: readonly ReportSegment[]): Map<string, number> {
  return new Map(segments.map((s) => [s.name, s.compressedBytes / Math.max(1, s.uncompressedBytes)]));
}

/** A file's share of its compressed segment, at the segment's ratio (1 when the segment is unknown). */
export function estimateCompressed(file: ReportFile, ratios: ReadonlyMap<string, number>): number {
  return file.bytes * (ratios.get(file.segment) ?? 1);
}

function largestFiles(files: readonly ReportFile[], count: number): BuildReport['largestFiles'] {
  return [...files]
    .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, count)
    .map(({ path, bytes, package: pkg }) => ({ path, bytes, package: pkg }));
}

/**
 * The report as written to `hook-<arch>.report.json`: indented like the other JSON outputs,
 * except that each of the thousands of files is one line (a third of the size, and greppable).
 */
export function serializeReport(report: BuildReport): string {
  const { files, ...rest } = report;
  const head = JSON.stringify(rest, null, 2);
  if (files === undefined) return `${head}\n`;
  const lines = files.map((f) => `    ${JSON.stringify(f)}`).join(',\n');
  return `${head.slice(0, -2)},\n  "files": [${lines === '' ? '' : `\n${lines}\n  `}]\n}\n`;
}

/**
 * Reads a report written by any version of `hook build`; a file that is not one, or one
 * from a newer version, is an E_ARCHIVE_FORMAT error naming it.
 */
export function parseReport(text: string, file: string): BuildReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw notAReport(file, `it is not JSON (${(error as Error).message})`);
  }
  const r = value as Partial<BuildReport> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    throw notAReport(file, 'it is not a JSON object');
  const version = r.reportVersion ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw notAReport(file, `its reportVersion is ${JSON.stringify(version)}`);
  }
  if (version > REPORT_VERSION) {
    throw new HookError(
      'E_ARCHIVE_FORMAT',
      `${file} is a version-${version} build report; this hook reads versions 1 to ${REPORT_VERSION}`,
      { hint: 'Inspect it with the hook that built it, or build again with this one.' },
    );
  }
  const missing = [
    typeof r.arch === 'string' ? undefined : 'arch',
    typeof r.initramfsBytes === 'number' ? undefined : 'initramfsBytes',
    typeof r.uncompressedBytes === 'number' ? undefined : 'uncompressedBytes',
    Array.isArray(r.segments) && r.segments.every(isSegment) ? undefined : 'segments',
    Array.isArray(r.packages) && r.packages.every(isPackage) ? undefined : 'packages',
    r.files === undefined || (Array.isArray(r.files) && r.files.every(isFile)) ? undefined : 'files',
  ].filter((k) => k !== undefined);
  if (missing.length > 0) throw notAReport(file, `${missing.join(', ')} missing or malformed`);
  return {
    ...r,
    kernelVersion: typeof r.kernelVersion === 'string' ? r.kernelVersion : '',
    largestFiles: Array.isArray(r.largestFiles) ? r.largestFiles : [],
  } as BuildReport;
}

function notAReport(file: string, why: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `${file} is not a hook build report: ${why}`, {
    hint: 'Give a hook-<arch>.report.json written by `hook build`, or the initramfs itself.',
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isSegment = (v: unknown) =>
  isObject(v) &&
  typeof v.name === 'string' &&
  typeof v.uncompressedBytes === 'number' &&
  typeof v.compressedBytes === 'number';
const isPackage = (v: unknown) => isObject(v) && typeof v.name === 'string' && typeof v.bytes === 'number';
const isFile = (v: unknown) =>
  isObject(v) &&
  typeof v.path === 'string' &&
  typeof v.package === 'string' &&
  typeof v.segment === 'string' &&
  typeof v.bytes === 'number';
