/**
 * Strict readers for the JSON documents of the OCI/Docker image formats: image index (and
 * Docker manifest list), image manifest, image config. A registry or a layout directory may
 * serve anything; each reader returns a checked value or throws E_OCI saying what is wrong,
 * so the code after it can use every field it reads without guarding (before, `null` or a
 * string where a list belongs threw TypeErrors deep in the pull).
 */
import { HookError } from '../errors.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** OCI image-spec descriptor.md: `algorithm ":" encoded`. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

class Checker {
  constructor(readonly what: string) {}

  fail(path: string, problem: string): never {
    throw new HookError(
      'E_OCI',
      `Cannot read ${this.what}: ${path === '' ? 'the document' : path} ${problem}`,
      {
        hint: 'The registry or layout served a document that is not a valid OCI/Docker image document',
      },
    );
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, `is ${describe(value)}, not an object`);
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, `is ${describe(value)}, not a string`);
    return value;
  }

  optionalString(value: unknown, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path);
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `is ${describe(value)}, not a list`);
    return value;
  }

  /** Docker writes `null` for an empty list (`"Cmd": null`). */
  stringList(value: unknown, path: string): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    return this.array(value, path).map((item, i) => this.string(item, `${path}[${i}]`));
  }

  stringMap(value: unknown, path: string): Record<string, string> | undefined {
    if (value === undefined || value === null) return undefined;
    const object = this.object(value, path);
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(object)) out[key] = this.string(item, `${path}.${key}`);
    return out;
  }

  schemaVersion(value: unknown, path: string): 2 {
    if (value !== 2) this.fail(path, `is ${describe(value)}; only schemaVersion 2 is supported`);
    return 2;
  }

  descriptor(value: unknown, path: string): Descriptor {
    const object = this.object(value, path);
    const mediaType = this.string(object.mediaType, `${path}.mediaType`);
    const digest = this.string(object.digest, `${path}.digest`);
    if (!DIGEST.test(digest)) this.fail(`${path}.digest`, `"${digest.slice(0, 80)}" is not a digest`);
    const size = object.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      this.fail(`${path}.size`, `is ${describe(size)}, not a byte count`);
    const descriptor: Descriptor = { mediaType, digest, size };
    if (object.platform !== undefined)
      descriptor.platform = this.platform(object.platform, `${path}.platform`);
    const annotations = this.stringMap(object.annotations, `${path}.annotations`);
    if (annotations !== undefined) descriptor.annotations = annotations;
    return descriptor;
  }

  platform(value: unknown, path: string): Platform {
    const object = this.object(value, path);
    const platform: Platform = { architecture: this.string(object.architecture, `${path}.architecture`) };
    const os = this.optionalString(object.os, `${path}.os`);
    if (os !== undefined) platform.os = os;
    const variant = this.optionalString(object.variant, `${path}.variant`);
    if (variant !== undefined) platform.variant = variant;
    return platform;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `a ${typeof value}`;
}

function parseJson(bytes: Uint8Array | string, checker: Checker): Json {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as Json;
  } catch {
    return checker.fail('', 'is not JSON');
  }
}

/** An image index or Docker manifest list. */
export function parseImageIndex(bytes: Uint8Array | string, what: string): ImageIndex {
  const c: Checker = new Checker(what);
  return checkIndex(c, c.object(parseJson(bytes, c), ''));
}

function checkIndex(c: Checker, object: Record<string, unknown>): ImageIndex {
  const index: ImageIndex = {
    schemaVersion: c.schemaVersion(object.schemaVersion, 'schemaVersion'),
    manifests: c.array(object.manifests, 'manifests').map((d, i) => c.descriptor(d, `manifests[${i}]`)),
  };
  const mediaType = c.optionalString(object.mediaType, 'mediaType');
  if (mediaType !== undefined) index.mediaType = mediaType;
  const annotations = c.stringMap(object.annotations, 'annotations');
  if (annotations !== undefined) index.annotations = annotations;
  return index;
}

/** An image manifest (OCI or Docker v2 schema 2). */
export function parseImageManifest(bytes: Uint8Array | string, what: string): ImageManifest {
  const c: Checker = new Checker(what);
  return checkManifest(c, c.object(parseJson(bytes, c), ''));
}

