/**
 * The artifacts stage: every file of the output set, made in memory from the build's results.
 * One producer per artifact; adding an output format is one file in artifacts/ and one entry
 * in ARTIFACTS. publish.ts then shows them as one set.
 */
import type { BootLoaderFiles } from '../artifacts/boot-loaders.ts';
import { bundleArtifact } from '../artifacts/bundle.ts';
import { dtbsArtifact } from '../artifacts/dtbs.ts';
import type { Artifact, ArtifactInput } from '../artifacts/input.ts';
import { buildIso } from '../artifacts/iso.ts';
import { type BuildReport, buildReport, serializeReport } from '../artifacts/report.ts';
import { spdxDocument } from '../artifacts/sbom.ts';
import { lockFileName, serializeLock } from '../lockfile.ts';

/** Artifacts listed in checksum.txt, for every architecture present in the folder. */
export const CHECKSUMMED =
  /^(vmlinuz-|initramfs-)(x86_64|aarch64)$|^(hook_|dtbs-)(x86_64|aarch64)\.tar\.gz$|^hook-(x86_64|aarch64)-efi-initrd\.iso$/;

const json = (value: unknown) => [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)];

/** The producers, in the order their files are written; a producer may make none. */
const ARTIFACTS: ReadonlyArray<(input: ArtifactInput, report: BuildReport) => Artifact[]> = [
  (input) => [[`vmlinuz-${input.arch}`, [input.vmlinuz]]],
  (input) => [[`initramfs-${input.arch}`, input.initramfs]],
  (input) => [bundleArtifact(input)],
  (input) => [dtbsArtifact(input)].filter((a) => a !== undefined),
  (input) => (input.bootLoaders ? [isoArtifact(input, input.bootLoaders)] : []),
  (input) => [[lockFileName(input.arch), [Buffer.from(serializeLock(input.lock))]]],
  (input) => [[`hook-${input.arch}.spdx.json`, json(spdxDocument(input))]],
  (input, report) => [[`hook-${input.arch}.report.json`, [Buffer.from(serializeReport(report))]]],
];

/** `hook-<arch>-efi-initrd.iso`: the kernel and initramfs behind Smee's patchable command line. */
function isoArtifact(input: ArtifactInput, bootLoaders: BootLoaderFiles): Artifact {
  const iso = buildIso({
    arch: input.arch,
    vmlinuz: input.vmlinuz,
    initramfs: input.initramfs,
    bootLoaders,
    cmdline: input.cmdline,
    sourceDateEpoch: input.sourceDateEpoch,
  });
  return [iso.name, iso.pieces];
}

export interface StagedArtifacts {
  /** Artifact name → its bytes, in pieces. */
  pieces: Map<string, Uint8Array[]>;
  report: BuildReport;
}

export function stageArtifacts(input: ArtifactInput): StagedArtifacts {
  const report = buildReport(input);
  return { pieces: new Map(ARTIFACTS.flatMap((produce) => produce(input, report))), report };
}
