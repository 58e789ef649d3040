/**
 * The artifacts stage: every file of the output set, made in memory from the build's results.
 * One producer per artifact; adding an output format is one file in artifacts/ and one entry
 * in ARTIFACTS. publish.ts then shows them as one set.
 */
import { bundleArtifact } from '../artifacts/bundle.ts';
import type { Artifact, ArtifactInput } from '../artifacts/input.ts';
import { type BuildReport, buildReport } from '../artifacts/report.ts';
import { spdxDocument } from '../artifacts/sbom.ts';
import { serializeLock } from '../lockfile.ts';

/** Artifacts listed in checksum.txt, for every architecture present in the folder. */
export const CHECKSUMMED =
  /^(vmlinuz-|initramfs-)(x86_64|aarch64)$|^hook_(x86_64|aarch64)\.tar\.gz$|^hook-(x86_64|aarch64)-efi-initrd\.iso$/;

const json = (value: unknown) => [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)];

/** The producers, in the order their files are written. */
const ARTIFACTS: ReadonlyArray<(input: ArtifactInput, report: BuildReport) => Artifact> = [
  (input) => [`vmlinuz-${input.arch}`, [input.vmlinuz]],
  (input) => [`initramfs-${input.arch}`, input.initramfs],
  bundleArtifact,
  (input) => ['hook.lock', [Buffer.from(serializeLock(input.lock))]],
  (input) => [`hook-${input.arch}.spdx.json`, json(spdxDocument(input))],
  (input, report) => [`hook-${input.arch}.report.json`, json(report)],
];

export interface StagedArtifacts {
  /** Artifact name → its bytes, in pieces. */
  pieces: Map<string, Uint8Array[]>;
  report: BuildReport;
}

export function stageArtifacts(input: ArtifactInput): StagedArtifacts {
  const report = buildReport(input);
  return { pieces: new Map(ARTIFACTS.map((produce) => produce(input, report))), report };
}
