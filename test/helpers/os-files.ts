/**
 * The files of a built OS, read back from its initramfs (every payload segment decompressed
 * and read as cpio), for tests that check what a spec put into the image.
 */
import { readFile } from 'node:fs/promises';
import { readInitramfs } from '../../src/build/initramfs/early-boot.ts';
import { decompress } from '../../src/formats/compress.ts';
import { type CpioEntry, readCpio } from '../../src/formats/cpio.ts';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** Path (without a leading "/") → entry, over all payloads of the initramfs at `path`. */
export async function osFiles(path: string): Promise<Map<string, CpioEntry>> {
  const { payloads } = await readInitramfs(await readFile(path));
  const entries = new Map<string, CpioEntry>();
  for (const payload of payloads) {
    for (const entry of readCpio(await decompress(payload.compressed))) {
      // A hard-link group carries its data once, on one of its names: keep the entry with data.
      const known = entries.get(entry.name);
      if (known === undefined || known.data.byteLength === 0) entries.set(entry.name, entry);
    }
  }
  return entries;
}

/** The text of a regular file of the OS, or undefined. */
export function osText(files: Map<string, CpioEntry>, path: string): string | undefined {
  const entry = files.get(path);
  if (entry === undefined || (entry.mode & S_IFMT) !== S_IFREG) return undefined;
  return new TextDecoder().decode(entry.data);
}

/** The target of a symlink of the OS, or undefined. */
export function osLink(files: Map<string, CpioEntry>, path: string): string | undefined {
  const entry = files.get(path);
  if (entry === undefined || (entry.mode & S_IFMT) !== S_IFLNK) return undefined;
  return new TextDecoder().decode(entry.data);
}
