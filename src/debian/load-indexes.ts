/**
 * Loads the binary package indexes of the configured suites and components: the signed
 * InRelease of each suite (fetched fresh, verified), then each `Packages` index verified
 * against the SHA-256 the InRelease lists. Indexes are kept in the content-addressed cache
 * both compressed and uncompressed (the latter is also listed, with its SHA-256, in the
 * InRelease), so a warm run neither downloads nor decompresses; every cached index is hashed
 * again when it is read, and a damaged one is deleted and fetched again. Nothing is read or
 * decompressed without a bound: the InRelease has a size cap, each index the size the
 * InRelease gives it.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import xz from 'xz-decompress';
import type { DebianArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { writeAtomically } from '../util/atomic-write.ts';
import { casPath, type RepairReporter, readCached, sha256Of } from './cache.ts';
import { describeUrl, downloadToFile, HttpError, httpGet, type RetryOptions } from './http.ts';
import {
  INRELEASE_MAX_BYTES,
  type Keyring,
  loadKeyring,
  type Release,
  type ReleaseFile,
  verifyInRelease,
} from './inrelease.ts';
import { parsePackagesIndex } from './packages-index.ts';
import { isSecuritySuite } from './sources.ts';
import type { ArchiveSettings, BinaryPackage } from './types.ts';

const { XzReadableStream } = xz;

export interface LoadPackagesOptions {
  settings: ArchiveSettings;
  arch: DebianArch;
  cacheDir: string;
  /** Progress: downloads, skipped components, and why a request is waiting (default: none). */
  log?: (message: string) => void;
  /** Told about each damaged cache entry that was deleted and fetched again (default: none). */
  onRepair?: RepairReporter;
  /** Defaults to the committed Debian archive keyring. */
  keyring?: Keyring;
  /** Time for Valid-Until checks (default: now). */
  now?: Date;
  /** Retries and stall timeout; `onWait` defaults to `log`. */
  retry?: RetryOptions;
  /** Called with each verified release (the build takes SOURCE_DATE_EPOCH from their dates). */
  onRelease?: (release: Release, suite: string) => void;
}

interface Context extends LoadPackagesOptions {
  keyring: Keyring;
  log: (message: string) => void;
  retry: RetryOptions;
}

const COMPRESSIONS = ['.xz', '.gz', ''] as const;

/**
 * Bound on a decompressed index the InRelease gives no size for. trixie's largest, main
 * for amd64, is 56 MB; every component of sid together is under 100 MB.
 */
export const PACKAGES_MAX_BYTES = 512 * 1024 * 1024;

export function mirrorForSuite(settings: ArchiveSettings, suite: string): string {
  return isSecuritySuite(suite) ? settings.securityMirror : settings.mirror;
}

/** Where the last verified InRelease of a suite on a mirror is kept. */
function lastGoodPath(cacheDir: string, mirror: string, suite: string): string {
  const key = createHash('sha256').update(`${mirror}/dists/${suite}`).digest('hex').slice(0, 24);
  return join(cacheDir, 'inrelease', `${key}-${suite.replace(/[^A-Za-z0-9.-]/g, '_')}`);
}

/**
 * Fetches and verifies a suite's InRelease. When the mirror cannot be reached, the last
 * verified copy is used instead if it still verifies (signature and Valid-Until); a kept
 * copy that does not is deleted and the mirror's error stands.
 */
export async function fetchRelease(ctx: Context, mirror: string, suite: string): Promise<Release> {
  const url = `${mirror}/dists/${suite}/InRelease`;
  const source = `${suite} (${describeUrl(url)})`;
  const keep = lastGoodPath(ctx.cacheDir, mirror, suite);
  const verifyOptions = { source, ...(ctx.now ? { now: ctx.now } : {}) };
  let text: string;
  try {
    text = (await httpGet(url, { ...ctx.retry, maxBytes: INRELEASE_MAX_BYTES })).toString('utf8');
  } catch (error) {
    const offline = error instanceof HttpError && error.status === undefined;
    const kept = offline ? await readKept(keep) : undefined;
    if (kept === undefined) throw error;
    let release: Release;
    try {
      release = checkSuite(await verifyInRelease(kept, ctx.keyring, verifyOptions), suite, source);
    } catch (damage) {
      await rm(keep, { force: true });
      ctx.onRepair?.(
        `the InRelease of ${suite} kept from an earlier run (${keep}) no longer verifies: ${(damage as Error).message}; deleted`,
      );
      throw error;
    }
    ctx.log(`warning: ${(error as Error).message}; using the InRelease of ${suite} verified earlier`);
    return release;
  }
  const release = checkSuite(await verifyInRelease(text, ctx.keyring, verifyOptions), suite, source);
  await writeAtomically(keep, text);
  return release;
}

/** The kept InRelease, unless missing or larger than any InRelease may be. */
async function readKept(path: string): Promise<string | undefined> {
  const data = await readFile(path).catch(() => undefined);
  if (data === undefined || data.length > INRELEASE_MAX_BYTES) return undefined;
  return data.toString('utf8');
}

/** A correctly signed Release of another suite must not be accepted in place of this one. */
function checkSuite(release: Release, suite: string, source: string): Release {
  if (release.codename !== suite && release.suite !== suite) {
    throw new HookError(
      'E_SIGNATURE',
      `InRelease of ${source} is for suite ${release.suite ?? '?'} (${release.codename ?? '?'}), not ${suite}`,
    );
  }
  return release;
}

