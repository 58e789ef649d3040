/**
 * Loads the binary package indexes of the configured suites and components: the signed
 * InRelease of each suite (fetched fresh, verified), then each `Packages` index verified
 * against the SHA-256 the InRelease lists. Indexes are kept in the content-addressed cache
 * both compressed and uncompressed (the latter is also listed, with its SHA-256, in the
 * InRelease), so a warm run neither downloads nor decompresses.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import xz from 'xz-decompress';
import type { DebianArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { cachedPath, casPath, recordVerified, writeAtomically } from './cache.ts';
import { describeUrl, downloadToFile, HttpError, httpGet, type RetryOptions } from './http.ts';
import { type Keyring, loadKeyring, type Release, type ReleaseFile, verifyInRelease } from './inrelease.ts';
import { parsePackagesIndex } from './packages-index.ts';
import { sha256Meter } from './sha256-meter.ts';
import { isSecuritySuite } from './sources.ts';
import type { ArchiveSettings, BinaryPackage } from './types.ts';

const { XzReadableStream } = xz;

export interface LoadPackagesOptions {
  settings: ArchiveSettings;
  arch: DebianArch;
  cacheDir: string;
  log?: (message: string) => void;
  /** Defaults to the committed Debian archive keyring. */
  keyring?: Keyring;
  /** Time for Valid-Until checks (default: now). */
  now?: Date;
  retry?: RetryOptions;
  /** Called with each verified release (the build takes SOURCE_DATE_EPOCH from their dates). */
  onRelease?: (release: Release, suite: string) => void;
}

interface Context extends LoadPackagesOptions {
  keyring: Keyring;
  log: (message: string) => void;
}

const COMPRESSIONS = ['.xz', '.gz', ''] as const;

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
 * verified copy is used instead if it still verifies (signature and Valid-Until).
 */
export async function fetchRelease(ctx: Context, mirror: string, suite: string): Promise<Release> {
  const url = `${mirror}/dists/${suite}/InRelease`;
  const source = `${suite} (${describeUrl(url)})`;
  const keep = lastGoodPath(ctx.cacheDir, mirror, suite);
  const verifyOptions = { source, ...(ctx.now ? { now: ctx.now } : {}) };
  let text: string;
  try {
    text = (await httpGet(url, ctx.retry)).toString('utf8');
  } catch (error) {
    const offline = error instanceof HttpError && error.status === undefined;
    const kept = offline ? await readFile(keep, 'utf8').catch(() => undefined) : undefined;
    if (kept === undefined) throw error;
    ctx.log(`warning: ${(error as Error).message}; using the InRelease of ${suite} verified earlier`);
    return checkSuite(await verifyInRelease(kept, ctx.keyring, verifyOptions), suite, source);
  }
  const release = checkSuite(await verifyInRelease(text, ctx.keyring, verifyOptions), suite, source);
  await writeAtomically(keep, text);
  return release;
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

/** Gets an index file into the cache, verified; by-hash URL first when the archive offers it. */
async function fetchIndexFile(
  ctx: Context,
  base: string,
  path: string,
  file: ReleaseFile,
  release: Release,
): Promise<string | undefined> {
  const hit = await cachedPath(ctx.cacheDir, file.sha256, file.size);
  if (hit) return hit;
  const dest = casPath(ctx.cacheDir, file.sha256);
  const label = `index ${describeUrl(`${base}/${path}`)}`;
  const urls = [`${base}/${path}`];
  if (release.acquireByHash) urls.unshift(`${base}/${dirname(path)}/by-hash/SHA256/${file.sha256}`);
  for (const url of urls) {
    try {
      await downloadToFile(url, dest, { ...ctx.retry, sha256: file.sha256, size: file.size, label });
      await recordVerified(dest, file.sha256);
      ctx.log(`downloaded ${describeUrl(`${base}/${path}`)} (${file.size} bytes)`);
      return dest;
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 404)) throw error;
    }
  }
  return undefined;
}

function decompressor(path: string, compressedFile: string): Readable {
  const input = createReadStream(compressedFile);
  if (path.endsWith('.xz')) {
    const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
    return Readable.fromWeb(new XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
  }
  if (path.endsWith('.gz')) return input.pipe(createGunzip());
  return input;
}

/** Decompresses a cached index into the cache under the uncompressed digest the InRelease lists. */
async function decompressToCache(
  ctx: Context,
  label: string,
  path: string,
  compressedFile: string,
  plain: ReleaseFile,
): Promise<string> {
  const dest = casPath(ctx.cacheDir, plain.sha256);
  await mkdir(dirname(dest), { recursive: true });
  const temp = `${dest}.tmp-${process.pid}-${Date.now()}`;
  const meter = sha256Meter();
  try {
    try {
      await pipeline(
        decompressor(path, compressedFile),
        meter.stream,
        createWriteStream(temp, { flags: 'wx' }),
      );
    } catch (error) {
      throw new HookError('E_INDEX', `Cannot decompress ${label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const sha256 = meter.digest();
    const size = meter.size();
    if (size !== plain.size || sha256 !== plain.sha256) {
      throw new HookError(
        'E_CHECKSUM',
        `Checksum mismatch for ${label}: decompressed to ${size} bytes with SHA-256 ${sha256}, InRelease says ${plain.size} bytes, ${plain.sha256}`,
      );
    }
    await rename(temp, dest);
    await recordVerified(dest, plain.sha256);
    return dest;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function decompressToText(path: string, compressedFile: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of decompressor(path, compressedFile)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
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
    const hit = await cachedPath(ctx.cacheDir, plain.sha256, plain.size);
    if (hit) return readFile(hit, 'utf8');
  }
  for (const extension of COMPRESSIONS) {
    const path = `${stem}${extension}`;
    const file = release.files.get(path);
    if (!file) continue;
    const fetched = await fetchIndexFile(ctx, base, path, file, release);
    if (!fetched) continue;
    const label = `index ${describeUrl(`${base}/${path}`)}`;
    if (extension === '') return readFile(fetched, 'utf8');
    if (plain) return readFile(await decompressToCache(ctx, label, path, fetched, plain), 'utf8');
    return decompressToText(path, fetched);
  }
  return undefined;
}

/**
 * Every binary package of every configured suite and component for `arch`, in settings
 * order (suites, then components). A component that a suite does not carry is skipped.
 */
export async function loadPackages(options: LoadPackagesOptions): Promise<BinaryPackage[]> {
  const ctx: Context = {
    ...options,
    keyring: options.keyring ?? (await loadKeyring()),
    log: options.log ?? (() => {}),
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
