/**
 * A build's output folder as one OCI artifact (image-spec 1.1 "artifacts" guidance), so a
 * registry can carry HookOS to many sites and `oras pull`-style clients get the files back by
 * name:
 *
 * - one image manifest per architecture: `artifactType` HOOKOS_ARTIFACT_TYPE, the empty config
 *   (`application/vnd.oci.empty.v1+json`, `{}`), one layer per file with a media type saying
 *   what it is and `org.opencontainers.image.title` = its file name;
 * - with both architectures in the folder, an image index over the two, each entry with its
 *   platform (linux/amd64, linux/arm64), pushed under the tag; with one, its manifest is.
 *
 * Everything here is a pure function of the files' names, sizes and digests, so the same
 * folder always gives the same manifests and digests (a second push changes nothing).
 * `hook_<arch>.tar.gz` is left out (it is vmlinuz + initramfs again, 170 MB more per
 * architecture), as is the build report (read only by `hook inspect`).
 */
import type { Arch } from '../arch.ts';
import { debianArch } from '../arch.ts';
import type { Descriptor, Platform } from './types.ts';
import { MEDIA_TYPE } from './types.ts';

export const HOOKOS_ARTIFACT_TYPE = 'application/vnd.hookos.os.v1';
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
export const DESCRIPTION_ANNOTATION = 'org.opencontainers.image.description';

/** The empty config of an artifact without one: the two bytes `{}` (image-spec 1.1). */
export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: new Uint8Array([0x7b, 0x7d]),
} as const;

/** What a file of the output folder is, by its name; undefined for files that are not published. */
export function fileMediaType(name: string, arch: Arch): string | undefined {
  const types: Record<string, string> = {
    [`vmlinuz-${arch}`]: 'application/vnd.hookos.kernel.v1',
    // Concatenated newc cpio archives, each compressed: what the kernel unpacks.
    [`initramfs-${arch}`]: 'application/vnd.hookos.initramfs.v1',
    [`dtbs-${arch}.tar.gz`]: 'application/vnd.hookos.dtbs.v1.tar+gzip',
    // IANA-registered for UEFI-bootable ISO 9660 images.
    [`hook-${arch}-efi-initrd.iso`]: 'application/vnd.efi.iso',
    [`hook-${arch}.spdx.json`]: 'application/spdx+json',
    [`hook-${arch}.lock`]: 'application/vnd.hookos.lock.v1+json',
    'checksum.txt': 'text/plain',
  };
  return types[name];
}

/** The files of one architecture, in the order they become layers. */
export function artifactFileNames(arch: Arch): string[] {
  return [
    `vmlinuz-${arch}`,
    `initramfs-${arch}`,
    `dtbs-${arch}.tar.gz`,
    `hook-${arch}-efi-initrd.iso`,
    'checksum.txt',
    `hook-${arch}.spdx.json`,
    `hook-${arch}.lock`,
  ];
}

/** The files an architecture cannot be published without. */
export function requiredFileNames(arch: Arch): string[] {
  return [`vmlinuz-${arch}`, `initramfs-${arch}`];
}

export interface ArtifactFile {
  name: string;
  size: number;
  /** `sha256:<hex>` */
  digest: string;
}

export interface ArchArtifact {
  arch: Arch;
  files: ArtifactFile[];
  /** Annotations of the manifest (e.g. created, description). */
  annotations: Record<string, string>;
}

export interface BuiltManifest {
  mediaType: string;
  bytes: Uint8Array;
  digest: string;
  size: number;
}

export function platformOf(arch: Arch): Platform {
  return { architecture: debianArch(arch), os: 'linux' };
}

/** The image manifest of one architecture (compact JSON, fixed key order). */
export function artifactManifest(
  artifact: ArchArtifact,
  digestOf: (bytes: Uint8Array) => string,
): BuiltManifest {
  const layers: Descriptor[] = artifact.files.map((file) => {
    const mediaType = fileMediaType(file.name, artifact.arch);
    if (mediaType === undefined) throw new Error(`no media type for ${file.name}`);
    return {
      mediaType,
      digest: file.digest,
      size: file.size,
      annotations: { [TITLE_ANNOTATION]: file.name },
    };
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    artifactType: HOOKOS_ARTIFACT_TYPE,
    config: {
      mediaType: EMPTY_CONFIG.mediaType,
      digest: EMPTY_CONFIG.digest,
      size: EMPTY_CONFIG.size,
    },
    layers,
    ...(Object.keys(artifact.annotations).length > 0 ? { annotations: sorted(artifact.annotations) } : {}),
  };
  return built(MEDIA_TYPE.ociManifest, manifest, digestOf);
}

/** The index over the architectures' manifests, each with its platform. */
export function artifactIndex(
  manifests: ReadonlyArray<{ arch: Arch; manifest: BuiltManifest }>,
  annotations: Record<string, string>,
  digestOf: (bytes: Uint8Array) => string,
): BuiltManifest {
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    artifactType: HOOKOS_ARTIFACT_TYPE,
    manifests: manifests.map(({ arch, manifest }) => ({
      mediaType: manifest.mediaType,
      artifactType: HOOKOS_ARTIFACT_TYPE,
      digest: manifest.digest,
      size: manifest.size,
      platform: platformOf(arch),
    })),
    ...(Object.keys(annotations).length > 0 ? { annotations: sorted(annotations) } : {}),
  };
  return built(MEDIA_TYPE.ociIndex, index, digestOf);
}

/** `org.opencontainers.image.created` in RFC 3339 (UTC, whole seconds) from SOURCE_DATE_EPOCH. */
export function createdAnnotation(sourceDateEpoch: number): string {
  return new Date(sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The SHA-512 sums `checksum.txt` lists (`<hex>  <name>`, as sha512sum writes and reads
 * them); lines of any other shape are ignored.
 */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{128}) [ *](.+)$/.exec(line);
    if (match) sums.set(match[2] as string, match[1] as string);
  }
  return sums;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function built(mediaType: string, value: unknown, digestOf: (bytes: Uint8Array) => string): BuiltManifest {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return { mediaType, bytes, digest: digestOf(bytes), size: bytes.byteLength };
}
