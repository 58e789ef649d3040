/**
 * `hook push`: a build's output folder published as one OCI artifact (see hook-artifact.ts for
 * its shape). The folder's current set (`.current`, see build/publish.ts) is read once, so a
 * build that finishes meanwhile does not mix two sets. Each file is read twice from disk and
 * never held in memory: once to compute its SHA-256 (the layer digest) and its SHA-512
 * (checked against checksum.txt, so a damaged file is never published), once streamed to the
 * registry, which checks the digest again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ARCHES, type Arch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { currentSetDir } from '../pipeline/publish.ts';
import {
  type ArchArtifact,
  type ArtifactFile,
  artifactFileNames,
  artifactIndex,
  artifactManifest,
  type BuiltManifest,
  CREATED_ANNOTATION,
  createdAnnotation,
  DESCRIPTION_ANNOTATION,
  EMPTY_CONFIG,
  parseChecksums,
  requiredFileNames,
} from './hook-artifact.ts';
import type { ImageReference } from './reference.ts';
import { formatReference } from './reference.ts';
import { digestOf, RegistryClient, type RegistryClientOptions } from './registry.ts';

export interface OutputFolder {
  /** The directory the files are read from (the current set when the folder has one). */
  dir: string;
  artifacts: ArchArtifact[];
}

export interface ReadFolderOptions {
  /** Only these architectures (default: every one whose vmlinuz and initramfs are there). */
  arches?: readonly Arch[];
  /** Called after each file is hashed. */
  onFile?: (file: ArtifactFile, ms: number) => void;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** SHA-256 and SHA-512 of a file in one read. */
async function hashFile(path: string): Promise<{ sha256: string; sha512: string; size: number }> {
  const sha256 = createHash('sha256');
  const sha512 = createHash('sha512');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    sha256.update(chunk as Buffer);
    sha512.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: `sha256:${sha256.digest('hex')}`, sha512: sha512.digest('hex'), size };
}

/** Finds the architectures and their files, hashes them and checks them against checksum.txt. */
export async function readOutputFolder(
  outDir: string,
  options: ReadFolderOptions = {},
): Promise<OutputFolder> {
  const dir = (await currentSetDir(outDir)) ?? outDir;
  const present: Arch[] = [];
  for (const arch of options.arches ?? ARCHES) {
    const have = await Promise.all(requiredFileNames(arch).map((name) => exists(join(dir, name))));
    if (have.every(Boolean)) present.push(arch);
    else if (options.arches !== undefined) {
      throw new HookError(
        'E_USAGE',
        `Cannot push ${arch}: ${outDir} has no vmlinuz-${arch} and initramfs-${arch}`,
        {
          hint: `Build it first: npx hook build --arch ${arch} -o ${outDir}`,
        },
      );
    }
  }
  if (present.length === 0) {
    throw new HookError(
      'E_USAGE',
      `Nothing to push: ${outDir} holds no vmlinuz-<arch> and initramfs-<arch>`,
      {
        hint: 'Build first (npx hook build -o DIR) and give that folder with --dir',
      },
    );
  }
  const checksumPath = join(dir, 'checksum.txt');
  const sums = (await exists(checksumPath))
    ? parseChecksums(await readFile(checksumPath, 'utf8'))
    : new Map();
  const hashed = new Map<string, ArtifactFile>();
  const artifacts: ArchArtifact[] = [];
  for (const arch of present) {
    const files: ArtifactFile[] = [];
    for (const name of artifactFileNames(arch)) {
      let file = hashed.get(name);
      if (file === undefined) {
        const path = join(dir, name);
        if (!(await exists(path))) continue;
        const started = performance.now();
        const { sha256, sha512, size } = await hashFile(path);
        const listed = sums.get(name);
        if (listed !== undefined && listed !== sha512) {
          throw new HookError(
            'E_CHECKSUM',
            `${join(outDir, name)} does not match its SHA-512 in checksum.txt`,
            {
              hint: 'The file changed or was damaged after the build; build again before pushing',
            },
          );
        }
        file = { name, size, digest: sha256 };
        hashed.set(name, file);
        options.onFile?.(file, performance.now() - started);
      }
      files.push(file);
    }
    artifacts.push({ arch, files, annotations: await manifestAnnotations(dir, arch) });
  }
  return { dir, artifacts };
}

