/**
 * The kernel stage: from Debian's linux-image package take vmlinuz and a selection of
 * modules (with their dependency closure and depmod data generated here), and from the
 * firmware packages the files those modules ask for plus the spec's globs.
 */

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DebEntry } from '../debian/deb.ts';
import { HookError } from '../errors.ts';
import { generateDepmod } from '../kernel/depmod.ts';
import { firmwareNeeded, selectFirmwareFiles } from '../kernel/firmware.ts';
import { isModulePath, loadModuleInfo, type ModuleInfo } from '../kernel/modinfo.ts';
import { selectModules } from '../kernel/select.ts';
import type { Ownership } from '../rootfs/install.ts';
import { fileNode, type ImagePath, imagePath, type Tree } from '../rootfs/tree.ts';

export interface KernelResult {
  version: string;
  vmlinuz: Uint8Array;
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
  options: { modules: readonly string[]; firmwareInclude: readonly string[]; cacheDir: string },
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
  for (const entry of kernelPackage.entries) {
    const match = MODULES_PREFIX.exec(entry.path);
    if (!match || match[1] !== version || entry.type !== 'file' || !entry.data) continue;
    const rel = match[2] as string;
    if (isModulePath(rel)) moduleFiles.set(rel, entry.data);
    else extra.set(rel, entry.data);
  }
  const infos = await cachedModuleInfo(options.cacheDir, kernelPackage.sha256, moduleFiles);
  const selected = selectModules(infos, [...options.modules]);
  const base = `usr/lib/modules/${version}`;
  for (const info of selected) {
    const data = moduleFiles.get(info.path);
    if (!data) continue;
    const path = imagePath(`${base}/${info.path}`);
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
    const path = imagePath(`${base}/${name}`);
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
      const path = imagePath(`usr/lib/firmware/${rel}`) as ImagePath;
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
    modules: selected.length,
    modulesAvailable: infos.length,
    firmwareFiles,
  };
}

/**
 * Reading the metadata of every module means decompressing ~4000 .ko.xz files (tens of
 * seconds); it depends only on the kernel package, so it is cached by the package's SHA-256.
 */
async function cachedModuleInfo(
  cacheDir: string,
  packageSha256: string,
  moduleFiles: ReadonlyMap<string, Uint8Array>,
): Promise<ModuleInfo[]> {
  const path = join(cacheDir, 'modinfo', `${packageSha256}.json`);
  try {
    const cached = JSON.parse(await readFile(path, 'utf8')) as ModuleInfo[];
    if (cached.length === moduleFiles.size && cached.every((info) => moduleFiles.has(info.path)))
      return cached;
  } catch {
    // Not cached yet, or unreadable: compute it again.
  }
  const infos: ModuleInfo[] = [];
  for (const [file, data] of moduleFiles) infos.push(await loadModuleInfo(file, data));
  await mkdir(join(cacheDir, 'modinfo'), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(infos));
  await rename(temp, path);
  return infos;
}
