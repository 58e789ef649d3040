/**
 * The files `depmod -b <root> <ver>` writes into lib/modules/<ver>/, computed from the modules'
 * metadata alone, byte for byte as kmod's depmod (tools/depmod.c) writes them: the text files
 * and the binary indexes libkmod (modprobe, udev) looks modules up in.
 *
 * What decides the bytes, as in depmod:
 * - module order: modules.order first, the rest in the iteration order of depmod's
 *   module-name hash table; a module's `idx` in that order is its index priority;
 * - dependencies: from imported symbols resolved against exported ones, topologically
 *   sorted the way depmod sorts them;
 * - modules.symbols: in the iteration order of depmod's symbol hash table.
 */
import { HookError } from '../errors.ts';
import { KmodIndexBuilder } from './kmod-index.ts';
import type { ModuleInfo } from './modinfo.ts';

export interface KernelModuleFile {
  /** Relative to lib/modules/<ver>/, e.g. `kernel/net/8021q/8021q.ko.xz`. */
  path: string;
  info: ModuleInfo;
}

/** Files the kernel package ships beside the modules. */
export interface KernelBuiltinData {
  modulesBuiltin: string;
  modulesBuiltinModinfo: Uint8Array;
  /** modules.order; without it, module order is depmod's hash order (as depmod without one). */
  modulesOrder?: string;
}

/** What generateDepmod writes, in depmod's order, then the files copied or filtered from the package. */
export const DEPMOD_FILES = [
  'modules.dep',
  'modules.dep.bin',
  'modules.alias',
  'modules.alias.bin',
  'modules.softdep',
  'modules.weakdep',
  'modules.symbols',
  'modules.symbols.bin',
  'modules.builtin.bin',
  'modules.builtin.alias.bin',
  'modules.devname',
  'modules.builtin',
  'modules.builtin.modinfo',
  'modules.order',
] as const;

interface Mod {
  path: string;
  name: string;
  info: ModuleInfo;
  idx: number;
  deps: Mod[];
  users: number;
  depSortIdx: number;
}

const MODULES_BY_NAME_BUCKETS = 512;
const SYMBOLS_BUCKETS = 2048;
/** Symbols the kernel loader or an architecture provides; depmod registers them without owner. */
const FAKE_SYMBOLS = ['__this_module', '_GLOBAL_OFFSET_TABLE_', 'TOC.'];

export function generateDepmod(
  modules: KernelModuleFile[],
  builtin: KernelBuiltinData,
  kernelVersion: string,
): Map<string, Uint8Array> {
  checkVermagic(modules, kernelVersion);
  const mods = orderModules(modules, builtin.modulesOrder);
  const symbols = exportedSymbolOwners(mods);
  resolveDependencies(mods, symbols);
  sortTopologically(mods);

  const files = new Map<string, Uint8Array>();
  const text = (name: string, content: string) => files.set(name, Buffer.from(content, 'latin1'));
  text('modules.dep', modulesDep(mods));
  files.set('modules.dep.bin', modulesDepBin(mods));
  text('modules.alias', modinfoLines(mods, 'alias', '# Aliases extracted from modules themselves.\n'));
  files.set('modules.alias.bin', modulesAliasBin(mods));
  text(
    'modules.softdep',
    modinfoLines(mods, 'softdep', '# Soft dependencies extracted from modules themselves.\n'),
  );
  text(
    'modules.weakdep',
    modinfoLines(mods, 'weakdep', '# Weak dependencies extracted from modules themselves.\n'),
  );
  text('modules.symbols', modulesSymbols(symbols));
  files.set('modules.symbols.bin', modulesSymbolsBin(symbols));
  files.set('modules.builtin.bin', modulesBuiltinBin(builtin.modulesBuiltin));
  files.set('modules.builtin.alias.bin', modulesBuiltinAliasBin(builtin.modulesBuiltinModinfo));
  text('modules.devname', modulesDevname(mods));
  text('modules.builtin', builtin.modulesBuiltin);
  files.set('modules.builtin.modinfo', builtin.modulesBuiltinModinfo);
  text('modules.order', filteredOrder(mods, builtin.modulesOrder));
  return files;
}

