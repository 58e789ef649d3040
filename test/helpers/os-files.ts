/**
 * The files of a built OS, read back from its initramfs (every payload segment decompressed
 * and read as cpio), for tests that check what a spec put into the image.
 */
import { readFile } from 'node:fs/promises';
import type { CpioEntry } from '../../src/formats/cpio.ts';
import { osEntries, readInitramfs } from '../../src/pipeline/initramfs/early-boot.ts';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/**
 * Path (without a leading "/") → entry, over everything /init puts into the OS: the payloads'
 * entries, files stored as payloads of their own, and the files handed over from the early
 * archive.
 */
export async function osFiles(path: string): Promise<Map<string, CpioEntry>> {
  const entries = new Map<string, CpioEntry>();
  for (const entry of await osEntries(await readInitramfs(await readFile(path)))) {
    // A hard-link group carries its data once, on one of its names: keep the entry with data.
    const known = entries.get(entry.name);
    if (known === undefined || known.data.byteLength === 0) entries.set(entry.name, entry);
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
