/**
 * Decompressing a `.deb`'s data.tar.xz is the slowest step of a build, so the decompressed
 * control and data tars are cached next to the verified `.deb` (keyed by its SHA-256). A warm
 * build parses plain tar from the cache; a cache entry that does not parse is rebuilt.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Deb, debFromTars, unpackDeb } from '../debian/deb.ts';

export async function readDebCached(
  cacheDir: string,
  sha256: string,
  debPath: string,
  source: string,
): Promise<Deb> {
  const dir = join(cacheDir, 'unpacked', sha256.slice(0, 2));
  const controlPath = join(dir, `${sha256}.control.tar`);
  const dataPath = join(dir, `${sha256}.data.tar`);
  const [controlTar, dataTar] = await Promise.all([
    readFile(controlPath).catch(() => undefined),
    readFile(dataPath).catch(() => undefined),
  ]);
  if (controlTar && dataTar) {
    try {
      return debFromTars(controlTar, dataTar, source);
    } catch {
      // A damaged cache entry: fall through and unpack the verified .deb again.
    }
  }
  const tars = await unpackDeb(await readFile(debPath), source);
  await mkdir(dir, { recursive: true });
  const tmp = `.${process.pid}.tmp`;
  try {
    await writeFile(controlPath + tmp, tars.controlTar);
    await writeFile(dataPath + tmp, tars.dataTar);
    await rename(controlPath + tmp, controlPath);
    await rename(dataPath + tmp, dataPath);
  } finally {
    await rm(controlPath + tmp, { force: true });
    await rm(dataPath + tmp, { force: true });
  }
  return debFromTars(tars.controlTar, tars.dataTar, source);
}
