/**
 * The images stage: the spec's `images:` pulled (by the digests the lock pins, else by what
 * each reference names now, for the target architecture), verified, cached by digest, and
 * made into Docker's image store (oci/docker-store.ts), carried as an initramfs segment of its
 * own so the images are in the engine's store when it starts: hook-bootkit finds the worker
 * with no registry reachable. Registry credentials come from Docker's config.json; loopback
 * registries and `registries[].insecure` hosts are spoken to over plain HTTP, as Docker does.
 */
import { createHash } from 'node:crypto';
import { type Arch, debianArch } from '../../arch.ts';
import { putBuffer, readCached } from '../../debian/cache.ts';
import { HookError, isHookError } from '../../errors.ts';
import { decompress } from '../../formats/compress.ts';
import type { Credentials } from '../../oci/auth.ts';
import { credentialsFor, type DockerConfig, readDockerConfig } from '../../oci/docker-config.ts';
import { dockerImageStore, type StoreImage, storeEntries } from '../../oci/docker-store.ts';
import { parseImageConfig, parseImageManifest, parseManifestOrIndex } from '../../oci/parse.ts';
import { formatPlatform, platformMatches, selectPlatform } from '../../oci/platform.ts';
import { formatReference, type ImageReference, parseReference } from '../../oci/reference.ts';
import { checkDescriptor, RegistryClient } from '../../oci/registry.ts';
import {
  type Descriptor,
  type ImageIndex,
  INDEX_MEDIA_TYPES,
  MEDIA_TYPE,
  type Platform,
} from '../../oci/types.ts';
import { specError } from '../../specfile/load.ts';
import { formatSize } from '../../util/size.ts';
import { recordOrigin } from '../cache/content-origin.ts';
import type { BuildContext } from '../context.ts';
import type { Segment } from '../initramfs/segments.ts';
import { type LockedImage, type LockFile, readLock } from '../lockfile.ts';

export interface EmbeddedImages {
  /** The initramfs segment holding Docker's store (none when the spec embeds nothing). */
  segment: Segment | undefined;
  /** Bytes of file content the images add to the OS (they live in RAM, like the rest). */
  contentBytes: number;
}

/** The platform Docker in the OS runs: linux/amd64 or linux/arm64/v8. */
export function targetPlatform(arch: Arch): Platform {
  return arch === 'aarch64'
    ? { os: 'linux', architecture: debianArch(arch), variant: 'v8' }
    : { os: 'linux', architecture: debianArch(arch) };
}

const GZIP_LAYERS: readonly string[] = [MEDIA_TYPE.ociLayerGzip, MEDIA_TYPE.dockerLayerGzip];
const ZSTD_LAYERS: readonly string[] = [
  MEDIA_TYPE.ociLayerZstd,
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
];
const PLAIN_LAYERS: readonly string[] = [MEDIA_TYPE.ociLayer, 'application/vnd.docker.image.rootfs.diff.tar'];

