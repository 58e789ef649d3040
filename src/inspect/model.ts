/**
 * An image as the treemap shows it: groups → packages → files, each with its uncompressed
 * size, its compressed size and, against an older report, its change. Built from a build
 * report (any version) by pure functions.
 */
import {
  type BuildReport,
  estimateCompressed,
  GENERATED,
  segmentRatios,
} from '../pipeline/artifacts/report.ts';
import { type Change, diffReports, fileKey, type ReportDiff } from './diff.ts';
import { type GroupRule, groupLegend, groupOf, groupOfPackage } from './groups.ts';

export type View = 'compressed' | 'uncompressed';

/** How compressed sizes were found. */
export type CompressedBasis =
  /** Files at their segment's ratio; packages with a segment of their own measured. */
  | 'segments'
  /** A version-1 report lists no files: every package at the whole image's ratio. */
  | 'image';

interface Sizes {
  bytes: number;
  compressed: number;
}

export interface FileLeaf extends Sizes {
  path: string;
  segment: string;
  change: Change | undefined;
}

export interface PackageNode extends Sizes {
  name: string;
  version: string;
  group: string;
  /** Its compressed size is that of a segment of its own (else estimated). */
  measured: boolean;
  files: FileLeaf[];
  /** Number of files (also for a version-1 report, which does not list them). */
  fileCount: number;
  change: Change | undefined;
}

export interface GroupNode extends Sizes {
  rule: GroupRule;
  packages: PackageNode[];
  change: Change | undefined;
}

export interface ImageModel {
  report: BuildReport;
  groups: GroupNode[];
  compressedBasis: CompressedBasis;
  /** Present when compared with an older report. */
  against: { name: string; report: BuildReport; diff: ReportDiff } | undefined;
}

export function sizeIn(view: View, node: Sizes): number {
  return view === 'compressed' ? node.compressed : node.bytes;
}

export function imageModel(report: BuildReport, against?: { name: string; report: BuildReport }): ImageModel {
  const diff = against === undefined ? undefined : diffReports(against.report, report);
  const packageChange = new Map(diff?.packages.map((c) => [c.name, c]));
  const groupChange = new Map(diff?.groups.map((c) => [c.name, c]));
  const versions = new Map(report.packages.map((p) => [p.name, p]));
  const groups = new Map<string, GroupNode>();
  const groupNode = (rule: GroupRule): GroupNode => {
    let node = groups.get(rule.name);
    if (node === undefined) {
      node = { rule, packages: [], bytes: 0, compressed: 0, change: groupChange.get(rule.name) };
      groups.set(rule.name, node);
    }
    return node;
  };
  const packageNode = (group: GroupNode, name: string): PackageNode => {
    let node = group.packages.find((p) => p.name === name);
    if (node === undefined) {
      node = {
        name,
        version: versions.get(name)?.version ?? '',
        group: group.rule.name,
        measured: false,
        files: [],
        fileCount: 0,
        bytes: 0,
        compressed: 0,
        change: packageChange.get(name),
      };
      group.packages.push(node);
    }
    return node;
  };

  let basis: CompressedBasis;
  if (report.files !== undefined) {
    basis = 'segments';
    const ratios = segmentRatios(report.segments);
    for (const file of report.files) {
      const pkg = packageNode(groupNode(groupOf(file)), file.package);
      const compressed = estimateCompressed(file, ratios);
      pkg.files.push({
        path: file.path,
        segment: file.segment,
        bytes: file.bytes,
        compressed,
        change: diff?.files?.get(fileKey(file)),
      });
      pkg.fileCount++;
      pkg.bytes += file.bytes;
      pkg.compressed += compressed;
    }
    // A package alone in a segment of its own has a measured size; use it.
    for (const group of groups.values()) {
      for (const pkg of group.packages) {
        const whole = versions.get(pkg.name);
        if (
          whole?.compressedMeasured === true &&
          whole.compressedBytes !== undefined &&
          whole.bytes === pkg.bytes
        ) {
          pkg.compressed = whole.compressedBytes;
          pkg.measured = true;
        }
      }
    }
  } else {
    basis = 'image';
    const ratio = report.initramfsBytes / Math.max(1, report.uncompressedBytes);
    for (const p of report.packages) {
      const pkg = packageNode(groupNode(groupOfPackage(p.name)), p.name);
      pkg.fileCount = p.files;
      pkg.bytes = p.bytes;
      pkg.compressed = p.bytes * ratio;
    }
  }
  for (const group of groups.values()) {
    group.packages.sort(bySize);
    for (const pkg of group.packages) {
      pkg.files.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      group.bytes += pkg.bytes;
      group.compressed += pkg.compressed;
    }
  }
  // Groups in the table's order, so colours and positions are stable from one build to the next.
  const order = groupLegend().map((g) => g.name);
  return {
    report,
    groups: [...groups.values()].sort((a, b) => order.indexOf(a.rule.name) - order.indexOf(b.rule.name)),
    compressedBasis: basis,
    against: against === undefined || diff === undefined ? undefined : { ...against, diff },
  };
}

function bySize(a: { bytes: number; name: string }, b: { bytes: number; name: string }): number {
  return b.bytes - a.bytes || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** A label for a package name in the model ("(generated)" reads as what it is). */
export function packageLabel(name: string): string {
  return name === GENERATED ? 'generated by the build' : name;
}
