/**
 * `hook inspect`: what takes the room in an image, by segment, group, package and file, as a
 * table, JSON, or a treemap (HTML or SVG), and what changed against an older build report.
 * It finds a build the way `hook build` wrote it: from the spec (its output.dir, relative to
 * the spec) or --dir, and --arch.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Command, Option } from 'commander';
import { ARCHES, type Arch, archOption, parseArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { decompress, detectCompression } from '../formats/compress.ts';
import { type CpioEntry, readCpio } from '../formats/cpio.ts';
import { splitZstdFrames } from '../formats/zstd-frames.ts';
import { changed, compressedDelta, delta } from '../inspect/diff.ts';
import { signed, treemapHtml, treemapSvgDocument } from '../inspect/html.ts';
import { type ImageModel, imageModel } from '../inspect/model.ts';
import {
  type BuildReport,
  GENERATED,
  packagesOf,
  parseReport,
  REPORT_VERSION,
  type ReportFile,
  type ReportSegment,
  serializeReport,
  UNKNOWN_PACKAGE,
} from '../pipeline/artifacts/report.ts';
import { payloadEntries, readInitramfs } from '../pipeline/initramfs/early-boot.ts';
import { loadSpec, specOutputDir } from '../specfile/load.ts';
import { writeAtomically } from '../util/atomic-write.ts';
import { formatSize } from '../util/size.ts';

const DEFAULT_TOP = 15;

const UNKNOWN_NOTE =
  'No build report matches this initramfs: packages are named only where a segment of their own names them.';

/** Where the report comes from: a report file, or an initramfs read without one. */
export interface InspectSource {
  kind: 'report' | 'initramfs';
  file: string;
  /** Set when the source was found from a spec or --dir (else read from the file name). */
  arch?: Arch;
}

export interface LocateOptions {
  /** The build's output folder; wins over the spec's output.dir. */
  dir?: string | undefined;
  arch?: Arch | undefined;
}

/**
 * What to inspect: a positional that is a `.json` file (a report) or an initramfs is read as
 * it is; otherwise the positional is a spec (none: the built-in one) whose build is found in
 * --dir or the spec's output.dir resolved against the spec's folder, as `hook build` does,
 * for --arch, else (as `hook run`) the spec's arch or, with no spec named, the one
 * architecture built there.
 */
export function locateBuild(positional: string | undefined, options: LocateOptions = {}): InspectSource {
  if (positional !== undefined) {
    if (!existsSync(positional)) {
      throw new HookError('E_USAGE', `No such file: ${positional}`, {
        hint: 'Name a hook.yaml, an initramfs-<arch> or a hook-<arch>.report.json, or give --dir DIR.',
      });
    }
    if (statSync(positional).isDirectory()) {
      throw new HookError('E_USAGE', `${positional} is a folder, not a spec, an initramfs or a report`, {
        hint: `For a build's output folder use --dir ${positional}.`,
      });
    }
    const kind = positional.endsWith('.json') ? 'report' : isCompressed(positional) ? 'initramfs' : undefined;
    if (kind !== undefined) {
      if (options.dir !== undefined) {
        throw new HookError('E_USAGE', `--dir names a build folder, but ${positional} is already a ${kind}`, {
          hint: 'Give either the file or --dir (with the spec), not both.',
        });
      }
      return { kind, file: positional };
    }
  }
  let dir = options.dir;
  let arch = options.arch;
  if (dir === undefined || arch === undefined || positional !== undefined) {
    const loaded = loadSpec(positional);
    // Where hook build wrote it (output.dir, relative to the spec); as hook run does, without
    // a spec the one architecture built there, else the spec's.
    dir ??= specOutputDir(loaded);
    arch ??= positional === undefined ? (onlyArchIn(dir) ?? loaded.spec.arch) : loaded.spec.arch;
  }
  const report = join(dir, `hook-${arch}.report.json`);
  const initramfs = join(dir, `initramfs-${arch}`);
  // The initramfs first: loadReport uses the report beside it when that report describes it.
  if (existsSync(initramfs)) return { kind: 'initramfs', file: initramfs, arch };
  if (existsSync(report)) return { kind: 'report', file: report, arch };
  const spec = positional === undefined ? '' : ` ${positional}`;
  throw new HookError(
    'E_IO',
    `No ${arch} build in ${dir}: neither hook-${arch}.report.json nor initramfs-${arch}`,
    {
      hint: `Build it with \`npx hook build${spec} --arch ${arch}\`, or point --dir at its output folder.`,
    },
  );
}

