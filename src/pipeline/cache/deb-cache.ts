/**
 * Decompressing a `.deb`'s data.tar.xz is the slowest step of a build, so the decompressed
 * control and data tars are cached next to the verified `.deb` (keyed by its SHA-256), in one
 * sealed file (see cache.ts) that records the SHA-256 of its content. A warm build hashes the
 * entry as it reads it (~440 MB for the default spec: ~0.26 s at the 1.7 GB/s SHA-256 runs
 * here) and parses plain tar; a damaged entry is reported, deleted and unpacked again from
 * the `.deb`, whose own bytes are checked against its SHA-256 before they are unpacked.
 * The check matters beyond integrity: segment cache keys name package contents by
 * (package SHA-256, offset), trusting that the tar is a pure function of the `.deb`.
 * `prefetchDebs` starts the unpacking of many packages at once (the host's `xz` runs one
 * process per core); `readDebCached` then takes each package's result in whatever order the
 * caller wants, so install order does not depend on which decompression ends first.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type RepairReporter, readSealed, sha256Of, writeSealed } from '../../debian/cache.ts';
import { type Deb, debFromTars, unpackDeb } from '../../debian/deb.ts';
import { HookError } from '../../errors.ts';
import { recordOrigin } from './content-origin.ts';

export interface DebRef {
  sha256: string;
  /** The verified `.deb` in the download cache. */
  debPath: string;
  /** Names the package in error messages. */
  source: string;
}

export interface DebCacheOptions {
  /** Told about each damaged cache entry that was deleted and unpacked again (default: none). */
  onRepair?: RepairReporter | undefined;
}

interface Tars {
  controlTar: Uint8Array;
  dataTar: Uint8Array;
}

/** What a sealed unpacked entry records besides its content: where control ends. */
interface UnpackedMeta {
  deb: string;
  controlBytes: number;
}

/** Unpacks started by prefetchDebs, by cache directory and package SHA-256. */
const inFlight = new Map<string, Promise<Tars>>();

/**
 * Starts reading (or unpacking into the cache) every package, largest first so the long
 * decompressions overlap the short ones. Errors surface from readDebCached. A read left
 * from an earlier prefetch (a package that build never took, in the same process) is
 * replaced: every build checks the entries it uses again.
 */
export function prefetchDebs(
  cacheDir: string,
  refs: ReadonlyArray<DebRef & { size?: number }>,
  options: DebCacheOptions = {},
): void {
  const order = [...refs].sort((a, b) => (b.size ?? 0) - (a.size ?? 0));
  for (const ref of order) {
    const key = `${cacheDir}\0${ref.sha256}`;
    const pending = cachedTars(cacheDir, ref, options);
    pending.catch(() => {}); // handled by the readDebCached that takes it
    inFlight.set(key, pending);
  }
}

export async function readDebCached(
  cacheDir: string,
  sha256: string,
  debPath: string,
  source: string,
  options: DebCacheOptions = {},
): Promise<Deb> {
  const key = `${cacheDir}\0${sha256}`;
  const pending = inFlight.get(key);
  inFlight.delete(key);
  const ref = { sha256, debPath, source };
  const tars = await (pending ?? cachedTars(cacheDir, ref, options));
  try {
    return toDeb(tars, ref);
  } catch (error) {
    if ('fresh' in tars) throw error;
    // Intact as written but not parseable (written by a faulty version): unpack again.
    options.onRepair?.(
      `cache entry for unpacked ${source} does not parse (${(error as Error).message}); unpacking it again`,
    );
    return toDeb(await unpackIntoCache(cacheDir, ref), ref);
  }
}

function toDeb(tars: Tars, ref: DebRef): Deb {
  const deb = debFromTars(tars.controlTar, tars.dataTar, ref.source);
  recordOrigin(tars.dataTar, `deb:${ref.sha256}`);
  return deb;
}

function entryPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'unpacked', sha256.slice(0, 2), `${sha256}.tars`);
}

/** The cached tars when the entry is there and intact, else the package unpacked into the cache. */
async function cachedTars(cacheDir: string, ref: DebRef, options: DebCacheOptions): Promise<Tars> {
  const entry = await readSealed<UnpackedMeta>(entryPath(cacheDir, ref.sha256), {
    onRepair: options.onRepair,
    label: `unpacked ${ref.source}`,
    checkMeta: (meta, payload): meta is UnpackedMeta => {
      const m = meta as Partial<UnpackedMeta> | null;
      return (
        m?.deb === ref.sha256 &&
        Number.isSafeInteger(m.controlBytes) &&
        (m.controlBytes as number) >= 0 &&
        (m.controlBytes as number) <= payload.length
      );
    },
  });
  if (entry === undefined) return await unpackIntoCache(cacheDir, ref);
  const { controlBytes } = entry.meta;
  return {
    controlTar: entry.payload.subarray(0, controlBytes),
    dataTar: entry.payload.subarray(controlBytes),
  };
}

/** Decompresses the `.deb` (its bytes checked first) and writes its tars into the cache atomically. */
async function unpackIntoCache(cacheDir: string, ref: DebRef): Promise<Tars & { fresh: true }> {
  const debBytes = await readFile(ref.debPath);
  const actual = sha256Of(debBytes);
  if (actual !== ref.sha256) {
    // Verified by the fetch stage moments ago, so changed since: never unpack it.
    await rm(ref.debPath, { force: true });
    throw new HookError(
      'E_CHECKSUM',
      `Checksum mismatch for ${ref.source} in the cache (${ref.debPath}): SHA-256 is ${actual}, expected ${ref.sha256}; deleted`,
      {
        hint: 'Something changed the download cache during the build; run the build again to download it anew',
      },
    );
  }
  const tars = await unpackDeb(debBytes, ref.source);
  const path = entryPath(cacheDir, ref.sha256);
  const meta: UnpackedMeta = { deb: ref.sha256, controlBytes: tars.controlTar.byteLength };
  await writeSealed(path, meta, [tars.controlTar, tars.dataTar]);
  // The two unsealed files of older versions, if any: never read again.
  const legacy = join(cacheDir, 'unpacked', ref.sha256.slice(0, 2), ref.sha256);
  await Promise.all([
    rm(`${legacy}.control.tar`, { force: true }),
    rm(`${legacy}.data.tar`, { force: true }),
  ]);
  return { ...tars, fresh: true };
}
