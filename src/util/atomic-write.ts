/**
 * Replacing a file so that a reader (or a crash) sees the old one or the new one, never a
 * half-written one: write a temporary file in the same directory, then rename(2) it over the
 * target. The one implementation, for caches, downloads, OCI layouts and published outputs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh hidden name beside `path`, unique to this process and call. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Runs `write` on a temporary path beside `path` (a file, a symlink, a stream: anything that
 * creates it), then renames it over `path`. On failure the temporary path is removed and the
 * old `path`, if any, is left as it was.
 */
export async function replaceAtomically<T>(path: string, write: (temp: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    const result = await write(temp);
    await rename(temp, path);
    return result;
  } catch (error) {
    await rm(temp, { force: true, recursive: true });
    throw error;
  }
}

/** Writes `data` (bytes, text, or pieces written in order without a copy) to `path` atomically. */
export async function writeAtomically(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
): Promise<void> {
  const pieces = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data;
  await replaceAtomically(path, async (temp) => {
    const handle = await open(temp, 'wx');
    try {
      // writev takes at most IOV_MAX (1024) buffers per call.
      for (let i = 0; i < pieces.length; i += 256)
        await handle.writev(pieces.slice(i, i + 256) as Uint8Array[]);
    } finally {
      await handle.close();
    }
  });
}