/** The one architecture whose build is in `dir`, if there is exactly one. */
function onlyArchIn(dir: string): Arch | undefined {
  const found = ARCHES.filter(
    (a) => existsSync(join(dir, `hook-${a}.report.json`)) || existsSync(join(dir, `initramfs-${a}`)),
  );
  return found.length === 1 ? found[0] : undefined;
}

/** Whether a file starts like compressed data (an initramfs), reading 6 bytes of it. */
function isCompressed(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = new Uint8Array(6);
    const n = readSync(fd, head, 0, head.length, 0);
    return detectCompression(head.subarray(0, n)) !== 'none';
  } finally {
    closeSync(fd);
  }
}

/** The report of a source: the file, or the report beside an initramfs when it matches it. */
export async function loadReport(source: InspectSource): Promise<BuildReport> {
  if (source.kind === 'report') return parseReport(await readFile(source.file, 'utf8'), source.file);
  const arch = source.arch ?? parseArch(/initramfs-(\w+)$/.exec(basename(source.file))?.[1] ?? '');
  const sidecar = arch === undefined ? undefined : join(dirname(source.file), `hook-${arch}.report.json`);
  if (sidecar !== undefined && existsSync(sidecar)) {
    const report = parseReport(await readFile(sidecar, 'utf8'), sidecar);
    // A report that does not describe this initramfs (a stale or copied file) is not used.
    if (report.initramfsBytes === statSync(source.file).size) return report;
  }
  return reportFromInitramfs(await readFile(source.file), arch ?? 'unknown');
}

/**
 * Without a build report: segments and files from the initramfs itself. Package names are
 * known only from the segments: `package-<name>` holds that package, `config` the build's
 * own files; the others' files are UNKNOWN_PACKAGE (grouped by path where that says enough).
 */
export async function reportFromInitramfs(data: Uint8Array, arch: string): Promise<BuildReport> {
  const segments: ReportSegment[] = [];
  const files: ReportFile[] = [];
  const add = (name: string, entries: CpioEntry[], uncompressedBytes: number, compressedBytes: number) => {
    segments.push({
      name,
      entries: entries.length,
      uncompressedBytes,
      compressedBytes,
      cached: false,
    });
    for (const e of entries) {
      if ((e.mode & 0o170000) === 0o100000 && (e.nlink <= 1 || e.data.byteLength > 0)) {
        files.push({
          path: `/${e.name}`,
          package: packageOfSegment(name),
          segment: name,
          bytes: e.data.byteLength,
        });
      }
    }
  };
  let contents: Awaited<ReturnType<typeof readInitramfs>> | undefined;
  try {
    contents = await readInitramfs(data);
  } catch (error) {
    // Initramfs images from before the early boot archive: compressed cpio archives, concatenated.
    if (!(error instanceof HookError) || detectCompression(data) !== 'zstd') throw error;
  }
  if (contents !== undefined) {
    const payloadBytes = contents.payloads.reduce((sum, p) => sum + p.compressed.byteLength, 0);
    const early = contents.early;
    // newc: a 110-byte header and the name, then the data, each padded to 4 bytes; a trailer.
    const pad4 = (n: number) => Math.ceil(n / 4) * 4;
    const earlyPlain =
      early.reduce((sum, e) => sum + pad4(110 + Buffer.byteLength(e.name) + 1) + pad4(e.data.byteLength), 0) +
      124;
    segments.push({
      name: 'early',
      entries: early.length,
      uncompressedBytes: earlyPlain,
      // The early archive and the payload carrier's headers (a few KiB): all but the payloads.
      compressedBytes: data.byteLength - payloadBytes,
      cached: false,
    });
    for (const e of early) {
      if ((e.mode & 0o170000) === 0o100000)
        files.push({
          path: `/${e.name}`,
          package: UNKNOWN_PACKAGE,
          segment: 'early',
          bytes: e.data.byteLength,
        });
    }
    for (const payload of contents.payloads) {
      const name = /^\d+-(.+)\.cpio\.\w+$/.exec(payload.file)?.[1] ?? payload.file;
      const { entries, bytes } = await payloadEntries(payload);
      add(name, entries, bytes, payload.compressed.byteLength);
    }
  } else {
    for (const [i, part] of splitZstdFrames(data).entries()) {
      const plain = await decompress(part);
      add(`segment-${i}`, readCpio(plain), plain.byteLength, part.byteLength);
    }
  }
  return {
    reportVersion: REPORT_VERSION,
    arch,
    kernelVersion: '',
    initramfsBytes: data.byteLength,
    uncompressedBytes: segments.reduce((sum, s) => sum + s.uncompressedBytes, 0),
    segments,
    packages: packagesOf(files, segments, () => ''),
    largestFiles: [...files]
      .sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1))
      .slice(0, 25)
      .map(({ path, bytes, package: pkg }) => ({ path, bytes, package: pkg })),
    files,
  };
}