function checkVermagic(modules: KernelModuleFile[], kernelVersion: string): void {
  for (const { path, info } of modules) {
    if (info.vermagic !== undefined && info.vermagic.split(' ')[0] !== kernelVersion) {
      throw new HookError(
        'E_KERNEL',
        `Module ${path} was built for kernel ${info.vermagic.split(' ')[0]}, not ${kernelVersion}`,
        {
          hint: 'Take the modules from the same kernel package as the kernel image.',
        },
      );
    }
  }
}

/** depmod's module array: modules.order first (in its order), the others in name-hash order. */
function orderModules(modules: KernelModuleFile[], modulesOrder: string | undefined): Mod[] {
  const byName = new Map<string, Mod>();
  for (const { path, info } of modules) {
    const name = info.name;
    const existing = byName.get(name);
    if (existing !== undefined) {
      throw new HookError('E_KERNEL', `Two modules are named ${name}: ${existing.path} and ${path}`);
    }
    byName.set(name, { path, name, info, idx: 0, deps: [], users: 0, depSortIdx: Number.MAX_SAFE_INTEGER });
  }
  const hashOrdered = kmodHashOrder([...byName.values()], (m) => m.name, MODULES_BY_NAME_BUCKETS);

  const rank = new Map<Mod, number>();
  if (modulesOrder !== undefined) {
    const byUncompressedPath = new Map(hashOrdered.map((m) => [uncompressedPath(m.path), m]));
    for (const line of modulesOrder.split('\n')) {
      const mod = byUncompressedPath.get(line);
      if (mod !== undefined && !rank.has(mod)) rank.set(mod, rank.size);
    }
  }
  const listed = hashOrdered
    .filter((m) => rank.has(m))
    .sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
  const ordered = [...listed, ...hashOrdered.filter((m) => !rank.has(m))];
  ordered.forEach((m, i) => {
    m.idx = i;
  });
  return ordered;
}

/** `kernel/a/b.ko.xz` → `kernel/a/b.ko`, the form modules.order lists. */
function uncompressedPath(path: string): string {
  const at = path.lastIndexOf('.ko');
  return at < 0 ? path : path.slice(0, at + 3);
}

/** Exported symbol → owning module; a later module in depmod's order wins, as in depmod's hash. */
function exportedSymbolOwners(mods: Mod[]): Map<string, Mod | null> {
  const owners = new Map<string, Mod | null>();
  for (const name of FAKE_SYMBOLS) owners.set(name, null);
  for (const mod of mods) {
    for (const symbol of mod.info.exportedSymbols) owners.set(symbol, mod);
  }
  return owners;
}

function resolveDependencies(mods: Mod[], owners: Map<string, Mod | null>): void {
  for (const mod of mods) {
    for (const imported of mod.info.importedSymbols) {
      const owner = owners.get(imported.startsWith('.') ? imported.slice(1) : imported);
      if (owner == null || mod.deps.includes(owner)) continue;
      mod.deps.push(owner);
      owner.users++;
    }
  }
}

/** depmod_calculate_dependencies: modules without users first, a stack of ready modules. */
function sortTopologically(mods: Mod[]): void {
  const users = mods.map((m) => m.users);
  const ready: number[] = [];
  mods.forEach((_, i) => {
    if (users[i] === 0) ready.push(i);
  });
  let sorted = 0;
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    const mod = mods[i] as Mod;
    mod.depSortIdx = sorted++;
    for (const dep of mod.deps) {
      const left = (users[dep.idx] as number) - 1;
      users[dep.idx] = left;
      if (left === 0) ready.push(dep.idx);
    }
  }
  if (sorted < mods.length) {
    const inCycle = mods.filter((m) => (users[m.idx] as number) > 0).map((m) => m.name);
    throw new HookError('E_KERNEL', `Kernel modules depend on each other in a cycle: ${inCycle.join(', ')}`);
  }
}

/** Every module `mod` needs, directly or not, ordered as depmod orders them. */
function allDependencies(mod: Mod): Mod[] {
  const seen = new Set<Mod>();
  const visit = (m: Mod) => {
    for (const dep of m.deps) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      visit(dep);
    }
  };
  visit(mod);
  return [...seen].sort((a, b) => a.depSortIdx - b.depSortIdx);
}

function depLine(mod: Mod): string {
  return `${mod.path}:${allDependencies(mod)
    .map((d) => ` ${d.path}`)
    .join('')}`;
}

