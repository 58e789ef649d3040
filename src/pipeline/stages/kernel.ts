/**
 * The kernel stage: from Debian's linux-image package take vmlinuz and a selection of
 * modules (with their dependency closure and depmod data generated here), and from the
 * firmware packages the files those modules ask for plus the spec's globs.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type RepairReporter, readSealed, writeSealed } from '../../debian/cache.ts';
import type { DebEntry } from '../../debian/deb.ts';
import { HookError } from '../../errors.ts';
import { decompress, decompressXzBatch } from '../../formats/compress.ts';
import { ElfFile } from '../../formats/elf.ts';
import { generateDepmod } from '../../kernel/depmod.ts';
import { firmwareNeeded, selectFirmwareFiles } from '../../kernel/firmware.ts';
import { type ModuleSource, selectModulesLazily } from '../../kernel/lazy-modules.ts';
import {
  isModulePath,
  loadModuleInfo,
  type ModuleInfo,
  parseModinfo,
  readModuleInfo,
} from '../../kernel/modinfo.ts';
import type { Ownership } from '../../rootfs/install.ts';
import { checkModulePatterns, modulePathsOf } from '../../specfile/checks.ts';
import { fileNode, type Tree, type TreePath, treePath } from '../../tree/tree.ts';
import type { DtbFile } from '../artifacts/input.ts';
import { readDebCached } from '../cache/deb-cache.ts';
import type { BuildContext } from '../context.ts';
import type { LockEntry, LockFile } from '../lockfile.ts';
import type { PackagePaths } from './fetch.ts';
import type { InstalledTree } from './install.ts';

/** Runs the stage on the rootfs: kernel.modules checked, then modules and firmware added. */
export async function kernelStage(
  ctx: BuildContext,
  lock: LockFile,
  paths: PackagePaths,
  rootfs: InstalledTree,
): Promise<KernelResult> {
  const { spec, cacheDir, reporter, loaded } = ctx;
  const done = reporter.stage('kernel');
  const read = (pkg: LockEntry) =>
    readDebCached(cacheDir, pkg.sha256, paths.get(pkg.sha256) as string, pkg.filename);
  const kernelPkg = lock.packages.find((p) => p.role === 'kernel' && /^linux-image-\d/.test(p.name));
  if (!kernelPkg) throw new HookError('E_KERNEL', `No linux-image package found for ${spec.kernel.package}`);
  const kernelDeb = await read(kernelPkg);
  // Every kernel.modules pattern must match a module: all misses at once, with near matches.
  checkModulePatterns(loaded, modulePathsOf(kernelDeb.data));
  const firmware = [];
  for (const pkg of lock.packages.filter((p) => p.role === 'firmware')) {
    firmware.push({ name: pkg.name, entries: (await read(pkg)).data });
  }
  const kernel = await installKernel(
    rootfs.tree,
    rootfs.ownership,
    { name: kernelPkg.name, sha256: kernelPkg.sha256, entries: kernelDeb.data },
    firmware,
    {
      modules: spec.kernel.modules,
      firmwareInclude: spec.kernel.firmware.include,
      cacheDir,
      onRepair: (m) => reporter.warn(m),
    },
  );
  done(
    `${kernel.version}: ${kernel.modules}/${kernel.modulesAvailable} modules, ${kernel.firmwareFiles} firmware files`,
  );
  return kernel;
}

export interface KernelResult {
  version: string;
  vmlinuz: Uint8Array;
  /** Device trees under usr/lib/linux-image-<version>/ (arm64; none on amd64), by path. */
  dtbs: DtbFile[];
  modules: number;
  modulesAvailable: number;
  firmwareFiles: number;
}

const MODULES_PREFIX = /^(?:usr\/)?lib\/modules\/([^/]+)\/(.+)$/;