function packageOfSegment(segment: string): string {
  if (segment.startsWith('package-')) return segment.slice('package-'.length);
  return segment === 'config' ? GENERATED : UNKNOWN_PACKAGE;
}

/** `--top`: a positive integer, else a usage error (not a silent default). */
export function topOption(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new HookError('E_USAGE', `--top must be a positive integer, not "${value}"`, {
      hint: `For example --top ${DEFAULT_TOP}.`,
    });
  }
  return n;
}

interface InspectFlags {
  dir?: string;
  arch?: Arch;
  top: number;
  json?: boolean;
  html?: string;
  svg?: string;
  against?: string;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'Show where the bytes of a built image go (by segment, group, package and file, compressed and uncompressed), as a table, JSON or a treemap, and what changed since an older build',
    )
    .argument(
      '[spec]',
      'the hook.yaml whose build to inspect (default: the built-in spec), or an initramfs-<arch> or hook-<arch>.report.json file',
    )
    .option('--dir <dir>', "the build's output folder (default: the spec's output.dir, relative to the spec)")
    .addOption(
      new Option(
        '--arch <arch>',
        `architecture of the build: ${ARCHES.join(' or ')} (default: the spec's arch, or the only one built)`,
      ).argParser(archOption),
    )
    .option('--top <n>', 'how many packages, files and changes to list', topOption, DEFAULT_TOP)
    .option('--html <file>', 'write a treemap of the image as a self-contained HTML page')
    .option('--svg <file>', 'write the treemap as an SVG image')
    .option(
      '--against <report>',
      'compare with an older hook-<arch>.report.json: what grew, shrank, came or went',
    )
    .option('--json', 'print the report as JSON (with --against: the changes)')
    .addHelpText(
      'after',
      '\nExamples:\n  npx hook inspect\n  npx hook inspect my/hook.yaml --arch aarch64 --top 30\n  npx hook inspect --html treemap.html --against old/hook-x86_64.report.json\n  npx hook inspect out/initramfs-x86_64',
    )
    .action(async (spec: string | undefined, flags: InspectFlags) => {
      const source = locateBuild(spec, { dir: flags.dir, arch: flags.arch });
      const report = await loadReport(source);
      const against =
        flags.against === undefined
          ? undefined
          : { name: flags.against, report: await loadAgainst(flags.against) };
      const model = imageModel(report, against);
      const written: string[] = [];
      if (flags.html !== undefined) {
        await writeOutput(flags.html, treemapHtml(model));
        written.push(flags.html);
      }
      if (flags.svg !== undefined) {
        await writeOutput(flags.svg, treemapSvgDocument(model));
        written.push(flags.svg);
      }
      if (flags.json) {
        process.stdout.write(
          model.against === undefined
            ? serializeReport(report)
            : `${JSON.stringify(changesJson(model), null, 2)}\n`,
        );
        return;
      }
      if (written.length > 0) {
        const packages = new Set(model.groups.flatMap((g) => g.packages.map((p) => p.name))).size;
        process.stdout.write(
          `Wrote ${written.join(' and ')}: a treemap of ${source.file} (${model.groups.length} groups, ${packages} packages${report.files ? `, ${report.files.length} files` : ''})${against ? ` against ${against.name}` : ''}\n`,
        );
        return;
      }
      process.stdout.write(formatReport(model, flags.top));
    });
}

async function loadAgainst(file: string): Promise<BuildReport> {
  if (!existsSync(file)) {
    throw new HookError('E_USAGE', `No such file: ${file} (--against)`, {
      hint: 'Give the hook-<arch>.report.json of the older build (copy it aside before rebuilding).',
    });
  }
  if (!file.endsWith('.json') && isCompressed(file)) return loadReport({ kind: 'initramfs', file });
  return parseReport(await readFile(file, 'utf8'), file);
}

