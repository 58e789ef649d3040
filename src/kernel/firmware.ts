/**
 * Firmware files the selected modules may request (`firmware=` in their modinfo), matched
 * against what the firmware packages ship under lib/firmware.
 */
import picomatch from 'picomatch';
import type { ModuleInfo } from './modinfo.ts';

/** Every `firmware=` name of `modules`, sorted and without duplicates. */
export function firmwareNeeded(modules: ModuleInfo[]): string[] {
  const names = new Set(modules.flatMap((m) => m.firmware));
  return [...names].sort();
}

/** Compressed firmware files as Debian may ship them; the kernel looks for these too. */
const FIRMWARE_SUFFIXES = ['', '.xz', '.zst'];

/**
 * The files of `available` (paths relative to lib/firmware) to include: those a module names
 * (exactly, or compressed as `.xz`/`.zst`; a `firmware=` entry may itself be a glob, as some
 * drivers list families of files) and those matching one of `extraGlobs`. Sorted, unique.
 */
export function selectFirmwareFiles(available: string[], needed: string[], extraGlobs: string[]): string[] {
  const wanted = new Set<string>();
  const globs: string[] = [...extraGlobs];
  for (const name of needed) {
    if (picomatch.scan(name).isGlob)
      globs.push(name, ...FIRMWARE_SUFFIXES.slice(1).map((s) => `${name}${s}`));
    else for (const suffix of FIRMWARE_SUFFIXES) wanted.add(`${name}${suffix}`);
  }
  const matchesGlob = globs.length > 0 ? picomatch(globs, { dot: true }) : () => false;
  const chosen = available.filter((path) => wanted.has(path) || matchesGlob(path));
  return [...new Set(chosen)].sort();
}
