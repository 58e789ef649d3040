/**
 * OCI images built from rootfs trees: config and manifest JSON with byte-stable output (fixed
 * key order, fixed timestamps), written as an OCI image layout directory, pushed to a
 * registry, or pulled back from one with every blob verified.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HookError } from '../errors.ts';
import type { Tree } from '../tree/tree.ts';
import { writeAtomically } from '../util/atomic-write.ts';
import { sha256Digest, treeToLayer } from './layer.ts';
import { parseImageConfig, parseImageIndex } from './parse.ts';
import type { ImageReference } from './reference.ts';
import { formatReference, parseReference } from './reference.ts';
import type { RegistryClientOptions } from './registry.ts';
import { checkDescriptor, RegistryClient } from './registry.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types.ts';
import { MEDIA_TYPE } from './types.ts';

export type ImageArch = 'amd64' | 'arm64';

export interface ImageConfigInput {
  entrypoint?: string[];
  cmd?: string[];
  /** `KEY=value` strings, or a map written in key order. */
  env?: string[] | Record<string, string>;
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
}

export interface BuildImageOptions {
  /** Layers bottom to top. */
  layers: Tree[] | Tree;
  config?: ImageConfigInput;
  arch: ImageArch;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH): the config's `created` and every file's mtime. */
  created: number;
  /** gzip level of the layers (default 6). */
  gzipLevel?: number;
}

export interface OciBlob {
  mediaType: string;
  digest: string;
  size: number;
  data: Uint8Array;
}

export interface OciImage {
  manifest: OciBlob;
  config: OciBlob;
  /** Compressed layers, with the digest of their uncompressed tar. */
  layers: Array<OciBlob & { diffId: string }>;
  platform: Platform;
}

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

function toBlob(mediaType: string, data: Uint8Array): OciBlob {
  return { mediaType, digest: sha256Digest(data), size: data.byteLength, data };
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function descriptorOf(blob: OciBlob): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

function containerConfig(input: ImageConfigInput): NonNullable<ImageConfig['config']> {
  const out: NonNullable<ImageConfig['config']> = {};
  if (input.user !== undefined) out.User = input.user;
  if (input.env !== undefined) {
    out.Env = Array.isArray(input.env)
      ? [...input.env]
      : Object.entries(input.env).map(([k, v]) => `${k}=${v}`);
  }
  if (input.entrypoint !== undefined) out.Entrypoint = [...input.entrypoint];
  if (input.cmd !== undefined) out.Cmd = [...input.cmd];
  if (input.workingDir !== undefined) out.WorkingDir = input.workingDir;
  if (input.labels !== undefined) {
    out.Labels = Object.fromEntries(
      Object.entries(input.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }
  return out;
}

/** Builds a single-platform linux image; the same inputs always give the same digests. */
export async function buildImage(options: BuildImageOptions): Promise<OciImage> {
  if (!Number.isSafeInteger(options.created) || options.created < 0) {
    throw new HookError(
      'E_OCI',
      `Cannot build image: created time ${options.created} is not seconds since the epoch`,
    );
  }
  const trees = Array.isArray(options.layers) ? options.layers : [options.layers];
  const created = new Date(options.created * 1000).toISOString().replace('.000Z', 'Z');
  const layers: OciImage['layers'] = [];
  for (const tree of trees) {
    const layer = await treeToLayer(tree, { mtime: options.created, level: options.gzipLevel });
    layers.push({ ...toBlob(MEDIA_TYPE.ociLayerGzip, layer.gzip), diffId: layer.diffId });
  }
  const platform: Platform =
    options.arch === 'arm64'
      ? { os: 'linux', architecture: 'arm64', variant: 'v8' }
      : { os: 'linux', architecture: 'amd64' };
  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: 'linux',
    config: containerConfig(options.config ?? {}),
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map(() => ({ created, created_by: 'hook' })),
  };
  const configBlob = toBlob(MEDIA_TYPE.ociConfig, jsonBytes(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: descriptorOf(configBlob),
    layers: layers.map(descriptorOf),
  };
  return {
    manifest: toBlob(MEDIA_TYPE.ociManifest, jsonBytes(manifest)),
    config: configBlob,
    layers,
    platform,
  };
}

async function writeBlob(dir: string, blob: { digest: string; data: Uint8Array }): Promise<void> {
  const [algorithm, hex] = blob.digest.split(':') as [string, string];
  const blobDir = join(dir, 'blobs', algorithm);
  await mkdir(blobDir, { recursive: true });
  const path = join(blobDir, hex);
  if (existsSync(path)) return;
  await writeAtomically(path, blob.data);
}

/**
 * Writes (or adds to) an OCI image layout: `oci-layout`, `blobs/sha256/…` and `index.json`
 * naming the manifest with `org.opencontainers.image.ref.name` = tag. An entry with the same
 * tag is replaced; other entries are kept.
 */
export async function writeOciLayout(image: OciImage, dir: string, options: { tag: string }): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
  for (const blob of [...image.layers, image.config, image.manifest]) await writeBlob(dir, blob);

  const indexPath = join(dir, 'index.json');
  let manifests: Descriptor[] = [];
  if (existsSync(indexPath)) {
    manifests = parseImageIndex(await readFile(indexPath), `index.json of the OCI layout ${dir}`).manifests;
  }
  manifests = manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== options.tag);
  manifests.push({
    ...descriptorOf(image.manifest),
    platform: image.platform,
    annotations: { [REF_NAME_ANNOTATION]: options.tag },
  });
  const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests };
  await writeAtomically(indexPath, `${JSON.stringify(index)}\n`);
}