async function writeOutput(file: string, text: string): Promise<void> {
  try {
    await writeAtomically(file, text);
  } catch (error) {
    throw new HookError(
      'E_IO',
      `Cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function changesJson(model: ImageModel): unknown {
  const against = model.against;
  if (against === undefined) return undefined;
  const side = (s: { bytes: number; compressed: number | undefined } | undefined) =>
    s === undefined
      ? null
      : { bytes: s.bytes, compressedBytes: s.compressed === undefined ? null : Math.round(s.compressed) };
  return {
    against: against.name,
    image: { before: side(against.diff.image.before), after: side(against.diff.image.after) },
    groups: changed(against.diff.groups).map((c) => ({
      name: c.name,
      before: side(c.before),
      after: side(c.after),
    })),
    packages: changed(against.diff.packages).map((c) => ({
      name: c.name,
      before: side(c.before),
      after: side(c.after),
    })),
  };
}

/** The table `hook inspect` prints. */
export function formatReport(model: ImageModel, top: number): string {
  const report = model.report;
  const lines: string[] = [];
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    for (const cols of [header, ...rows]) {
      lines.push(
        cols
          .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
          .join('  ')
          .trimEnd(),
      );
    }
  };
  const ratio = (c: number, u: number) => `${((100 * c) / Math.max(1, u)).toFixed(0)}%`;
  lines.push(
    `initramfs-${report.arch}: ${formatSize(report.initramfsBytes)} compressed, ${formatSize(report.uncompressedBytes)} uncompressed`,
    '',
  );
  table(
    ['segment', 'entries', 'uncompressed', 'compressed', 'ratio'],
    report.segments.map((s) => [
      s.name,
      String(s.entries),
      formatSize(s.uncompressedBytes),
      formatSize(s.compressedBytes),
      ratio(s.compressedBytes, s.uncompressedBytes),
    ]),
  );
  lines.push('');
  table(
    ['group', 'packages', 'uncompressed', 'compressed*'],
    model.groups.map((g) => [
      g.rule.name,
      String(g.packages.length),
      formatSize(g.bytes),
      formatSize(Math.round(g.compressed)),
    ]),
  );
  if (report.packages.some((p) => p.name !== UNKNOWN_PACKAGE)) {
    lines.push('');
    table(
      ['package', 'files', 'uncompressed', 'compressed*'],
      report.packages
        .slice(0, top)
        .map((p) => [
          p.name,
          String(p.files),
          formatSize(p.bytes),
          p.compressedBytes === undefined
            ? ''
            : `${formatSize(p.compressedBytes)}${p.compressedMeasured ? '' : ' ~'}`,
        ]),
    );
  }
  lines.push('');
  table(
    ['largest files', 'size'],
    report.largestFiles
      .slice(0, top)
      .map((f) => [
        `${f.path}${f.package && f.package !== UNKNOWN_PACKAGE ? ` (${f.package})` : ''}`,
        formatSize(f.bytes),
      ]),
  );
  if (report.files?.some((f) => f.package === UNKNOWN_PACKAGE)) {
    lines.push('', UNKNOWN_NOTE);
  }
  lines.push(
    '',
    model.compressedBasis === 'segments'
      ? "* compressed: measured for a package with a segment of its own, else (~) estimated at its segments' ratios"
      : "* compressed: estimated at the whole image's ratio (a version-1 report does not say which segment files are in)",
  );
  const against = model.against;
  if (against !== undefined) {
    const { before, after } = against.diff.image;
    const list = changed(against.diff.packages);
    lines.push(
      '',
      `against ${against.name}: compressed ${formatSize(before.compressed ?? 0)} → ${formatSize(after.compressed ?? 0)} (${signed((after.compressed ?? 0) - (before.compressed ?? 0))}), uncompressed ${formatSize(before.bytes)} → ${formatSize(after.bytes)} (${signed(after.bytes - before.bytes)}); ${list.length} package${list.length === 1 ? '' : 's'} changed`,
    );
    if (list.length > 0) {
      lines.push('');
      table(
        ['package', 'before', 'after', 'change', 'compressed'],
        list
          .slice(0, top)
          .map((c) => [
            `${c.name}${c.before === undefined ? ' (new)' : c.after === undefined ? ' (removed)' : ''}`,
            c.before === undefined ? '-' : formatSize(c.before.bytes),
            c.after === undefined ? '-' : formatSize(c.after.bytes),
            signed(delta(c)),
            signed(compressedDelta(c)),
          ]),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