export async function installKernel(
  tree: Tree,
  ownership: Ownership,
  kernelPackage: { name: string; sha256: string; entries: readonly DebEntry[] },
  firmwarePackages: ReadonlyArray<{ name: string; entries: readonly DebEntry[] }>,
  options: {
    modules: readonly string[];
    firmwareInclude: readonly string[];
    cacheDir: string;
    /** Told about a damaged module metadata cache that was deleted and read again. */
    onRepair?: RepairReporter | undefined;
  },
): Promise<KernelResult> {
  const vmlinuzEntry = kernelPackage.entries.find(
    (e) => /^boot\/vmlinu[xz]-/.test(e.path) && e.type === 'file',
  );
  if (!vmlinuzEntry?.data) {
    throw new HookError('E_KERNEL', `Package ${kernelPackage.name} has no boot/vmlinuz-*`, {
      hint: 'kernel.package must name a Debian linux-image package.',
    });
  }
  const version = vmlinuzEntry.path.replace(/^boot\/vmlinu[xz]-/, '');
  const moduleFiles = new Map<string, Uint8Array>();
  const extra = new Map<string, Uint8Array>();
  const dtbs: DtbFile[] = [];
  const dtbPrefix = `usr/lib/linux-image-${version}/`;
  for (const entry of kernelPackage.entries) {
    if (entry.path.startsWith(dtbPrefix) && entry.type === 'file' && entry.data) {
      dtbs.push({ path: entry.path.slice(dtbPrefix.length), data: entry.data });
      continue;
    }
    const match = MODULES_PREFIX.exec(entry.path);
    if (!match || match[1] !== version || entry.type !== 'file' || !entry.data) continue;
    const rel = match[2] as string;
    if (isModulePath(rel)) moduleFiles.set(rel, entry.data);
    else extra.set(rel, entry.data);
  }
  const source = await cachedModuleSource(
    options.cacheDir,
    kernelPackage.sha256,
    moduleFiles,
    options.onRepair,
  );
  const selected = await selectModulesLazily([...moduleFiles.keys()], [...options.modules], source);
  await source.save();
  const base = `usr/lib/modules/${version}`;
  for (const info of selected) {
    const data = moduleFiles.get(info.path);
    if (!data) continue;
    const path = treePath(`${base}/${info.path}`);
    tree.set(path, fileNode(data));
    ownership.set(path, kernelPackage.name);
  }
  const builtin = {
    modulesBuiltin: new TextDecoder().decode(extra.get('modules.builtin') ?? new Uint8Array()),
    modulesBuiltinModinfo: extra.get('modules.builtin.modinfo') ?? new Uint8Array(),
    modulesOrder: extra.has('modules.order')
      ? new TextDecoder().decode(extra.get('modules.order'))
      : undefined,
  };
  const depmod = generateDepmod(
    selected.map((info) => ({ path: info.path, info })),
    builtin.modulesOrder === undefined
      ? { modulesBuiltin: builtin.modulesBuiltin, modulesBuiltinModinfo: builtin.modulesBuiltinModinfo }
      : (builtin as Required<typeof builtin>),
    version,
  );
  for (const [name, data] of depmod) {
    const path = treePath(`${base}/${name}`);
    tree.set(path, fileNode(data));
    ownership.set(path, kernelPackage.name);
  }

  const needed = firmwareNeeded(selected);
  let firmwareFiles = 0;
  for (const pkg of firmwarePackages) {
    const available = new Map<string, DebEntry>();
    for (const entry of pkg.entries) {
      const rel = /^(?:usr\/)?lib\/firmware\/(.+)$/.exec(entry.path)?.[1];
      if (rel !== undefined && (entry.type === 'file' || entry.type === 'symlink')) available.set(rel, entry);
    }
    for (const rel of selectFirmwareFiles([...available.keys()], needed, [...options.firmwareInclude])) {
      const entry = available.get(rel) as DebEntry;
      const path = treePath(`usr/lib/firmware/${rel}`) as TreePath;
      if (entry.type === 'symlink')
        tree.set(path, { kind: 'symlink', target: entry.linkTarget ?? '', uid: 0, gid: 0 });
      else tree.set(path, fileNode(entry.data ?? new Uint8Array(), entry.mode));
      ownership.set(path, pkg.name);
      firmwareFiles++;
    }
  }
  return {
    version,
    vmlinuz: vmlinuzEntry.data,
    dtbs,
    modules: selected.length,
    modulesAvailable: moduleFiles.size,
    firmwareFiles,
  };
}

/** What was read of one kernel package's modules, kept between builds. */
interface ModuleCache {
  modules: ModuleInfo[];
  /** Every module's aliases by path, once some build needed them. */
  aliases?: Record<string, string[]>;
}

/**
 * Reads module metadata on demand (decompressing a .ko.xz is the expensive part), backed by
 * a cache per kernel package SHA-256 of everything read so far; `save` writes what was added.
 * The cache file is sealed (cache.ts): its SHA-256 is checked on every read, and a damaged
 * one is reported, deleted and read again from the modules.
 */
