/**
 * What depmod reads from one kernel module: its `.modinfo` strings, the symbols it exports and
 * the symbols it imports, in the order libkmod reads them (that order decides the order of
 * modules.dep lines).
 */

import { HookError } from '../errors.ts';
import { decompress } from '../formats/compress.ts';
import { ElfFile, latin1String, SHN_UNDEF } from '../formats/elf.ts';

export interface ModuleInfo {
  /** Path relative to `lib/modules/<ver>/`, e.g. `kernel/net/8021q/8021q.ko.xz`. */
  path: string;
  /** Module name as kmod derives it from the file name (`snd-hda.ko.xz` → `snd_hda`). */
  name: string;
  /** Every `.modinfo` key=value, in file order. */
  modinfo: Array<[key: string, value: string]>;
  aliases: string[];
  /** Module names from `depends=` (written by modpost from the imported symbols). */
  depends: string[];
  softdeps: string[];
  weakdeps: string[];
  firmware: string[];
  vermagic: string | undefined;
  /** Exported symbols (`__crc_*` symbols, else `__ksymtab_strings`), as libkmod lists them. */
  exportedSymbols: string[];
  /** Imported symbols (undefined in `.symtab`, then unmatched `__versions` entries), as libkmod lists them. */
  importedSymbols: string[];
}

const MODULE_EXTENSIONS = ['.ko', '.ko.xz', '.ko.zst', '.ko.gz'];
const CRC_PREFIX = '__crc_';
/** `struct modversion_info` on 64-bit: unsigned long crc; char name[56]. */
const MODVERSION_SIZE = 64;

export function isModulePath(path: string): boolean {
  return MODULE_EXTENSIONS.some((ext) => path.endsWith(ext));
}

/** kmod's `path_to_modname`: the basename up to its first dot, `-` turned into `_`. */
export function moduleNameFromPath(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return (dot < 0 ? base : base.slice(0, dot)).replaceAll('-', '_');
}

/** A module known by its path, with the given metadata and nothing else (tests, lazy selection). */
export function moduleInfoFor(path: string, fields: Partial<ModuleInfo> = {}): ModuleInfo {
  return {
    path,
    name: moduleNameFromPath(path),
    modinfo: [],
    aliases: [],
    depends: [],
    softdeps: [],
    weakdeps: [],
    firmware: [],
    vermagic: undefined,
    exportedSymbols: [],
    importedSymbols: [],
    ...fields,
  };
}

/** Reads a module file as shipped (`.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz`). */
export async function loadModuleInfo(path: string, fileBytes: Uint8Array): Promise<ModuleInfo> {
  if (!isModulePath(path)) throw new HookError('E_KERNEL', `Not a kernel module file name: ${path}`);
  let elf: Uint8Array;
  try {
    elf = await decompress(fileBytes);
  } catch (error) {
    throw new HookError('E_KERNEL', `Cannot decompress kernel module ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return readModuleInfo(path, elf);
}

/** Reads an uncompressed module (ELF64 little-endian). */
export function readModuleInfo(path: string, elfBytes: Uint8Array): ModuleInfo {
  const elf = new ElfFile(elfBytes, path);
  const modinfo = parseModinfo(elf.section('.modinfo') ?? new Uint8Array());
  const values = (key: string) => modinfo.filter(([k]) => k === key).map(([, v]) => v);
  const dependsValue = values('depends')[0] ?? '';
  return {
    path,
    name: moduleNameFromPath(path),
    modinfo,
    aliases: values('alias'),
    depends: dependsValue === '' ? [] : dependsValue.split(','),
    softdeps: values('softdep'),
    weakdeps: values('weakdep'),
    firmware: values('firmware'),
    vermagic: values('vermagic')[0],
    ...readSymbols(elf),
  };
}

/**
 * `.modinfo` is NUL-separated `key=value` strings (runs of NULs are padding); a string
 * without `=` is a key with an empty value, as libkmod reads it.
 */
export function parseModinfo(section: Uint8Array): Array<[string, string]> {
  return nulSeparatedStrings(section).map((text) => {
    const eq = text.indexOf('=');
    return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
  });
}

/** The non-empty strings of a NUL-separated string table. */
export function nulSeparatedStrings(section: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= section.byteLength; i++) {
    if (i < section.byteLength && section[i] !== 0) continue;
    if (i > start) out.push(latin1String(section.subarray(start, i)));
    start = i + 1;
  }
  return out;
}

function readSymbols(elf: ElfFile): Pick<ModuleInfo, 'exportedSymbols' | 'importedSymbols'> {
  const symbols = elf.symbols((shndx, strtab, at) => shndx === SHN_UNDEF || startsWithCrcPrefix(strtab, at));
  const crcExports = symbols
    .filter((s) => s.name.startsWith(CRC_PREFIX))
    .map((s) => s.name.slice(CRC_PREFIX.length));
  const exportedSymbols = crcExports.length > 0 ? crcExports : ksymtabStrings(elf);

  // kmod_elf_get_dependency_symbols: undefined symbols in table order, then the __versions
  // entries no undefined symbol matched (module_layout and the like).
  const versions = modversionNames(elf);
  const firstIndex = new Map<string, number>();
  versions.forEach((name, i) => {
    if (!firstIndex.has(name)) firstIndex.set(name, i);
  });
  const matched = new Set<number>();
  const importedSymbols: string[] = [];
  for (const s of symbols) {
    if (s.shndx !== SHN_UNDEF || s.name === '') continue;
    importedSymbols.push(s.name);
    const index = firstIndex.get(s.name);
    if (index !== undefined) matched.add(index);
  }
  versions.forEach((name, i) => {
    if (!matched.has(i)) importedSymbols.push(name);
  });
  return { exportedSymbols, importedSymbols };
}

const CRC_PREFIX_BYTES = [...CRC_PREFIX].map((c) => c.charCodeAt(0));

function startsWithCrcPrefix(strtab: Uint8Array, at: number): boolean {
  return CRC_PREFIX_BYTES.every((b, i) => strtab[at + i] === b);
}

function ksymtabStrings(elf: ElfFile): string[] {
  const section = elf.section('__ksymtab_strings');
  return section === undefined ? [] : nulSeparatedStrings(section);
}

function modversionNames(elf: ElfFile): string[] {
  const section = elf.section('__versions');
  if (section === undefined || section.byteLength % MODVERSION_SIZE !== 0) return [];
  const names: string[] = [];
  for (let off = 0; off < section.byteLength; off += MODVERSION_SIZE) {
    const name = section.subarray(off + 8, off + MODVERSION_SIZE);
    const end = name.indexOf(0);
    names.push(latin1String(end < 0 ? name : name.subarray(0, end)));
  }
  return names;
}