/**
 * The verified bytes of an index file: from the cache (hashed as read), else downloaded (by
 * hash first when the archive offers it), bounded by and checked against the signed size
 * and SHA-256. Undefined when the mirror does not have it.
 */
async function fetchIndexFile(
  ctx: Context,
  base: string,
  path: string,
  file: ReleaseFile,
  release: Release,
): Promise<Buffer | undefined> {
  const label = `index ${describeUrl(`${base}/${path}`)}`;
  const check = { onRepair: ctx.onRepair, label };
  const hit = await readCached(ctx.cacheDir, file.sha256, file.size, check);
  if (hit) return hit;
  const dest = casPath(ctx.cacheDir, file.sha256);
  const urls = [`${base}/${path}`];
  if (release.acquireByHash) urls.unshift(`${base}/${dirname(path)}/by-hash/SHA256/${file.sha256}`);
  for (const url of urls) {
    try {
      await downloadToFile(url, dest, { ...ctx.retry, sha256: file.sha256, size: file.size, label });
      ctx.log(`downloaded ${describeUrl(`${base}/${path}`)} (${file.size} bytes)`);
      return await readCached(ctx.cacheDir, file.sha256, file.size, check);
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 404)) throw error;
    }
  }
  return undefined;
}

/**
 * Decompresses an index in memory, stopping as soon as it passes `limit` bytes (a
 * decompression bomb never fills memory or disk).
 */
async function decompressBounded(
  label: string,
  path: string,
  compressed: Buffer,
  limit: number,
  tooLarge: () => HookError,
): Promise<Buffer> {
  let input: Readable = Readable.from([compressed]);
  if (path.endsWith('.xz')) {
    const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
    input = Readable.fromWeb(new XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
  } else if (path.endsWith('.gz')) {
    input = input.pipe(createGunzip());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) callback(tooLarge());
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(input, bound, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    });
  } catch (error) {
    if (error instanceof HookError) throw error;
    throw new HookError('E_INDEX', `Cannot decompress ${label}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return Buffer.concat(chunks, size);
}

/** Decompresses a verified index and keeps it in the cache under the digest the InRelease lists. */
async function decompressToCache(
  ctx: Context,
  label: string,
  path: string,
  compressed: Buffer,
  plain: ReleaseFile,
): Promise<Buffer> {
  const mismatch = (detail: string) =>
    new HookError(
      'E_CHECKSUM',
      `Checksum mismatch for ${label}: decompressed to ${detail}, InRelease says ${plain.size} bytes, ${plain.sha256}`,
    );
  const data = await decompressBounded(label, path, compressed, plain.size, () =>
    mismatch(`more than ${plain.size} bytes`),
  );
  const sha256 = sha256Of(data);
  if (data.length !== plain.size || sha256 !== plain.sha256) {
    throw mismatch(`${data.length} bytes with SHA-256 ${sha256}`);
  }
  await writeAtomically(casPath(ctx.cacheDir, plain.sha256), data);
  return data;
}

/** The text of one component's Packages index, or undefined when the suite does not have it. */
async function loadIndexText(
  ctx: Context,
  mirror: string,
  suite: string,
  component: string,
  release: Release,
): Promise<string | undefined> {
  const base = `${mirror}/dists/${suite}`;
  const stem = `${component}/binary-${ctx.arch}/Packages`;
  const plain = release.files.get(stem);
  if (plain) {
    const label = `index ${describeUrl(`${base}/${stem}`)}`;
    const hit = await readCached(ctx.cacheDir, plain.sha256, plain.size, { onRepair: ctx.onRepair, label });
    if (hit) return hit.toString('utf8');
  }
  for (const extension of COMPRESSIONS) {
    const path = `${stem}${extension}`;
    const file = release.files.get(path);
    if (!file) continue;
    const fetched = await fetchIndexFile(ctx, base, path, file, release);
    if (!fetched) continue;
    const label = `index ${describeUrl(`${base}/${path}`)}`;
    if (extension === '') return fetched.toString('utf8');
    if (plain) return (await decompressToCache(ctx, label, path, fetched, plain)).toString('utf8');
    const data = await decompressBounded(
      label,
      path,
      fetched,
      PACKAGES_MAX_BYTES,
      () => new HookError('E_INDEX', `${label} decompresses to more than ${PACKAGES_MAX_BYTES} bytes`),
    );
    return data.toString('utf8');
  }
  return undefined;
}

/**
 * Every binary package of every configured suite and component for `arch`, in settings
 * order (suites, then components). A component that a suite does not carry is skipped.
 */
export async function loadPackages(options: LoadPackagesOptions): Promise<BinaryPackage[]> {
  const log = options.log ?? (() => {});
  const ctx: Context = {
    ...options,
    keyring: options.keyring ?? (await loadKeyring()),
    log,
    retry: { onWait: log, ...options.retry },
  };
  const perSuite = await Promise.all(
    options.settings.suites.map(async (suite) => {
      const mirror = mirrorForSuite(options.settings, suite);
      const release = await fetchRelease(ctx, mirror, suite);
      options.onRelease?.(release, suite);
      const lists: BinaryPackage[][] = [];
      for (const component of options.settings.components) {
        const text = await loadIndexText(ctx, mirror, suite, component, release);
        if (text === undefined) {
          ctx.log(`${suite} has no ${component} packages for ${options.arch}; skipped`);
          continue;
        }
        const source = `${suite}/${component}/binary-${options.arch}/Packages`;
        lists.push(parsePackagesIndex(text, { suite, component, mirror }, source));
      }
      return lists.flat();
    }),
  );
  return perSuite.flat();
}