async function cachedModuleSource(
  cacheDir: string,
  packageSha256: string,
  moduleFiles: ReadonlyMap<string, Uint8Array>,
  onRepair: RepairReporter | undefined,
): Promise<ModuleSource & { save(): Promise<void> }> {
  const path = join(cacheDir, 'modinfo', `${packageSha256}.v3.sealed`);
  const cache = await readModuleCache(path, moduleFiles, onRepair);
  const known = new Map(cache.modules.map((m) => [m.path, m]));
  let changed = false;
  return {
    async load(paths) {
      const missing = paths.filter((p) => !known.has(p));
      for (const info of await readModules(missing, moduleFiles)) known.set(info.path, info);
      if (missing.length > 0) changed = true;
      return paths.map((p) => known.get(p) as ModuleInfo);
    },
    async aliases() {
      if (cache.aliases === undefined) {
        cache.aliases = await readAliases(moduleFiles, known);
        changed = true;
      }
      const index = new Map<string, string[]>();
      for (const file of moduleFiles.keys()) {
        for (const alias of cache.aliases[file] ?? []) index.set(alias, [...(index.get(alias) ?? []), file]);
      }
      return index;
    },
    async save() {
      if (!changed) return;
      const data: ModuleCache = { modules: [...known.values()] };
      if (cache.aliases !== undefined) data.aliases = cache.aliases;
      await writeSealed(path, { kernelPackage: packageSha256 }, [Buffer.from(JSON.stringify(data))]);
      // The unsealed cache of older versions is never read again.
      await rm(join(cacheDir, 'modinfo', `${packageSha256}.v2.json`), { force: true });
    },
  };
}

async function readModuleCache(
  path: string,
  moduleFiles: ReadonlyMap<string, Uint8Array>,
  onRepair: RepairReporter | undefined,
): Promise<ModuleCache> {
  const entry = await readSealed(path, { onRepair, label: 'kernel module metadata' });
  if (entry === undefined) return { modules: [] };
  try {
    const cached = JSON.parse(entry.payload.toString('utf8')) as ModuleCache;
    const aliasesFit =
      cached.aliases === undefined || Object.keys(cached.aliases).length === moduleFiles.size;
    if (cached.modules.every((m) => moduleFiles.has(m.path)) && aliasesFit) return cached;
  } catch {
    // Intact but not what this version reads: read the modules again and replace it.
  }
  return { modules: [] };
}

/** Full metadata; .ko.xz files (nearly all) are decompressed together. */
async function readModules(
  paths: readonly string[],
  files: ReadonlyMap<string, Uint8Array>,
): Promise<ModuleInfo[]> {
  const xz = paths.filter((p) => p.endsWith('.xz'));
  const elfs = await decompressModules(xz, files);
  const infos = new Map(xz.map((p, i) => [p, readModuleInfo(p, elfs[i] as Uint8Array)]));
  for (const p of paths) {
    if (!infos.has(p)) infos.set(p, await loadModuleInfo(p, files.get(p) as Uint8Array));
  }
  return paths.map((p) => infos.get(p) as ModuleInfo);
}

/** Only the `alias=` values of every module: far less parsing than full metadata. */
async function readAliases(
  files: ReadonlyMap<string, Uint8Array>,
  known: ReadonlyMap<string, ModuleInfo>,
): Promise<Record<string, string[]>> {
  const paths = [...files.keys()];
  const xz = paths.filter((p) => p.endsWith('.xz') && !known.has(p));
  const decompressed = await decompressModules(xz, files);
  const elfs = new Map(xz.map((p, i) => [p, decompressed[i] as Uint8Array]));
  const aliases: Record<string, string[]> = {};
  for (const p of paths) {
    const info = known.get(p);
    if (info) {
      aliases[p] = info.aliases;
      continue;
    }
    const elf = elfs.get(p) ?? (await decompress(files.get(p) as Uint8Array));
    const modinfo = parseModinfo(new ElfFile(elf, p).section('.modinfo') ?? new Uint8Array());
    aliases[p] = modinfo.filter(([key]) => key === 'alias').map(([, value]) => value);
  }
  return aliases;
}

async function decompressModules(
  paths: readonly string[],
  files: ReadonlyMap<string, Uint8Array>,
): Promise<Uint8Array[]> {
  try {
    return await decompressXzBatch(paths.map((p) => files.get(p) as Uint8Array));
  } catch (error) {
    throw new HookError('E_KERNEL', `Cannot decompress kernel modules: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