function modulesDep(mods: Mod[]): string {
  return mods.map((m) => `${depLine(m)}\n`).join('');
}

function modulesDepBin(mods: Mod[]): Uint8Array {
  const index = new KmodIndexBuilder();
  for (const mod of mods) index.insert(mod.name, depLine(mod), mod.idx);
  return index.build();
}

function modinfoValues(mod: Mod, key: 'alias' | 'softdep' | 'weakdep'): string[] {
  if (key === 'alias') return mod.info.aliases;
  return key === 'softdep' ? mod.info.softdeps : mod.info.weakdeps;
}

function modinfoLines(mods: Mod[], key: 'alias' | 'softdep' | 'weakdep', header: string): string {
  const lines = [header];
  for (const mod of mods) {
    for (const value of modinfoValues(mod, key)) {
      lines.push(key === 'alias' ? `alias ${value} ${mod.name}\n` : `${key} ${mod.name} ${value}\n`);
    }
  }
  return lines.join('');
}

function modulesAliasBin(mods: Mod[]): Uint8Array {
  const index = new KmodIndexBuilder();
  for (const mod of mods) {
    for (const alias of mod.info.aliases) {
      const normalized = normalizeAlias(alias);
      if (normalized !== undefined) index.insert(normalized, mod.name, mod.idx);
    }
  }
  return index.build();
}

/** kmod's alias_normalize: `-` → `_` outside brackets; undefined for unmatched brackets. */
export function normalizeAlias(alias: string): string | undefined {
  let out = '';
  for (let i = 0; i < alias.length; i++) {
    const c = alias[i] as string;
    if (c === ']') return undefined;
    if (c === '[') {
      const close = alias.indexOf(']', i);
      if (close < 0) return undefined;
      out += alias.slice(i, close + 1);
      i = close;
    } else {
      out += c === '-' ? '_' : c;
    }
  }
  return out;
}

function ownedSymbols(owners: Map<string, Mod | null>): Array<[string, Mod]> {
  const owned = [...owners].filter((entry): entry is [string, Mod] => entry[1] !== null);
  return kmodHashOrder(owned, ([name]) => name, SYMBOLS_BUCKETS);
}

function modulesSymbols(owners: Map<string, Mod | null>): string {
  const lines = ['# Aliases for symbols, used by symbol_request().\n'];
  for (const [name, mod] of ownedSymbols(owners)) lines.push(`alias symbol:${name} ${mod.name}\n`);
  return lines.join('');
}

function modulesSymbolsBin(owners: Map<string, Mod | null>): Uint8Array {
  const index = new KmodIndexBuilder();
  for (const [name, mod] of ownedSymbols(owners)) index.insert(`symbol:${name}`, mod.name, mod.idx);
  return index.build();
}

/** One key per modules.builtin line that starts with a letter: the module name of its path. */
function modulesBuiltinBin(modulesBuiltin: string): Uint8Array {
  const index = new KmodIndexBuilder();
  for (const line of fgetsLines(modulesBuiltin)) {
    if (!/^[A-Za-z]/.test(line)) continue;
    const base = line.slice(line.lastIndexOf('/') + 1);
    const dot = base.indexOf('.');
    index.insert((dot < 0 ? base : base.slice(0, dot)).replaceAll('-', '_'), '', 0);
  }
  return index.build();
}

/** Lines as fgets returns them: each with its newline, the last one possibly without. */
function fgetsLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.filter((line) => line !== '');
}

/**
 * modules.builtin.modinfo holds `module.key=value\0` records; each `alias` becomes a key of the
 * index with the module as value. Read as depmod's stream reader reads it, quirks included.
 */
function modulesBuiltinAliasBin(modinfo: Uint8Array): Uint8Array {
  const index = new KmodIndexBuilder();
  let pos = 0;
  /** flush_stream_to: reads up to `end` (or NUL/EOF); the text, or '' when it did not stop at `end`. */
  const readTo = (end: number): string => {
    const start = pos;
    while (pos < modinfo.byteLength && modinfo[pos] !== end && modinfo[pos] !== 0) pos++;
    const stoppedAtEnd = pos < modinfo.byteLength && modinfo[pos] === end;
    const text = Buffer.from(modinfo.subarray(start, pos)).toString('latin1');
    if (pos < modinfo.byteLength) pos++; // the stop character is consumed
    return stoppedAtEnd ? text : '';
  };
  const skipRecord = () => {
    while (pos < modinfo.byteLength && modinfo[pos] !== 0) pos++;
    if (pos < modinfo.byteLength) pos++;
  };
  while (pos < modinfo.byteLength) {
    const module = readTo(0x2e); // '.'
    if (module === '') continue;
    if (readTo(0x3d) !== 'alias') {
      skipRecord();
      continue;
    }
    const alias = readTo(0);
    if (alias === '') continue;
    const normalized = normalizeAlias(alias);
    if (normalized !== undefined) index.insert(normalized, module, 0);
  }
  return index.build();
}