/** Registries Docker reaches over plain HTTP without being told: 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(1, registry.indexOf(']'))
    : (registry.split(':')[0] ?? '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

interface Pulled {
  image: StoreImage;
  locked: LockedImage;
  downloaded: number;
}

export async function imagesStage(ctx: BuildContext, lock: LockFile): Promise<EmbeddedImages> {
  const { spec, reporter } = ctx;
  if (spec.images.length === 0) {
    delete lock.images;
    return { segment: undefined, contentBytes: 0 };
  }
  const done = reporter.stage('images');
  const platform = targetPlatform(ctx.arch);
  const pins = ctx.updateLock ? [] : ((await readLock(ctx.lockPath).catch(() => undefined))?.images ?? []);
  const insecure = new Set(spec.registries.filter((r) => r.insecure).map((r) => r.host));
  let dockerConfig: DockerConfig | undefined;
  const clients = new Map<string, RegistryClient>();
  const clientFor = async (registry: string): Promise<RegistryClient> => {
    let client = clients.get(registry);
    if (client === undefined) {
      dockerConfig ??= await readDockerConfig();
      const credentials: Credentials | undefined = await credentialsFor(dockerConfig, registry);
      client = new RegistryClient({
        insecure: insecure.has(registry) || isLoopbackRegistry(registry) ? [registry] : [],
        ...(credentials ?? {}),
      });
      clients.set(registry, client);
    }
    return client;
  };

  const pulled: Pulled[] = [];
  for (const [i, wanted] of spec.images.entries()) {
    const ref = parseReference(wanted.ref);
    const full = formatReference(ref);
    const pin = pins.find(
      (p) =>
        p.ref === full &&
        p.platform === formatPlatform(platform) &&
        (ref.digest === undefined || p.digest === ref.digest),
    );
    try {
      reporter.progress(`${full}: ${pin ? `locked ${pin.manifest.slice(0, 19)}` : 'resolving'}`);
      pulled.push(await pullOne(ctx, ref, wanted.tag, platform, pin, () => clientFor(ref.registry)));
    } catch (error) {
      if (isHookError(error) && error.code !== 'E_SPEC') {
        throw specError(ctx.loaded, ['images', i, 'ref'], error.message, error.hint);
      }
      throw error;
    }
  }
  const store = dockerImageStore(pulled.map((p) => p.image));
  if (store.droppedXattrs.length > 0) {
    reporter.warn(
      `embedded images: extended attributes are not carried into the OS (cpio has none), so these files lose them: ${store.droppedXattrs.slice(0, 8).join(', ')}${store.droppedXattrs.length > 8 ? ` and ${store.droppedXattrs.length - 8} more` : ''}`,
    );
  }
  lock.images = pulled.map((p) => p.locked);
  const contentBytes = store.tree.contentBytes();
  const downloaded = pulled.reduce((sum, p) => sum + p.downloaded, 0);
  done(
    `${pulled.length} images, ${store.layers} layers, ${formatSize(store.contentBytes)} of files (${formatSize(downloaded)} downloaded)`,
  );
  return { segment: { name: 'images', entries: storeEntries(store.tree) }, contentBytes };
}

/** A blob from the cache (checked against its digest), else from the registry (checked as it streams), then cached. */
async function blob(
  ctx: BuildContext,
  ref: ImageReference,
  descriptor: Descriptor,
  client: () => Promise<RegistryClient>,
  counter: { downloaded: number },
): Promise<Uint8Array> {
  const [algorithm, hex] = descriptor.digest.split(':') as [string, string];
  const onRepair = (m: string) => ctx.reporter.warn(m);
  if (algorithm === 'sha256') {
    const cached = await readCached(ctx.cacheDir, hex, descriptor.size, {
      onRepair,
      label: `${formatReference(ref)} blob ${descriptor.digest}`,
    });
    if (cached !== undefined) return cached;
  }
  ctx.reporter.progress(
    `${formatReference(ref)}: ${descriptor.digest.slice(0, 19)} (${formatSize(descriptor.size)})`,
  );
  const data = await (await client()).fetchBlob(ref, descriptor.digest, descriptor.size);
  counter.downloaded += data.byteLength;
  if (algorithm === 'sha256')
    await putBuffer(ctx.cacheDir, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return data;
}

async function pullOne(
  ctx: BuildContext,
  ref: ImageReference,
  tag: string | undefined,
  platform: Platform,
  pin: LockedImage | undefined,
  client: () => Promise<RegistryClient>,
): Promise<Pulled> {
  const full = formatReference(ref);
  const counter = { downloaded: 0 };
  let top: string;
  let manifestDigest: string;
  let manifestBytes: Uint8Array | undefined;
  if (pin !== undefined) {
    top = pin.digest;
    manifestDigest = pin.manifest;
  } else {
    const fetched = await (await client()).getManifest(ref);
    top = fetched.digest;
    if ('manifests' in fetched.json || INDEX_MEDIA_TYPES.includes(fetched.mediaType)) {
      const manifests = (fetched.json as ImageIndex).manifests;
      const chosen = selectPlatform(manifests, platform);
      if (chosen === undefined) {
        const available = manifests.map((m) => formatPlatform(m.platform)).join(', ') || 'none';
        throw new HookError(
          'E_OCI',
          `Cannot embed ${full}: it has no image for ${formatPlatform(platform)} (available: ${available})`,
          {
            hint: `Build the OS for an architecture the image has (--arch), or use an image built for ${formatPlatform(platform)}`,
          },
        );
      }
      manifestDigest = chosen.digest;
    } else {
      manifestDigest = fetched.digest;
      manifestBytes = fetched.bytes;
    }
  }
  // The manifest by digest: from the cache (checked), else from the registry (checked by getManifest).
  if (manifestBytes === undefined && manifestDigest.startsWith('sha256:')) {
    manifestBytes = await readCached(ctx.cacheDir, manifestDigest.slice(7), undefined, {
      onRepair: (m) => ctx.reporter.warn(m),
      label: `${full} manifest ${manifestDigest}`,
    });
  }
  if (manifestBytes === undefined)
    manifestBytes = (await (await client()).getManifest(ref, manifestDigest)).bytes;
  if (manifestDigest.startsWith('sha256:')) await putBuffer(ctx.cacheDir, Buffer.from(manifestBytes));
  const parsed = parseManifestOrIndex(manifestBytes, `the manifest of ${full}`, INDEX_MEDIA_TYPES);
  if ('manifests' in parsed)
    throw new HookError('E_OCI', `Cannot embed ${full}: ${manifestDigest} is an index, not an image`);
  const manifest = parseImageManifest(manifestBytes, `the manifest of ${full}`);
  for (const descriptor of [manifest.config, ...manifest.layers]) checkDescriptor(descriptor, full);

  const configBytes = await blob(ctx, ref, manifest.config, client, counter);
  const config = parseImageConfig(configBytes, `the config of ${full}`);
  const imagePlatform: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (!platformMatches(imagePlatform, platform)) {
    throw new HookError(
      'E_OCI',
      `Cannot embed ${full}: it is an image for ${formatPlatform(imagePlatform)}, the OS is ${formatPlatform(platform)}`,
      {
        hint: 'Use a multi-arch reference or the image built for the target architecture',
      },
    );
  }
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new HookError(
      'E_OCI',
      `Cannot embed ${full}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`,
    );
  }
  const layers: StoreImage['layers'][number][] = [];
  for (const [i, descriptor] of manifest.layers.entries()) {
    const data = await blob(ctx, ref, descriptor, client, counter);
    const tar = await uncompressedLayer(full, descriptor, data);
    const diffId = diffIds[i] as string;
    const actual = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
    if (actual !== diffId) {
      throw new HookError(
        'E_CHECKSUM',
        `Digest mismatch for the uncompressed layer ${descriptor.digest} of ${full}: its config says ${diffId}, got ${actual}`,
      );
    }
    // The tar is a function of its verified diff ID: segment cache keys name its files by it.
    recordOrigin(tar, `layer ${diffId}`);
    layers.push({ tar, diffId });
  }
  const repository = `${ref.registry}/${ref.repository}`;
  const names = [
    ...(ref.digest === undefined ? [`${repository}:${ref.tag ?? 'latest'}`] : []),
    `${repository}@${top}`,
    ...(tag === undefined ? [] : [formatReference(parseReference(tag))]),
  ];
  return {
    image: { configBytes, layers, names, label: full },
    locked: { ref: full, digest: top, manifest: manifestDigest, platform: formatPlatform(platform) },
    downloaded: counter.downloaded,
  };
}

async function uncompressedLayer(
  full: string,
  descriptor: Descriptor,
  data: Uint8Array,
): Promise<Uint8Array> {
  const kind = GZIP_LAYERS.includes(descriptor.mediaType)
    ? 'gzip'
    : ZSTD_LAYERS.includes(descriptor.mediaType)
      ? 'zstd'
      : PLAIN_LAYERS.includes(descriptor.mediaType)
        ? 'none'
        : undefined;
  if (kind === undefined) {
    throw new HookError(
      'E_OCI',
      `Cannot embed ${full}: layer ${descriptor.digest} has the media type ${JSON.stringify(descriptor.mediaType)}, which is not a layer Docker can apply`,
    );
  }
  const out = await decompress(data, kind);
  // A buffer of its own (never a pooled slab), so content origins recorded on it stay exact.
  return out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
}
