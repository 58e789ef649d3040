/**
 * `hook build`: spec → resolve → fetch → rootfs tree → kernel → initramfs segments → outputs.
 * One direction, no back and forth; every stage reports to the reporter.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { type Arch, debianArch } from '../arch.ts';
import type { Reporter } from '../cli/reporter.ts';
import { defaultCacheDir } from '../debian/cache.ts';
import { fetchPackages } from '../debian/fetch.ts';
import { loadPackages, mirrorForSuite } from '../debian/index.ts';
import { resolve } from '../debian/resolver.ts';
import { resolveArchiveSettings } from '../debian/sources.ts';
import type { ArchiveSettings, BinaryPackage } from '../debian/types.ts';
import { HookError, isHookError } from '../errors.ts';
import { dedupeFiles } from '../rootfs/dedupe.ts';
import { createMergedUsr, installEntries, type Ownership } from '../rootfs/install.ts';
import { type ScriptEffect, scanMaintainerScripts } from '../rootfs/maintainer-scripts.ts';
import { enableUnit, maskUnit, setDefaultTarget } from '../rootfs/systemd-units.ts';
import { fileNode, imagePath, symlinkNode, Tree, type TreeNode } from '../rootfs/tree.ts';
import { resolveOwner, writeUsersAndGroups } from '../rootfs/users.ts';
import { checkModulePatterns, checkUnits, modulePathsOf } from '../spec/checks.ts';
import { isInside, type LoadedSpec, loadSpec, specError } from '../spec/load.ts';
import type { Spec } from '../spec/schema.ts';
import { formatSize } from '../spec/size.ts';
import { prefetchDebs, readDebCached } from './deb-cache.ts';
import { assembleInitramfs } from './early-boot.ts';
import { installKernel } from './kernel-stage.ts';
import {
  type LockEntry,
  type LockFile,
  lockEntry,
  type PackageRole,
  readLock,
  requestHash,
  serializeLock,
} from './lock.ts';
import { addCaBundle, addOsFiles } from './os-files.ts';
import { addOsieServices } from './osie-files.ts';
import { type BuildOutputs, writeOutputs } from './outputs.ts';
import { lockOutputDir } from './publish.ts';
import { buildSegments, planSegments } from './segments.ts';
import { inputsHash, upToDate, writeStamp } from './stamp.ts';

export interface BuildOptions {
  specFile?: string | undefined;
  arch?: Arch | undefined;
  outDir?: string | undefined;
  cacheDir?: string | undefined;
  mirror?: string | undefined;
  lockFile?: string | undefined;
  /** Resolve again even when the lock matches the request. */
  updateLock?: boolean | undefined;
  /** List every maintainer-script action the build does not cover. */
  verbose?: boolean | undefined;
  /** Let `files[].source` name files outside the spec's folder. */
  allowOutsideSources?: boolean | undefined;
  reporter: Reporter;
}

export interface BuildResult extends BuildOutputs {
  arch: Arch;
  kernelVersion: string;
  packages: number;
  warnings: string[];
  upToDate: boolean;
}

const LARGE_PACKAGE_BYTES = 8 * 1024 * 1024;

/** What every stage needs: the loaded spec and where things come from and go. */
export interface BuildContext {
  loaded: LoadedSpec;
  spec: Spec;
  arch: Arch;
  outDir: string;
  cacheDir: string;
  lockPath: string;
  settings: ArchiveSettings;
  reporter: Reporter;
  updateLock: boolean;
}

export function prepare(options: BuildOptions): BuildContext {
  const done = options.reporter.stage('spec');
  const loaded = loadSpec(options.specFile, { allowOutsideSources: options.allowOutsideSources });
  const spec = loaded.spec;
  const arch = options.arch ?? spec.arch;
  const outDir = resolvePath(options.outDir ?? resolvePath(dirname(loaded.file), spec.output.dir));
  const settings = resolveArchiveSettings({
    mirror: options.mirror ?? spec.archive.mirror,
    securityMirror: spec.archive.securityMirror,
    suites: spec.archive.suites,
    components: spec.archive.components,
  });
  done(`${loaded.file} (${arch})`);
  return {
    loaded,
    spec,
    arch,
    outDir,
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    lockPath: options.lockFile ?? join(outDir, 'hook.lock'),
    settings,
    reporter: options.reporter,
    updateLock: Boolean(options.updateLock),
  };
}