const DEVICE_NUMBER = /^(char|block)-major-(\d+)-(\d+)/;

function modulesDevname(mods: Mod[]): string {
  const lines: string[] = [];
  for (const mod of mods) {
    let devname: string | undefined;
    let device: string | undefined;
    for (const alias of mod.info.aliases) {
      const number = DEVICE_NUMBER.exec(alias);
      if (alias.startsWith('devname:')) devname = alias.slice('devname:'.length);
      else if (number !== null)
        device = `${number[1] === 'char' ? 'c' : 'b'}${Number(number[2])}:${Number(number[3])}`;
      if (devname !== undefined && device !== undefined) break;
    }
    if (devname !== undefined && device !== undefined) lines.push(`${mod.name} ${devname} ${device}\n`);
  }
  return lines.length === 0 ? '' : `# Device nodes to trigger on-demand module loading.\n${lines.join('')}`;
}

function filteredOrder(mods: Mod[], modulesOrder: string | undefined): string {
  const selected = new Set(mods.map((m) => uncompressedPath(m.path)));
  const listed = (modulesOrder ?? '').split('\n').filter((line) => selected.has(line));
  return listed.map((line) => `${line}\n`).join('');
}

/**
 * The iteration order of kmod's hash table (shared/hash.c): buckets in index order, each bucket
 * kept sorted by strcmp. Bucket = superfast hash of the key masked by the bucket count.
 */
export function kmodHashOrder<T>(items: T[], key: (item: T) => string, buckets: number): T[] {
  const keyed = items.map((item) => {
    const k = key(item);
    return { item, k, bucket: superFastHash(k) & (buckets - 1) };
  });
  keyed.sort((a, b) => a.bucket - b.bucket || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((e) => e.item);
}

/** Paul Hsieh's SuperFastHash as kmod computes it (little-endian loads, signed `char`). */
export function superFastHash(key: string): number {
  const byte = (i: number) => key.charCodeAt(i) & 0xff;
  const signedByte = (i: number) => (byte(i) << 24) >> 24;
  const u16 = (i: number) => byte(i) | (byte(i + 1) << 8);
  let hash = key.length >>> 0;
  const rem = key.length & 3;
  let p = 0;
  for (let n = key.length >>> 2; n > 0; n--, p += 4) {
    hash = (hash + u16(p)) >>> 0;
    const tmp = ((u16(p + 2) << 11) ^ hash) >>> 0;
    hash = ((hash << 16) ^ tmp) >>> 0;
    hash = (hash + (hash >>> 11)) >>> 0;
  }
  if (rem === 3) {
    hash = (hash + u16(p)) >>> 0;
    hash = (hash ^ (hash << 16)) >>> 0;
    hash = (hash ^ (signedByte(p + 2) << 18)) >>> 0;
    hash = (hash + (hash >>> 11)) >>> 0;
  } else if (rem === 2) {
    hash = (hash + u16(p)) >>> 0;
    hash = (hash ^ (hash << 11)) >>> 0;
    hash = (hash + (hash >>> 17)) >>> 0;
  } else if (rem === 1) {
    hash = (hash + signedByte(p)) >>> 0;
    hash = (hash ^ (hash << 10)) >>> 0;
    hash = (hash + (hash >>> 1)) >>> 0;
  }
  hash = (hash ^ (hash << 3)) >>> 0;
  hash = (hash + (hash >>> 5)) >>> 0;
  hash = (hash ^ (hash << 4)) >>> 0;
  hash = (hash + (hash >>> 17)) >>> 0;
  hash = (hash ^ (hash << 25)) >>> 0;
  hash = (hash + (hash >>> 6)) >>> 0;
  return hash;
}
