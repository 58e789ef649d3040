/**
 * `hook-<arch>.lock`: the resolved package set (name, version, architecture, SHA-256, where it
 * lives in the archive) plus the request it answers. A build whose request matches the lock
 * reuses it without reading any index, so the same spec + lock gives the same image.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BinaryPackage } from '../debian/types.ts';
import { HookError } from '../errors.ts';

export interface LockEntry {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  filename: string;
  suite: string;
  /** Why it is in the image: `request`, `kernel` or `firmware`. */
  role: PackageRole;
}

/** Why a package is locked: requested by the spec, the kernel, firmware, or a boot loader of the ISO. */
export type PackageRole = 'request' | 'kernel' | 'firmware' | 'bootloader';

export interface LockFile {
  lockfileVersion: 1;
  arch: string;
  /** Hash of the requested names, suites and components: a different request invalidates the lock. */
  requestHash: string;
  /** Seconds since the epoch of the newest signed index used: the image's SOURCE_DATE_EPOCH. */
  sourceDateEpoch: number;
  packages: LockEntry[];
  /** The spec's embedded container images, as resolved (absent when the spec has none). */
  images?: LockedImage[];
}

/**
 * An embedded image pinned: `ref` (the spec's reference, in full form) resolved to `digest` (what
 * the registry served for it: an index for multi-arch images, else the manifest), and
 * `manifest`, the image manifest of the lock's architecture. A build with the lock pulls these
 * digests, whatever the tag points to by then.
 */
export interface LockedImage {
  ref: string;
  digest: string;
  manifest: string;
  /** `os/architecture[/variant]` of `manifest`. */
  platform: string;
}

export interface LockRequest {
  arch: string;
  requests: string[];
  kernel: string;
  firmware: string[];
  bootLoaders: string[];
  omit: string[];
  suites: string[];
  components: string[];
}

/** One lock per architecture, so that building both into one folder keeps both pinned. */
export function lockFileName(arch: string): string {
  return `hook-${arch}.lock`;
}

export function requestHash(request: LockRequest): string {
  const canonical = JSON.stringify({
    arch: request.arch,
    requests: [...request.requests].sort(),
    kernel: request.kernel,
    firmware: [...request.firmware].sort(),
    bootLoaders: [...request.bootLoaders].sort(),
    omit: [...request.omit].sort(),
    suites: request.suites,
    components: [...request.components].sort(),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export function lockEntry(pkg: BinaryPackage, role: PackageRole): LockEntry {
  return {
    name: pkg.name,
    version: pkg.version,
    architecture: pkg.architecture,
    sha256: pkg.sha256,
    size: pkg.size,
    filename: pkg.filename,
    suite: pkg.origin.suite,
    role,
  };
}

export function serializeLock(lock: LockFile): string {
  const byKey =
    <T>(key: (item: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  const packages = [...lock.packages].sort(byKey((p) => p.name));
  const images = lock.images === undefined ? {} : { images: [...lock.images].sort(byKey((i) => i.ref)) };
  return `${JSON.stringify({ ...lock, packages, ...images }, null, 2)}\n`;
}

export async function readLock(path: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HookError('E_SPEC', `Cannot parse lock file ${path}: ${(error as Error).message}`, {
      hint: 'Delete it to resolve the packages again.',
    });
  }
  const lock = parsed as Partial<LockFile>;
  const digest = (value: unknown) => typeof value === 'string' && /^sha256:[0-9a-f]{64}$/.test(value);
  const badImages =
    lock.images !== undefined &&
    (!Array.isArray(lock.images) ||
      !lock.images.every(
        (i) =>
          typeof i?.ref === 'string' &&
          digest(i.digest) &&
          digest(i.manifest) &&
          typeof i.platform === 'string',
      ));
  if (
    lock.lockfileVersion !== 1 ||
    !Array.isArray(lock.packages) ||
    typeof lock.requestHash !== 'string' ||
    badImages
  ) {
    throw new HookError('E_SPEC', `Lock file ${path} is not a HookOS lock of version 1`, {
      hint: 'Delete it to resolve the packages again.',
    });
  }
  return lock as LockFile;
}
