/**
 * Writes the artifacts Tinkerbell serves, atomically: every file goes to a temporary name in
 * the output folder first and is renamed into place only once all of them are written, so an
 * interrupted build leaves the previous outputs intact.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Arch } from '../arch.ts';
import type { Ownership } from '../rootfs/install.ts';
import type { Tree } from '../rootfs/tree.ts';
import { type LockFile, serializeLock } from './lock.ts';
import { type BuildReport, buildReport } from './report.ts';
import { spdxDocument } from './sbom.ts';
import type { BuiltSegment } from './segments.ts';

export interface OutputInput {
  outDir: string;
  arch: Arch;
  vmlinuz: Uint8Array;
  segments: BuiltSegment[];
  lock: LockFile;
  tree: Tree;
  ownership: Ownership;
  sourceDateEpoch: number;
  specName: string;
  specVersion: string;
  kernelVersion: string;
}

export interface BuildOutputs {
  outDir: string;
  files: Record<string, { path: string; bytes: number; sha512: string }>;
  report: BuildReport;
}

/** Artifacts listed in checksum.txt, for every architecture present in the folder. */
const CHECKSUMMED =
  /^(vmlinuz-|initramfs-)(x86_64|aarch64)$|^hook_(x86_64|aarch64)\.tar\.gz$|^hook-(x86_64|aarch64)-efi-initrd\.iso$/;

export async function writeOutputs(input: OutputInput): Promise<BuildOutputs> {
  const { outDir, arch } = input;
  await mkdir(outDir, { recursive: true });
  const initramfs = Buffer.concat(input.segments.map((s) => s.data));
  const vmlinuzName = `vmlinuz-${arch}`;
  const initramfsName = `initramfs-${arch}`;
  const report = buildReport(input, initramfs.byteLength);
  const staged = new Map<string, Uint8Array>([
    [vmlinuzName, input.vmlinuz],
    [initramfsName, initramfs],
    [
      `hook_${arch}.tar.gz`,
      deterministicTarGz(
        [
          [vmlinuzName, input.vmlinuz],
          [initramfsName, initramfs],
        ],
        input.sourceDateEpoch,
      ),
    ],
    ['hook.lock', Buffer.from(serializeLock(input.lock))],
    [`hook-${arch}.spdx.json`, Buffer.from(`${JSON.stringify(spdxDocument(input), null, 2)}\n`)],
    [`hook-${arch}.report.json`, Buffer.from(`${JSON.stringify(report, null, 2)}\n`)],
  ]);
  const temp = (name: string) => join(outDir, `.${name}.${process.pid}.tmp`);
  try {
    for (const [name, data] of staged) await writeFile(temp(name), data);
    for (const name of staged.keys()) await rename(temp(name), join(outDir, name));
  } finally {
    for (const name of staged.keys()) await rm(temp(name), { force: true });
  }
  const checksums = await writeChecksums(outDir);
  const files: BuildOutputs['files'] = {};
  for (const [name, data] of staged) {
    files[name] = {
      path: join(outDir, name),
      bytes: data.byteLength,
      sha512: checksums.get(name) ?? sha512(data),
    };
  }
  return { outDir, files, report };
}

function sha512(data: Uint8Array): string {
  return createHash('sha512').update(data).digest('hex');
}

/** checksum.txt in `sha512sum` format over every artifact in the folder (both architectures). */
async function writeChecksums(outDir: string): Promise<Map<string, string>> {
  const names = (await readdir(outDir)).filter((name) => CHECKSUMMED.test(name)).sort();
  const sums = new Map<string, string>();
  for (const name of names) sums.set(name, sha512(await readFile(join(outDir, name))));
  const text = names.map((name) => `${sums.get(name)}  ${name}\n`).join('');
  const temp = join(outDir, `.checksum.txt.${process.pid}.tmp`);
  await writeFile(temp, text);
  await rename(temp, join(outDir, 'checksum.txt'));
  return sums;
}

/** A ustar archive of regular files at top level (no folder), fixed metadata, gzip with mtime 0. */
export function deterministicTarGz(files: Array<[string, Uint8Array]>, mtime: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, data] of files) {
    blocks.push(ustarHeader(name, data.byteLength, mtime), data);
    const pad = (512 - (data.byteLength % 512)) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
  }
  blocks.push(new Uint8Array(1024));
  const gz = gzipSync(Buffer.concat(blocks), { level: 6 });
  gz[9] = 3; // OS = Unix whatever the host
  return gz;
}

function ustarHeader(name: string, size: number, mtime: number): Uint8Array {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, 'utf8');
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, mtime);
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  field(265, 32, 'root');
  field(297, 32, 'root');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return header;
}