/** Downloads (or finds in the cache) every locked package, verified; SHA-256 → cache path. */
export async function fetchLocked(ctx: BuildContext, lock: LockFile): Promise<Map<string, string>> {
  const done = ctx.reporter.stage('fetch');
  let downloaded = 0;
  const paths = await fetchPackages(
    lock.packages.map((p) => ({ ...p, origin: { mirror: mirrorForSuite(ctx.settings, p.suite) } })),
    {
      cacheDir: ctx.cacheDir,
      onProgress: (p) => {
        downloaded = p.downloadedBytes;
        ctx.reporter.progress(`${p.done}/${p.total} packages, ${formatSize(p.downloadedBytes)} downloaded`);
      },
      onRepair: (m) => ctx.reporter.warn(m),
      onWait: (m) => ctx.reporter.progress(m),
    },
  );
  done(`${lock.packages.length} packages verified, ${formatSize(downloaded)} downloaded`);
  return paths;
}

export interface InstalledTree {
  tree: Tree;
  ownership: Ownership;
  effects: ScriptEffect[];
}

/** The requested packages' files in a fresh merged-/usr tree, filtered as the spec says. */
export async function installPackages(
  ctx: BuildContext,
  lock: LockFile,
  paths: ReadonlyMap<string, string>,
): Promise<InstalledTree> {
  const done = ctx.reporter.stage('rootfs');
  const tree = new Tree();
  const ownership: Ownership = new Map();
  createMergedUsr(tree, debianArch(ctx.arch));
  const effects: ScriptEffect[] = [];
  const filters = packageFilters(ctx.spec);
  // Every package (kernel and firmware too) unpacks in the background, several at once.
  prefetchDebs(
    ctx.cacheDir,
    lock.packages.map((p) => ({
      sha256: p.sha256,
      debPath: paths.get(p.sha256) as string,
      source: p.filename,
      size: p.size,
    })),
    { onRepair: (m) => ctx.reporter.warn(m) },
  );
  let installed = 0;
  for (const pkg of lock.packages.filter((p) => p.role === 'request')) {
    const deb = await readDebCached(ctx.cacheDir, pkg.sha256, paths.get(pkg.sha256) as string, pkg.filename);
    const filter = filters.get(pkg.name) ?? { include: [], exclude: [] };
    installEntries(
      tree,
      pkg.name,
      deb.data,
      { include: filter.include, exclude: [...ctx.spec.exclude, ...filter.exclude] },
      ownership,
    );
    effects.push(...scanMaintainerScripts(pkg.name, deb.control));
    installed++;
    ctx.reporter.progress(`${installed} packages installed`);
  }
  done(`${installed} packages, ${tree.size} paths`);
  return { tree, ownership, effects };
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const ctx = prepare(options);
  // One build at a time writes an output folder; a second one waits for the first.
  const outputLock = await lockOutputDir(ctx.outDir, (pid) =>
    ctx.reporter.info(`Waiting for another build (pid ${pid}) that is writing to ${ctx.outDir}`),
  );
  try {
    return await buildLocked(ctx, options);
  } finally {
    await outputLock.release();
  }
}

