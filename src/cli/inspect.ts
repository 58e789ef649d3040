/** `hook inspect`: what takes the room in an image, by package, by segment, and the largest files. */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { BuildReport } from '../build/artifacts/report.ts';
import { HookError } from '../errors.ts';
import { decompress, detectCompression } from '../formats/compress.ts';
import { readCpio } from '../formats/cpio.ts';
import { splitZstdFrames } from '../formats/zstd-frames.ts';
import { formatSize } from '../util/size.ts';

export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'Show the size of an image by package and by segment (compressed and uncompressed), and its largest files',
    )
    .argument(
      '[file]',
      'an initramfs-<arch> or hook-<arch>.report.json (default: out/initramfs-x86_64)',
      'out/initramfs-x86_64',
    )
    .option('--top <n>', 'how many packages and files to list', '15')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { top: string; json?: boolean }) => {
      const report = await loadReport(file);
      const top = Number(opts.top);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatReport(report, Number.isInteger(top) && top > 0 ? top : 15));
    });
}

async function loadReport(file: string): Promise<BuildReport> {
  if (!existsSync(file)) {
    throw new HookError('E_IO', `No such file: ${file}`, {
      hint: 'Build first with `npx hook build`, or name an initramfs.',
    });
  }
  if (file.endsWith('.json')) return JSON.parse(await readFile(file, 'utf8')) as BuildReport;
  const arch = /initramfs-(\w+)$/.exec(basename(file))?.[1];
  const sidecar = arch ? join(dirname(file), `hook-${arch}.report.json`) : undefined;
  const data = await readFile(file);
  if (sidecar && existsSync(sidecar)) {
    const report = JSON.parse(await readFile(sidecar, 'utf8')) as BuildReport;
    if (report.initramfsBytes === data.byteLength) return report;
  }
  return reportFromInitramfs(data, arch ?? 'unknown');
}

/** Without a build report: segments and files from the initramfs itself (no package names). */
async function reportFromInitramfs(data: Uint8Array, arch: string): Promise<BuildReport> {
  const kind = detectCompression(data);
  const parts = kind === 'zstd' ? splitZstdFrames(data) : [data];
  const report: BuildReport = {
    arch,
    kernelVersion: '',
    initramfsBytes: data.byteLength,
    uncompressedBytes: 0,
    segments: [],
    packages: [],
    largestFiles: [],
  };
  const files: BuildReport['largestFiles'] = [];
  for (const [i, part] of parts.entries()) {
    const plain = await decompress(part);
    const entries = readCpio(plain);
    report.uncompressedBytes += plain.byteLength;
    report.segments.push({
      name: `segment-${i}`,
      entries: entries.length,
      uncompressedBytes: plain.byteLength,
      compressedBytes: part.byteLength,
      cached: false,
    });
    for (const e of entries)
      if ((e.mode & 0o170000) === 0o100000)
        files.push({ path: `/${e.name}`, bytes: e.data.byteLength, package: '' });
  }
  report.largestFiles = files.sort((a, b) => b.bytes - a.bytes).slice(0, 25);
  return report;
}

function formatReport(report: BuildReport, top: number): string {
  const lines: string[] = [];
  const row = (cols: string[], widths: number[]) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  lines.push(
    `initramfs-${report.arch}: ${formatSize(report.initramfsBytes)} compressed, ${formatSize(report.uncompressedBytes)} uncompressed`,
  );
  lines.push('', row(['segment', 'entries', 'uncompressed', 'compressed', 'ratio'], [28, 8, 12, 12, 6]));
  for (const s of report.segments) {
    lines.push(
      row(
        [
          s.name,
          String(s.entries),
          formatSize(s.uncompressedBytes),
          formatSize(s.compressedBytes),
          `${((100 * s.compressedBytes) / Math.max(1, s.uncompressedBytes)).toFixed(0)}%`,
        ],
        [28, 8, 12, 12, 6],
      ),
    );
  }
  if (report.packages.length > 0) {
    lines.push('', row(['package', 'files', 'size'], [36, 8, 12]));
    for (const p of report.packages.slice(0, top))
      lines.push(row([p.name, String(p.files), formatSize(p.bytes)], [36, 8, 12]));
  }
  lines.push('', row(['largest files', 'size'], [60, 12]));
  for (const f of report.largestFiles.slice(0, top)) {
    lines.push(row([`${f.path}${f.package ? ` (${f.package})` : ''}`, formatSize(f.bytes)], [60, 12]));
  }
  return `${lines.join('\n')}\n`;
}
