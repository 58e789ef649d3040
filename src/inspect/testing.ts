/** Reports for the unit tests of hook inspect (imported by tests only). */
import { type BuildReport, packagesOf, type ReportFile } from '../pipeline/artifacts/report.ts';

/** A version-2 report from files and segment sizes, as buildReport makes it. */
export function reportOf(
  files: ReportFile[],
  segments: Array<[name: string, uncompressed: number, compressed: number]>,
): BuildReport {
  const segs = segments.map(([name, u, c]) => ({
    name,
    entries: 1,
    uncompressedBytes: u,
    compressedBytes: c,
    cached: false,
  }));
  return {
    reportVersion: 2,
    arch: 'x86_64',
    kernelVersion: '6.12',
    initramfsBytes: segs.reduce((s, x) => s + x.compressedBytes, 0),
    uncompressedBytes: segs.reduce((s, x) => s + x.uncompressedBytes, 0),
    segments: segs,
    packages: packagesOf(files, segs, () => '1.0'),
    largestFiles: [],
    files,
  };
}