async function buildLocked(ctx: BuildContext, options: BuildOptions): Promise<BuildResult> {
  const stampInputs = await inputsHash(ctx);
  const previous = await upToDate(ctx, stampInputs);
  if (previous) {
    for (const warning of previous.warnings) ctx.reporter.warn(warning);
    ctx.reporter.info(`Up to date: nothing changed since the last build in ${ctx.outDir}`);
    return previous;
  }
  const { spec, arch, cacheDir, outDir, loaded, reporter } = ctx;
  const lock = await resolvePackages(ctx, { kernel: true });
  const sourceDateEpoch = Number(process.env.SOURCE_DATE_EPOCH ?? lock.sourceDateEpoch);
  const paths = await fetchLocked(ctx, lock);
  const { tree, ownership, effects } = await installPackages(ctx, lock, paths);
  const byRole = (role: PackageRole) => lock.packages.filter((p) => p.role === role);
  let done: (summary?: string) => void;

  done = reporter.stage('kernel');
  const kernelPkgs = byRole('kernel').filter((p) => /^linux-image-\d/.test(p.name));
  const kernelPkg = kernelPkgs[0];
  if (!kernelPkg) throw new HookError('E_KERNEL', `No linux-image package found for ${spec.kernel.package}`);
  const kernelDeb = await readDebCached(
    cacheDir,
    kernelPkg.sha256,
    paths.get(kernelPkg.sha256) as string,
    kernelPkg.filename,
  );
  // Every kernel.modules pattern must match a module: all misses at once, with near matches.
  checkModulePatterns(loaded, modulePathsOf(kernelDeb.data));
  const firmware = [];
  for (const pkg of byRole('firmware')) {
    const deb = await readDebCached(cacheDir, pkg.sha256, paths.get(pkg.sha256) as string, pkg.filename);
    firmware.push({ name: pkg.name, entries: deb.data });
  }
  const kernel = await installKernel(
    tree,
    ownership,
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

  done = reporter.stage('configure');
  addOsFiles(tree, { name: spec.name, version: spec.version, arch });
  await addOsieServices(tree);
  enableUnit(tree, 'hook-hostname.service');
  // A login on the first virtual console (console=tty0); serial consoles get theirs from
  // systemd-getty-generator, one per console= entry.
  enableUnit(tree, 'getty@.service');
  await applySpec(tree, loaded);
  setDefaultTarget(tree, 'multi-user.target');
  const caCerts = addCaBundle(tree);
  const dedupe = dedupeFiles(tree);
  done(
    `${caCerts} CA certificates, ${dedupe.linkedFiles} duplicate files linked (${formatSize(dedupe.savedBytes)} saved)`,
  );

  const warnings = summarizeEffects(effects);
  for (const warning of warnings) reporter.warn(warning);
  if (options.verbose) {
    for (const e of effects) reporter.info(`  ${e.package} (${e.script}): ${e.action}`);
  }

  const uncompressed = tree.contentBytes();
  if (uncompressed > spec.sizeBudget) {
    throw new HookError(
      'E_BUDGET',
      `The image holds ${formatSize(uncompressed)} of files, over the size budget of ${formatSize(spec.sizeBudget)}`,
      {
        hint: `Largest packages: ${largestPackages(tree, ownership, 8)}. Exclude what is not needed (packages, exclude globs) or raise sizeBudget.`,
      },
    );
  }

  done = reporter.stage('initramfs');
  const segments = await buildSegments(
    planSegments(tree, { ownership, largePackageBytes: LARGE_PACKAGE_BYTES }),
    {
      mtime: sourceDateEpoch,
      compression: spec.compression,
      cacheDir,
      onRepair: (m) => reporter.warn(m),
    },
  );
  const initramfs = await assembleInitramfs(tree, segments, {
    arch,
    compression: spec.compression,
    mtime: sourceDateEpoch,
    cacheDir,
    onRepair: (m) => reporter.warn(m),
  });
  const archives = [initramfs.early, ...segments];
  const reused = archives.filter((s) => s.cached).length;
  done(`${archives.length} segments (${reused} from cache)`);

  done = reporter.stage('outputs');
  const resultOf = (outputs: BuildOutputs): BuildResult => ({
    ...outputs,
    arch,
    kernelVersion: kernel.version,
    packages: lock.packages.length,
    warnings,
    upToDate: false,
  });
  const outputs = await writeOutputs(
    {
      outDir,
      arch,
      vmlinuz: kernel.vmlinuz,
      initramfs: initramfs.pieces,
      segments: archives,
      lock,
      tree,
      ownership,
      sourceDateEpoch,
      specName: spec.name,
      specVersion: spec.version,
      kernelVersion: kernel.version,
    },
    {
      // The stamp goes into the set it describes, before the set is shown.
      beforeSwitch: (setDir, written) =>
        writeStamp(ctx, stampInputs, resultOf(written), setDir, serializeLock(lock)),
    },
  );
  done(outDir);
  return resultOf(outputs);
}

function packageFilters(spec: Spec): Map<string, { include: string[]; exclude: string[] }> {
  const filters = new Map<string, { include: string[]; exclude: string[] }>();
  for (const item of spec.packages) {
    if (typeof item === 'string') continue;
    filters.set(item.name, { include: item.include ?? [], exclude: item.exclude ?? [] });
  }
  return filters;
}

function packageNames(spec: Spec): string[] {
  return spec.packages.map((p) => (typeof p === 'string' ? p : p.name));
}

/**
 * The package set: the lock when it answers the same request, else a fresh resolution from
 * the signed indexes. `kernel: false` leaves the kernel and firmware out (container images).
 */
export async function resolvePackages(ctx: BuildContext, what: { kernel: boolean }): Promise<LockFile> {
  const { spec, loaded, settings, reporter } = ctx;
  const debArch = debianArch(ctx.arch);
  const kernelName = what.kernel ? spec.kernel.package.replaceAll('{debarch}', debArch) : '';
  const firmwareNames = what.kernel ? spec.kernel.firmware.packages : [];
  const requests = packageNames(spec);
  const hash = requestHash({
    arch: debArch,
    requests,
    kernel: kernelName,
    firmware: firmwareNames,
    omit: spec.omit,
    suites: settings.suites,
    components: settings.components,
  });
  const existing = ctx.updateLock ? undefined : await readLock(ctx.lockPath);
  if (existing && existing.requestHash === hash && existing.arch === debArch) {
    reporter.info(`Using ${existing.packages.length} packages locked in ${ctx.lockPath}`);
    return existing;
  }
  const done = reporter.stage('resolve');
  const releaseDates: number[] = [];
  const index = await loadPackages({
    settings,
    arch: debArch,
    cacheDir: ctx.cacheDir,
    log: (m) => reporter.progress(m),
    onRepair: (m) => reporter.warn(m),
    onRelease: (release) => {
      if (release.date) releaseDates.push(Math.floor(release.date.getTime() / 1000));
    },
  });
  const resolveOne = (names: string[], path: (string | number)[]): BinaryPackage[] => {
    try {
      return resolve(index, names, { arch: debArch, omit: new Set(spec.omit) }).packages;
    } catch (error) {
      if (isHookError(error) && (error.code === 'E_UNKNOWN_PACKAGE' || error.code === 'E_RESOLVE')) {
        const bad = /"([^"]+)"/.exec(error.message)?.[1];
        const at = bad === undefined ? -1 : names.indexOf(bad);
        throw specError(loaded, at >= 0 ? [...path, at] : path, error.message, error.hint);
      }
      throw error;
    }
  };
  const entries: LockEntry[] = [];
  for (const pkg of resolveOne(requests, ['packages'])) entries.push(lockEntry(pkg, 'request'));
  if (what.kernel) {
    for (const pkg of resolveOne([kernelName], ['kernel', 'package'])) {
      if (pkg.name.startsWith('linux-image-')) entries.push(lockEntry(pkg, 'kernel'));
    }
  }
  if (firmwareNames.length > 0) {
    const firmware = new Set(firmwareNames);
    for (const pkg of resolveOne(firmwareNames, ['kernel', 'firmware', 'packages'])) {
      if (firmware.has(pkg.name)) entries.push(lockEntry(pkg, 'firmware'));
    }
  }
  done(`${entries.length} packages from ${index.length} in the indexes`);
  return {
    lockfileVersion: 1,
    arch: debArch,
    requestHash: hash,
    sourceDateEpoch: releaseDates.length > 0 ? Math.max(...releaseDates) : 0,
    packages: entries,
  };
}