/** `created` from the lock's SOURCE_DATE_EPOCH and a description naming the kernel, when known. */
async function manifestAnnotations(dir: string, arch: Arch): Promise<Record<string, string>> {
  const annotations: Record<string, string> = {};
  const lock = await readJson(join(dir, `hook-${arch}.lock`));
  if (typeof lock?.sourceDateEpoch === 'number')
    annotations[CREATED_ANNOTATION] = createdAnnotation(lock.sourceDateEpoch);
  const report = await readJson(join(dir, `hook-${arch}.report.json`));
  const kernel = typeof report?.kernelVersion === 'string' ? `, kernel ${report.kernelVersion}` : '';
  annotations[DESCRIPTION_ANNOTATION] = `HookOS ${arch}${kernel}`;
  return annotations;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface PushFolderOptions extends RegistryClientOptions {
  /** Extra annotations for every manifest and the index (`key=value` given by the user). */
  annotations?: Record<string, string>;
  onBlob?: (name: string, result: 'exists' | 'mounted' | 'uploaded', bytes: number, ms: number) => void;
}

export interface PushFolderResult {
  /** What the tag names: the index (two architectures) or the one manifest. */
  digest: string;
  mediaType: string;
  /** `registry/repository@digest` */
  reference: string;
  manifests: Array<{ arch: Arch; digest: string }>;
  uploadedBytes: number;
}

/** Pushes every blob, each architecture's manifest, then the index (or the single manifest) under the tag. */
export async function pushOutputFolder(
  folder: OutputFolder,
  ref: ImageReference,
  options: PushFolderOptions = {},
): Promise<PushFolderResult> {
  if (ref.tag === undefined) {
    throw new HookError('E_USAGE', `Push to a tag, not a digest: ${formatReference(ref)}`, {
      hint: 'e.g. registry.example/hookos:0.1.0',
    });
  }
  const client = new RegistryClient(options);
  let uploadedBytes = 0;
  const note = (name: string, result: 'exists' | 'mounted' | 'uploaded', bytes: number, started: number) => {
    if (result === 'uploaded') uploadedBytes += bytes;
    options.onBlob?.(name, result, bytes, performance.now() - started);
  };
  let started = performance.now();
  note(
    '(empty config)',
    await client.pushBlob(ref, { digest: EMPTY_CONFIG.digest, data: EMPTY_CONFIG.data }),
    2,
    started,
  );
  const pushed = new Set<string>();
  for (const artifact of folder.artifacts) {
    for (const file of artifact.files) {
      if (pushed.has(file.digest)) continue;
      pushed.add(file.digest);
      started = performance.now();
      const path = join(folder.dir, file.name);
      const result = await client.pushBlobStream(ref, {
        digest: file.digest,
        size: file.size,
        open: () => createReadStream(path),
      });
      note(file.name, result, file.size, started);
    }
  }
  const extra = options.annotations ?? {};
  const manifests: Array<{ arch: Arch; manifest: BuiltManifest }> = folder.artifacts.map((artifact) => ({
    arch: artifact.arch,
    manifest: artifactManifest({ ...artifact, annotations: { ...artifact.annotations, ...extra } }, (b) =>
      digestOf(b),
    ),
  }));
  let top: BuiltManifest;
  if (manifests.length === 1) {
    top = (manifests[0] as { manifest: BuiltManifest }).manifest;
  } else {
    for (const { manifest } of manifests) {
      const byDigest: ImageReference = {
        registry: ref.registry,
        repository: ref.repository,
        digest: manifest.digest,
      };
      await client.putManifest(byDigest, manifest.bytes, manifest.mediaType);
    }
    const created = folder.artifacts
      .map((a) => a.annotations[CREATED_ANNOTATION])
      .find((c) => c !== undefined);
    top = artifactIndex(manifests, { ...(created ? { [CREATED_ANNOTATION]: created } : {}), ...extra }, (b) =>
      digestOf(b),
    );
  }
  const digest = await client.putManifest(ref, top.bytes, top.mediaType);
  return {
    digest,
    mediaType: top.mediaType,
    reference: `${ref.registry}/${ref.repository}@${digest}`,
    manifests: manifests.map(({ arch, manifest }) => ({ arch, digest: manifest.digest })),
    uploadedBytes,
  };
}
