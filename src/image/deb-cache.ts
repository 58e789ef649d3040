/**
 * Decompressing a `.deb`'s data.tar.xz is the slowest step of a build, so the decompressed
 * control and data tars are cached next to the verified `.deb` (keyed by its SHA-256). A warm
 * build parses plain tar from the cache; a cache entry that does not parse is rebuilt.
 * `prefetchDebs` starts the unpacking of many packages at once (the host's `xz` runs one
 * process per core); `readDebCached` then takes each package's result in whatever order the
 * caller wants, so install order does not depend on which decompression ends first.
 */
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Deb, debFromTars, unpackDeb } from '../debian/deb.ts';
import { recordOrigin } from './content-origin.ts';

export interface DebRef {
  sha256: string;
  /** The verified `.deb` in the download cache. */
  debPath: string;
  /** Names the package in error messages. */
  source: string;
}

interface Tars {
  controlTar: Uint8Array;
  dataTar: Uint8Array;
}

/** Unpacks started by prefetchDebs, by cache directory and package SHA-256. */
const inFlight = new Map<string, Promise<Tars>>();

/**
 * Starts reading (or unpacking into the cache) every package, largest first so the long
 * decompressions overlap the short ones. Errors surface from readDebCached.
 */
export function prefetchDebs(cacheDir: string, refs: ReadonlyArray<DebRef & { size?: number }>): void {
  const order = [...refs].sort((a, b) => (b.size ?? 0) - (a.size ?? 0));
  for (const ref of order) {
    const key = `${cacheDir}\0${ref.sha256}`;
    if (inFlight.has(key)) continue;
    const pending = cachedTars(cacheDir, ref);
    pending.catch(() => {}); // handled by the readDebCached that takes it
    inFlight.set(key, pending);
  }
}

export async function readDebCached(
  cacheDir: string,
  sha256: string,
  debPath: string,
  source: string,
): Promise<Deb> {
  const key = `${cacheDir}\0${sha256}`;
  const pending = inFlight.get(key);
  inFlight.delete(key);
  const ref = { sha256, debPath, source };
  const tars = await (pending ?? cachedTars(cacheDir, ref));
  try {
    return toDeb(tars, ref);
  } catch (error) {
    // A damaged cache entry: unpack the verified .deb again (that one must parse).
    if (!('fresh' in tars)) return toDeb(await unpackIntoCache(cacheDir, ref), ref);
    throw error;
  }
}

function toDeb(tars: Tars, ref: DebRef): Deb {
  const deb = debFromTars(tars.controlTar, tars.dataTar, ref.source);
  recordOrigin(tars.dataTar, `deb:${ref.sha256}`);
  return deb;
}

function cachePaths(cacheDir: string, sha256: string): { dir: string; control: string; data: string } {
  const dir = join(cacheDir, 'unpacked', sha256.slice(0, 2));
  return { dir, control: join(dir, `${sha256}.control.tar`), data: join(dir, `${sha256}.data.tar`) };
}

/** The cached tars when both are there, else the package unpacked into the cache. */
async function cachedTars(cacheDir: string, ref: DebRef): Promise<Tars> {
  const paths = cachePaths(cacheDir, ref.sha256);
  const [controlTar, dataTar] = await Promise.all([readWhole(paths.control), readWhole(paths.data)]);
  if (controlTar && dataTar) return { controlTar, dataTar };
  return await unpackIntoCache(cacheDir, ref);
}

/** Decompresses the `.deb` and writes its tars into the cache atomically (temp + rename). */
async function unpackIntoCache(cacheDir: string, ref: DebRef): Promise<Tars & { fresh: true }> {
  const tars = await unpackDeb(await readFile(ref.debPath), ref.source);
  const paths = cachePaths(cacheDir, ref.sha256);
  await mkdir(paths.dir, { recursive: true });
  const tmp = `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(paths.control + tmp, tars.controlTar);
    await writeFile(paths.data + tmp, tars.dataTar);
    await rename(paths.control + tmp, paths.control);
    await rename(paths.data + tmp, paths.data);
  } finally {
    await rm(paths.control + tmp, { force: true });
    await rm(paths.data + tmp, { force: true });
  }
  return { ...tars, fresh: true };
}

/**
 * A whole file in one buffer of its own (not a pooled slab, so content origins stay exact),
 * with as few reads as the kernel allows; undefined when it cannot be read.
 */
async function readWhole(path: string): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const buf = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) return undefined; // shrank while reading
      filled += bytesRead;
    }
    return buf;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