/**
 * Everything the spec declares beyond packages: users, groups, symlinks, files, units. A
 * file or link never replaces a directory (with everything in it), sources are read again
 * only from where the loader allowed, and unknown units are reported together, with near
 * matches.
 */
export async function applySpec(tree: Tree, loaded: LoadedSpec): Promise<void> {
  const { spec } = loaded;
  writeUsersAndGroups(tree, spec.users, spec.groups);
  const place = (at: (string | number)[], path: string, node: TreeNode) => {
    try {
      const target = tree.resolveParents(imagePath(path));
      if (tree.get(target)?.kind === 'dir') {
        throw specError(
          loaded,
          at,
          `/${target} is a directory in the image: a ${node.kind} there would replace it and everything in it`,
          'Give the path of a file inside it',
        );
      }
      tree.set(target, node);
    } catch (error) {
      if (isHookError(error) && error.code !== 'E_SPEC')
        throw specError(loaded, at, error.message, error.hint);
      throw error;
    }
  };
  for (const [i, link] of spec.symlinks.entries())
    place(['symlinks', i, 'path'], link.path, symlinkNode(link.target));
  for (const [i, file] of spec.files.entries()) {
    const data =
      file.source !== undefined
        ? await readSource(loaded, ['files', i, 'source'], file.source)
        : new TextEncoder().encode(file.content ?? '');
    const ids = resolveOwner(file.owner, spec.users, spec.groups);
    if (!ids) throw specError(loaded, ['files', i, 'owner'], `unknown user or group in "${file.owner}"`);
    const [uid, gid] = ids;
    place(['files', i, 'path'], file.path, fileNode(data, file.mode, uid, gid));
  }
  checkUnits(loaded, tree);
  for (const [i, unit] of spec.systemd.enable.entries()) {
    try {
      enableUnit(tree, unit);
    } catch (error) {
      if (isHookError(error)) throw specError(loaded, ['systemd', 'enable', i], error.message, error.hint);
      throw error;
    }
  }
  for (const unit of spec.systemd.mask) maskUnit(tree, unit);
}

