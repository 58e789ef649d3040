/**
 * The files of a built OS, read back from its initramfs (every payload segment decompressed
 * and read as cpio), for tests that check what a spec put into the image.
 */
import { readFile } from 'node:fs/promises';
import type { CpioEntry } from '../../src/formats/cpio.ts';
import { ElfFile } from '../../src/formats/elf.ts';
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

/**
 * Every ELF file of the OS whose DT_NEEDED libraries are not all there, as
 * `/usr/sbin/prog: libfoo.so.1`: the dynamic loader would refuse to start it. A library counts
 * as present when a file or symlink of that name is anywhere under usr/lib (RUNPATH folders
 * such as usr/lib/<triplet>/systemd included). What `omit:` and `exclude:` must never break.
 */
export function unresolvedLibraries(files: Map<string, CpioEntry>): string[] {
  const names = new Set<string>();
  for (const path of files.keys()) {
    if (path.startsWith('usr/lib/')) names.add(path.slice(path.lastIndexOf('/') + 1));
  }
  const missing: string[] = [];
  for (const [path, entry] of files) {
    if ((entry.mode & S_IFMT) !== S_IFREG || entry.data.byteLength < 64) continue;
    // The OS's own programs (merged /usr), not the files of embedded container images.
    if (!path.startsWith('usr/') || path.includes('/modules/') || !isElf(entry.data)) continue;
    let needed: string[];
    try {
      needed = new ElfFile(entry.data, `/${path}`, { what: 'program' }).neededLibraries();
    } catch {
      continue; // not an object the loader would map (firmware, data)
    }
    for (const library of needed) if (!names.has(library)) missing.push(`/${path}: ${library}`);
  }
  return missing.sort();
}

function isElf(data: Uint8Array): boolean {
  return data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}