export interface PushOptions extends RegistryClientOptions {
  /** A repository on the same registry to mount blobs from instead of uploading them. */
  mountFrom?: string;
}

export interface PushResult {
  /** Digest of the pushed manifest. */
  digest: string;
  /** `registry/repository@digest` */
  reference: string;
  /** Per blob: whether it was uploaded, already there, or mounted. */
  blobs: Record<string, 'exists' | 'mounted' | 'uploaded'>;
}

/** Pushes the layers, the config, then the manifest (under the tag of `ref`). */
export async function pushImage(
  image: OciImage,
  ref: string | ImageReference,
  options: PushOptions = {},
): Promise<PushResult> {
  const target = typeof ref === 'string' ? parseReference(ref) : ref;
  const client = new RegistryClient(options);
  const blobs: PushResult['blobs'] = {};
  for (const blob of [...image.layers, image.config]) {
    blobs[blob.digest] = await client.pushBlob(target, blob, { mountFrom: options.mountFrom });
  }
  const digest = await client.putManifest(target, image.manifest.data, image.manifest.mediaType);
  return { digest, reference: `${target.registry}/${target.repository}@${digest}`, blobs };
}

export interface PullOptions extends RegistryClientOptions {
  /** Default: linux/amd64. */
  platform?: Platform;
}

export interface PulledImage {
  manifestDigest: string;
  manifestMediaType: string;
  manifest: ImageManifest;
  config: ImageConfig;
  configBytes: Uint8Array;
  /** Compressed layer blobs, each checked against its digest (and its diff_id when gzip or plain tar). */
  layers: Array<{ descriptor: Descriptor; data: Uint8Array }>;
}

/**
 * Checks the layers against the config's `rootfs.diff_ids` (their digests were checked as they
 * arrived): one diff_id per layer, and for gzip or plain tar layers the uncompressed digest.
 */
export function verifyPulledLayers(
  reference: string,
  config: ImageConfig,
  layers: PulledImage['layers'],
): void {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length) {
    throw new HookError(
      'E_OCI',
      `Cannot use ${reference}: ${layers.length} layers but ${diffIds.length} diff_ids in the config`,
    );
  }
  for (const [i, { descriptor, data }] of layers.entries()) {
    const gzip =
      descriptor.mediaType === MEDIA_TYPE.ociLayerGzip || descriptor.mediaType === MEDIA_TYPE.dockerLayerGzip;
    if (!gzip && descriptor.mediaType !== MEDIA_TYPE.ociLayer) continue;
    let actual: string;
    try {
      actual = sha256Digest(gzip ? gunzipSync(data) : data);
    } catch (error) {
      throw new HookError('E_CHECKSUM', `Layer ${descriptor.digest} of ${reference} is not valid gzip`, {
        cause: error,
      });
    }
    if (actual !== diffIds[i]) {
      throw new HookError(
        'E_CHECKSUM',
        `Digest mismatch for the uncompressed layer ${descriptor.digest} of ${reference}: config says ${diffIds[i]}, got ${actual}`,
      );
    }
  }
}

/** Pulls one platform's image into memory: manifest, config and layers, all verified. */
export async function pullImage(
  ref: string | ImageReference,
  options: PullOptions = {},
): Promise<PulledImage> {
  const source = typeof ref === 'string' ? parseReference(ref) : ref;
  const reference = formatReference(source);
  const client = new RegistryClient(options);
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const fetched = await client.getImageManifest(source, platform);
  const manifest = fetched.json;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new HookError(
      'E_OCI',
      `Cannot pull ${reference}: manifest ${fetched.digest} has no config or layers`,
    );
  }
  for (const descriptor of [manifest.config, ...manifest.layers]) checkDescriptor(descriptor, reference);
  const configBytes = await client.fetchBlob(source, manifest.config.digest, manifest.config.size);
  const config = parseImageConfig(configBytes, `config ${manifest.config.digest} of ${reference}`);
  const layers: PulledImage['layers'] = [];
  for (const descriptor of manifest.layers) {
    layers.push({ descriptor, data: await client.fetchBlob(source, descriptor.digest, descriptor.size) });
  }
  verifyPulledLayers(reference, config, layers);
  return {
    manifestDigest: fetched.digest,
    manifestMediaType: fetched.mediaType,
    manifest,
    config,
    configBytes,
    layers,
  };
}
