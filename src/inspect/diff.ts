/**
 * What changed between two build reports (`hook inspect --against old.report.json`): the
 * image, each group, each package and, when both reports list their files (version 2), each
 * file. Compressed sizes are compared where both reports have them.
 */
import {
  type BuildReport,
  estimateCompressed,
  type ReportFile,
  segmentRatios,
} from '../pipeline/artifacts/report.ts';
import { groupOf, groupOfPackage } from './groups.ts';

/** A size in one report: uncompressed bytes, and compressed bytes when the report has them. */
export interface Sized {
  bytes: number;
  compressed: number | undefined;
}

/** One thing in either report; `before` or `after` is undefined when it is absent there. */
export interface Change {
  name: string;
  before: Sized | undefined;
  after: Sized | undefined;
}

export interface ReportDiff {
  image: { before: Sized; after: Sized };
  groups: Change[];
  /** Every package of either report, the largest change (uncompressed) first. */
  packages: Change[];
  /** Files by fileKey, when both reports list their files. */
  files: Map<string, Change> | undefined;
}

/**
 * The key of a file across reports: its path, except for the copies in the early boot
 * archive, which share their path with the OS's own file.
 */
export function fileKey(file: Pick<ReportFile, 'path' | 'segment'>): string {
  return file.segment === 'early' ? `early:${file.path}` : file.path;
}

export function diffReports(before: BuildReport, after: BuildReport): ReportDiff {
  const image = (r: BuildReport): Sized => ({ bytes: r.uncompressedBytes, compressed: r.initramfsBytes });
  return {
    image: { before: image(before), after: image(after) },
    groups: changes(groupSizes(before), groupSizes(after)),
    packages: changes(packageSizes(before), packageSizes(after)),
    files:
      before.files !== undefined && after.files !== undefined
        ? new Map(changes(fileSizes(before), fileSizes(after)).map((c) => [c.name, c]))
        : undefined,
  };
}

/**
 * Compressed sizes of packages and files are mostly estimates at their segment's ratio, and
 * that ratio moves a little whenever anything else in the segment changes (removing one
 * 5 MiB package moved the others' estimates by ~1%): a compressed change alone counts when
 * it is at least 4 KiB and 2%, as when a compression setting changes.
 */
const COMPRESSED_NOISE_BYTES = 4096;
const COMPRESSED_NOISE_SHARE = 0.02;

/** Whether something came, went, or changed: any uncompressed byte, or a clear compressed change. */
export function isChanged(c: Change): boolean {
  if (c.before === undefined || c.after === undefined) return c.before !== c.after;
  if (c.before.bytes !== c.after.bytes) return true;
  const dc = compressedDelta(c);
  return (
    dc !== undefined &&
    Math.abs(dc) >= COMPRESSED_NOISE_BYTES &&
    Math.abs(dc) >= COMPRESSED_NOISE_SHARE * (c.before.compressed ?? 0)
  );
}

/** Only what changed (see isChanged), the largest uncompressed change first. */
export function changed(list: readonly Change[]): Change[] {
  return list.filter(isChanged);
}

/** after − before, uncompressed (a missing side counts as 0). */
export function delta(change: Change): number {
  return (change.after?.bytes ?? 0) - (change.before?.bytes ?? 0);
}

/** after − before, compressed; undefined when a present side does not know its compressed size. */
export function compressedDelta(change: Change): number | undefined {
  const a = change.after === undefined ? 0 : change.after.compressed;
  const b = change.before === undefined ? 0 : change.before.compressed;
  return a === undefined || b === undefined ? undefined : a - b;
}

function changes(before: Map<string, Sized>, after: Map<string, Sized>): Change[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names]
    .map((name) => ({ name, before: before.get(name), after: after.get(name) }))
    .sort(
      (a, b) =>
        Math.abs(delta(b)) - Math.abs(delta(a)) ||
        (b.after?.bytes ?? 0) - (a.after?.bytes ?? 0) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
}

function packageSizes(report: BuildReport): Map<string, Sized> {
  return new Map(report.packages.map((p) => [p.name, { bytes: p.bytes, compressed: p.compressedBytes }]));
}

function fileSizes(report: BuildReport): Map<string, Sized> {
  const ratios = segmentRatios(report.segments);
  const sizes = new Map<string, Sized>();
  for (const file of report.files ?? []) {
    sizes.set(fileKey(file), { bytes: file.bytes, compressed: estimateCompressed(file, ratios) });
  }
  return sizes;
}

/**
 * Sizes by group: from the files when the report lists them, else from whole packages
 * (a version-1 report, whose packages have no compressed size).
 */
function groupSizes(report: BuildReport): Map<string, Sized> {
  const sizes = new Map<string, Sized>();
  const add = (group: string, bytes: number, compressed: number | undefined) => {
    const old = sizes.get(group);
    sizes.set(group, {
      bytes: (old?.bytes ?? 0) + bytes,
      compressed:
        old === undefined
          ? compressed
          : old.compressed === undefined || compressed === undefined
            ? undefined
            : old.compressed + compressed,
    });
  };
  if (report.files !== undefined) {
    const ratios = segmentRatios(report.segments);
    for (const file of report.files) add(groupOf(file).name, file.bytes, estimateCompressed(file, ratios));
  } else {
    for (const p of report.packages) add(groupOfPackage(p.name).name, p.bytes, p.compressedBytes);
  }
  return sizes;
}
