/**
 * Reading an OCI image layout directory (ours or any other tool's): `index.json` → the
 * manifest named by tag (`org.opencontainers.image.ref.name`), following nested indexes to
 * one platform, with every blob checked against its digest, as a pull from a registry would.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HookError } from '../errors.ts';
import type { PulledImage } from './image.ts';
import { REF_NAME_ANNOTATION, verifyPulledLayers } from './image.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest } from './parse.ts';
import { formatPlatform, selectPlatform } from './platform.ts';
import { checkDescriptor, digestOf } from './registry.ts';
import type { Descriptor, Platform } from './types.ts';
import { INDEX_MEDIA_TYPES } from './types.ts';

async function readBlob(dir: string, descriptor: Descriptor): Promise<Uint8Array> {
  checkDescriptor(descriptor, dir);
  const [algorithm, hex] = descriptor.digest.split(':') as [string, string];
  let data: Uint8Array;
  try {
    data = new Uint8Array(await readFile(join(dir, 'blobs', algorithm, hex)));
  } catch (error) {
    throw new HookError('E_OCI', `Cannot read blob ${descriptor.digest} of the OCI layout ${dir}: missing`, {
      cause: error,
    });
  }
  const actual = digestOf(data, algorithm);
  if (actual !== descriptor.digest || data.byteLength !== descriptor.size) {
    throw new HookError(
      'E_CHECKSUM',
      `Digest mismatch for blob ${descriptor.digest} of the OCI layout ${dir}: got ${actual} (${data.byteLength} bytes, expected ${descriptor.size})`,
    );
  }
  return data;
}

function isIndex(descriptor: Descriptor): boolean {
  return INDEX_MEDIA_TYPES.includes(descriptor.mediaType);
}

/** Loads the image tagged `tag` (default: the only one) for `platform` (default linux/amd64). */
export async function readOciLayout(
  dir: string,
  options: { tag?: string; platform?: Platform } = {},
): Promise<PulledImage> {
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const index = parseImageIndex(
    new Uint8Array(await readFile(join(dir, 'index.json')).catch(() => new Uint8Array())),
    `index.json of the OCI layout ${dir}`,
  );
  const manifests = index.manifests;
  const tagged =
    options.tag === undefined
      ? manifests
      : manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === options.tag);
  const wanted = options.tag === undefined ? 'an image' : `tag "${options.tag}"`;
  if (tagged.length === 0) throw new HookError('E_OCI', `Cannot find ${wanted} in the OCI layout ${dir}`);
  let descriptor: Descriptor | undefined =
    tagged.length === 1 ? tagged[0] : (selectPlatform(tagged, platform) ?? undefined);
  for (let depth = 0; descriptor && isIndex(descriptor) && depth < 4; depth++) {
    const nested = parseImageIndex(
      await readBlob(dir, descriptor),
      `index ${descriptor.digest} of the OCI layout ${dir}`,
    );
    descriptor = selectPlatform(nested.manifests, platform);
  }
  if (!descriptor || isIndex(descriptor)) {
    throw new HookError(
      'E_OCI',
      `Cannot find ${wanted} for ${formatPlatform(platform)} in the OCI layout ${dir}`,
    );
  }
  const manifest = parseImageManifest(
    await readBlob(dir, descriptor),
    `manifest ${descriptor.digest} of the OCI layout ${dir}`,
  );
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new HookError(
      'E_OCI',
      `Cannot read the OCI layout ${dir}: manifest ${descriptor.digest} has no config or layers`,
    );
  }
  const configBytes = await readBlob(dir, manifest.config);
  const config = parseImageConfig(configBytes, `config ${manifest.config.digest} of the OCI layout ${dir}`);
  const layers: PulledImage['layers'] = [];
  for (const layer of manifest.layers) layers.push({ descriptor: layer, data: await readBlob(dir, layer) });
  verifyPulledLayers(dir, config, layers);
  return {
    manifestDigest: descriptor.digest,
    manifestMediaType: manifest.mediaType ?? descriptor.mediaType,
    manifest,
    config,
    configBytes,
    layers,
  };
}