/**
 * A `files[].source`, checked again as it is read: the loader confined it to the spec's
 * folder, and a link swapped in since must not lead elsewhere.
 */
async function readSource(loaded: LoadedSpec, at: (string | number)[], source: string): Promise<Uint8Array> {
  let real: string;
  try {
    real = await realpath(source);
  } catch {
    throw specError(loaded, at, `cannot read ${source}: it does not exist`);
  }
  if (!loaded.allowOutsideSources && !isInside(real, await realpath(loaded.dir).catch(() => loaded.dir))) {
    throw specError(
      loaded,
      at,
      `source ${source} is outside the spec's folder ${loaded.dir} (it resolves to ${real})`,
      "Copy the file into the spec's folder, or run hook build with --allow-outside-sources",
    );
  }
  const info = await stat(real);
  if (!info.isFile()) throw specError(loaded, at, `source ${source} is not a regular file`);
  return readFile(real).catch((error: NodeJS.ErrnoException) => {
    throw specError(loaded, at, `cannot read ${source}: ${error.code ?? error.message}`);
  });
}

function summarizeEffects(effects: ScriptEffect[]): string[] {
  if (effects.length === 0) return [];
  const byPackage = new Map<string, string[]>();
  for (const effect of effects)
    byPackage.set(effect.package, [...(byPackage.get(effect.package) ?? []), effect.action]);
  return [
    `maintainer scripts of ${byPackage.size} packages do things the build does not cover (run \`hook build --verbose\` for the full list): ${[...byPackage.keys()].sort().join(', ')}`,
  ];
}

function largestPackages(tree: Tree, ownership: Ownership, count: number): string {
  const bytes = new Map<string, number>();
  for (const [path, node] of tree.entries()) {
    if (node.kind !== 'file') continue;
    const owner = ownership.get(path) ?? '(generated)';
    bytes.set(owner, (bytes.get(owner) ?? 0) + node.content.data.byteLength);
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, size]) => `${name} ${formatSize(size)}`)
    .join(', ');
}