function checkManifest(c: Checker, object: Record<string, unknown>): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: c.schemaVersion(object.schemaVersion, 'schemaVersion'),
    config: c.descriptor(object.config, 'config'),
    layers: c.array(object.layers, 'layers').map((d, i) => c.descriptor(d, `layers[${i}]`)),
  };
  const mediaType = c.optionalString(object.mediaType, 'mediaType');
  if (mediaType !== undefined) manifest.mediaType = mediaType;
  const annotations = c.stringMap(object.annotations, 'annotations');
  if (annotations !== undefined) manifest.annotations = annotations;
  return manifest;
}

/**
 * What a manifest GET returned: an index when it has `manifests` (or says so by media type),
 * else an image manifest.
 */
export function parseManifestOrIndex(
  bytes: Uint8Array | string,
  what: string,
  indexMediaTypes: readonly string[],
  contentType?: string,
): ImageManifest | ImageIndex {
  const c: Checker = new Checker(what);
  const object = c.object(parseJson(bytes, c), '');
  const mediaType = typeof object.mediaType === 'string' ? object.mediaType : contentType;
  const isIndex = 'manifests' in object || (mediaType !== undefined && indexMediaTypes.includes(mediaType));
  return isIndex ? checkIndex(c, object) : checkManifest(c, object);
}

/** An image config; only what Hook reads is checked beyond being an object. */
export function parseImageConfig(bytes: Uint8Array | string, what: string): ImageConfig {
  const c: Checker = new Checker(what);
  const object = c.object(parseJson(bytes, c), '');
  const rootfs = c.object(object.rootfs, 'rootfs');
  const config: ImageConfig = {
    architecture: c.string(object.architecture, 'architecture'),
    os: c.string(object.os, 'os'),
    rootfs: {
      type: 'layers',
      diff_ids: c.array(rootfs.diff_ids, 'rootfs.diff_ids').map((id, i) => {
        const digest = c.string(id, `rootfs.diff_ids[${i}]`);
        if (!DIGEST.test(digest)) c.fail(`rootfs.diff_ids[${i}]`, `"${digest.slice(0, 80)}" is not a digest`);
        return digest;
      }),
    },
  };
  if (rootfs.type !== 'layers') c.fail('rootfs.type', `is ${describe(rootfs.type)}, not "layers"`);
  const created = c.optionalString(object.created, 'created');
  if (created !== undefined) config.created = created;
  const variant = c.optionalString(object.variant, 'variant');
  if (variant !== undefined) config.variant = variant;
  if (object.config !== undefined && object.config !== null) {
    const inner = c.object(object.config, 'config');
    const out: NonNullable<ImageConfig['config']> = {};
    const user = c.optionalString(inner.User, 'config.User');
    if (user !== undefined) out.User = user;
    const env = c.stringList(inner.Env, 'config.Env');
    if (env !== undefined) out.Env = env;
    const entrypoint = c.stringList(inner.Entrypoint, 'config.Entrypoint');
    if (entrypoint !== undefined) out.Entrypoint = entrypoint;
    const cmd = c.stringList(inner.Cmd, 'config.Cmd');
    if (cmd !== undefined) out.Cmd = cmd;
    const workingDir = c.optionalString(inner.WorkingDir, 'config.WorkingDir');
    if (workingDir !== undefined) out.WorkingDir = workingDir;
    const labels = c.stringMap(inner.Labels, 'config.Labels');
    if (labels !== undefined) out.Labels = labels;
    config.config = out;
  }
  if (object.history !== undefined && object.history !== null) {
    config.history = c.array(object.history, 'history').map((entry, i) => {
      const h = c.object(entry, `history[${i}]`);
      const item: NonNullable<ImageConfig['history']>[number] = {};
      const hc = c.optionalString(h.created, `history[${i}].created`);
      if (hc !== undefined) item.created = hc;
      const by = c.optionalString(h.created_by, `history[${i}].created_by`);
      if (by !== undefined) item.created_by = by;
      const comment = c.optionalString(h.comment, `history[${i}].comment`);
      if (comment !== undefined) item.comment = comment;
      if (h.empty_layer !== undefined) {
        const empty = h.empty_layer;
        if (typeof empty !== 'boolean') c.fail(`history[${i}].empty_layer`, 'is not true or false');
        item.empty_layer = empty;
      }
      return item;
    });
  }
  return config;
}
