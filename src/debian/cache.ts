/**
 * Content-addressed download cache: `<cache>/sha256/<aa>/<hex>`. An entry is trusted only
 * when its size and SHA-256 match its name. Hashing a large file on every look-up is slow, so
 * a side record `<hex>.verified` remembers the size and mtime at which the hash was last
 * checked; the file is hashed again only when those change.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { HookError } from '../errors.ts';

const HEX64 = /^[0-9a-f]{64}$/;

/** `HOOK_CACHE_DIR`, else `$XDG_CACHE_HOME/hook`, else `~/.cache/hook`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HOOK_CACHE_DIR) return env.HOOK_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'hook');
  return join(homedir(), '.cache', 'hook');
}

function checkHash(sha256: string): string {
  const hex = sha256.toLowerCase();
  if (!HEX64.test(hex)) throw new HookError('E_IO', `Not a SHA-256 digest: "${sha256}"`);
  return hex;
}

/** Where the entry for `sha256` lives (whether or not it exists). */
export function casPath(cacheDir: string, sha256: string): string {
  const hex = checkHash(sha256);
  return join(cacheDir, 'sha256', hex.slice(0, 2), hex);
}

function recordPath(path: string): string {
  return `${path}.verified`;
}

interface VerifiedRecord {
  size: number;
  mtimeNs: string;
  sha256: string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function statBig(path: string) {
  try {
    return await stat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

async function readRecord(path: string): Promise<VerifiedRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(path), 'utf8')) as VerifiedRecord;
  } catch {
    return undefined;
  }
}

/** Notes that the file at `path` was verified to have `sha256`, at its current size and mtime. */
export async function recordVerified(path: string, sha256: string): Promise<void> {
  const info = await stat(path, { bigint: true });
  const record: VerifiedRecord = { size: Number(info.size), mtimeNs: info.mtimeNs.toString(), sha256 };
  await writeAtomically(recordPath(path), Buffer.from(JSON.stringify(record)));
}

async function removeEntry(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(recordPath(path), { force: true });
}

/**
 * The path of the cached entry for `sha256`, or undefined when it is missing. An entry whose
 * size (when `size` is given) or SHA-256 does not match is deleted and reported missing.
 */
export async function cachedPath(
  cacheDir: string,
  sha256: string,
  size?: number,
): Promise<string | undefined> {
  const hex = checkHash(sha256);
  const path = casPath(cacheDir, hex);
  const info = await statBig(path);
  if (!info?.isFile()) return undefined;
  if (size !== undefined && Number(info.size) !== size) {
    await removeEntry(path);
    return undefined;
  }
  const record = await readRecord(path);
  if (
    record &&
    record.sha256 === hex &&
    record.size === Number(info.size) &&
    record.mtimeNs === info.mtimeNs.toString()
  ) {
    return path;
  }
  if ((await sha256File(path)) !== hex) {
    await removeEntry(path);
    return undefined;
  }
  await recordVerified(path, hex);
  return path;
}

/** Writes `data` to `path` through a temporary file in the same directory and a rename. */
export async function writeAtomically(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Stores `data` in the cache under its SHA-256 and returns the digest and path. */
export async function putBuffer(cacheDir: string, data: Buffer): Promise<{ sha256: string; path: string }> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const path = casPath(cacheDir, sha256);
  if ((await cachedPath(cacheDir, sha256, data.length)) === undefined) {
    await writeAtomically(path, data);
    await recordVerified(path, sha256);
  }
  return { sha256, path };
}
