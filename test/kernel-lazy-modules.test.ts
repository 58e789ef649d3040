/**
 * Lazy module selection against selection from every module, on Debian's real kernel
 * package from the shared download cache (a `hook build` or the kernel tests put it there),
 * with the default spec's patterns and a few more shapes: name globs, excludes, plain names,
 * softdeps resolved through aliases, and unknown names.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { defaultCacheDir } from '../src/debian/cache.ts';
import { type DebEntry, readDebControl } from '../src/debian/deb.ts';
import { decompressXzBatch } from '../src/formats/compress.ts';
import { type ModuleSource, selectModulesLazily } from '../src/kernel/lazy-modules.ts';
import { type ModuleInfo, readModuleInfo } from '../src/kernel/modinfo.ts';
import { selectModules } from '../src/kernel/select.ts';
import { readDebCached } from '../src/pipeline/cache/deb-cache.ts';
import { installKernel } from '../src/pipeline/stages/kernel.ts';
import { Tree } from '../src/tree/tree.ts';

const MODULES = /^(?:usr\/)?lib\/modules\/[^/]+\/(.+\.ko(?:\.xz)?)$/;

interface KernelPackage {
  name: string;
  sha256: string;
  entries: DebEntry[];
  /** Every module, fully read: the reference. */
  all: ModuleInfo[];
}

let kernel: KernelPackage;

/** The largest linux-image-<version> package in the shared download cache. */
async function findKernelDeb(): Promise<{ sha256: string; path: string; name: string }> {
  const root = join(defaultCacheDir(), 'sha256');
  const candidates: Array<{ sha256: string; path: string; size: number }> = [];
  for (const dir of await readdir(root)) {
    for (const file of await readdir(join(root, dir))) {
      if (!/^[0-9a-f]{64}$/.test(file)) continue;
      const path = join(root, dir, file);
      const { size } = await stat(path);
      if (size > 40e6) candidates.push({ sha256: file, path, size });
    }
  }
  for (const c of candidates.sort((a, b) => b.size - a.size)) {
    const control = await readDebControl(await readFile(c.path), c.path);
    const name = control.Package ?? '';
    if (/^linux-image-\d/.test(name)) return { ...c, name };
  }
  throw new Error(`no linux-image package in ${root}: run \`hook build\` once to fill the cache`);
}

before(async () => {
  const deb = await findKernelDeb();
  const { data } = await readDebCached(defaultCacheDir(), deb.sha256, deb.path, deb.name);
  const modules = data.flatMap((e) => {
    const rel = MODULES.exec(e.path)?.[1];
    return rel !== undefined && e.type === 'file' && e.data ? [{ rel, data: e.data }] : [];
  });
  const elfs = await decompressXzBatch(modules.map((m) => m.data));
  const all = modules.map((m, i) => readModuleInfo(m.rel, elfs[i] as Uint8Array));
  kernel = { name: deb.name, sha256: deb.sha256, entries: data, all };
});

/** A source over the reference infos that counts what was asked for. */
function countingSource(all: ModuleInfo[]): ModuleSource & { loaded: Set<string>; aliasCalls: number } {
  const byPath = new Map(all.map((m) => [m.path, m]));
  const source = {
    loaded: new Set<string>(),
    aliasCalls: 0,
    async load(paths: readonly string[]) {
      for (const p of paths) source.loaded.add(p);
      return paths.map((p) => byPath.get(p) as ModuleInfo);
    },
    async aliases() {
      source.aliasCalls++;
      const index = new Map<string, string[]>();
      for (const m of all) for (const a of m.aliases) index.set(a, [...(index.get(a) ?? []), m.path]);
      return index;
    },
  };
  return source;
}

async function defaultPatterns(): Promise<string[]> {
  const spec = parse(await readFile(new URL('../hook.yaml', import.meta.url), 'utf8')) as {
    kernel: { modules: string[] };
  };
  return spec.kernel.modules;
}

test('lazy selection equals selection from every module, reading only what it needs', async () => {
  const paths = kernel.all.map((m) => m.path);
  const cases: string[][] = [
    await defaultPatterns(),
    ['kernel/fs/btrfs/**'], // softdeps through aliases (crypto-crc32c, blake2b-256, ...)
    ['ext4', 'xt_*', 'br-netfilter', '!xt_LOG'],
    ['kernel/drivers/net/ethernet/**', '!kernel/drivers/net/ethernet/intel/**', 'igb'],
    ['kernel/drivers/scsi/**', '!kernel/drivers/scsi/pcmcia/**', '!libata'],
    ['nvme', 'overlay', '8021q'],
  ];
  for (const patterns of cases) {
    const expected = selectModules(kernel.all, patterns).map((m) => m.path);
    const source = countingSource(kernel.all);
    const lazy = (await selectModulesLazily(paths, patterns, source)).map((m) => m.path);
    assert.deepEqual(lazy, expected, patterns.join(' '));
    assert.ok(source.loaded.size < paths.length / 2, `${patterns[0]}: read ${source.loaded.size} modules`);
  }
  // btrfs has `softdep=pre: crypto-crc32c`, which only an alias answers.
  const btrfs = countingSource(kernel.all);
  await selectModulesLazily(paths, ['btrfs'], btrfs);
  assert.equal(btrfs.aliasCalls, 1);
});

test('lazy selection fails like selection from every module on unknown names', async () => {
  const paths = kernel.all.map((m) => m.path);
  for (const patterns of [['no_such_module'], ['ext4', 'virtio-nett']]) {
    const expected = (() => {
      try {
        selectModules(kernel.all, patterns);
      } catch (error) {
        return error as Error;
      }
      assert.fail('expected an error');
    })();
    await assert.rejects(selectModulesLazily(paths, patterns, countingSource(kernel.all)), {
      message: expected.message,
    });
  }
});

test('installKernel takes the same modules through its cache, cold and warm', async () => {
  const patterns = await defaultPatterns();
  const expected = selectModules(kernel.all, patterns)
    .map((m) => m.path)
    .sort();
  const cacheDir = await mkdtemp(join(tmpdir(), 'hook-lazy-modules-'));
  try {
    for (const label of ['cold', 'warm']) {
      const tree = new Tree();
      const result = await installKernel(
        tree,
        new Map(),
        { name: kernel.name, sha256: kernel.sha256, entries: kernel.entries },
        [],
        { modules: patterns, firmwareInclude: [], cacheDir },
      );
      const base = `usr/lib/modules/${result.version}/`;
      const installed = [...tree.entries()]
        .map(([path]) => path as string)
        .filter((p) => p.startsWith(base) && /\.ko(\.xz)?$/.test(p))
        .map((p) => p.slice(base.length))
        .sort();
      assert.deepEqual(installed, expected, label);
      assert.equal(result.modulesAvailable, kernel.all.length);
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('a damaged module metadata cache is reported, deleted and read again, with the same modules', async () => {
  // A few modules with dependencies keep each (re)read short; the cache is the subject here.
  const patterns = ['8021q', 'bonding'];
  const cacheDir = await mkdtemp(join(tmpdir(), 'hook-lazy-modules-'));
  const install = async (onRepair?: (m: string) => void) => {
    const tree = new Tree();
    const result = await installKernel(
      tree,
      new Map(),
      { name: kernel.name, sha256: kernel.sha256, entries: kernel.entries },
      [],
      { modules: patterns, firmwareInclude: [], cacheDir, onRepair },
    );
    return { result, paths: [...tree.entries()].map(([p]) => p as string).sort() };
  };
  try {
    const clean = await install();
    const path = join(cacheDir, 'modinfo', `${kernel.sha256}.v3.sealed`);
    const sealed = await readFile(path);
    const at = sealed.indexOf('"depends":["');
    assert.ok(at > 0, 'a module with dependencies');
    const flipped = Buffer.from(sealed);
    flipped[at + 12] = (flipped[at + 12] as number) ^ 0x01;
    for (const [what, bytes] of [
      ['a flipped byte in a depends list', flipped],
      ['truncated', sealed.subarray(0, sealed.length >> 1)],
    ] as const) {
      const { mtime } = await stat(path);
      await writeFile(path, bytes);
      await utimes(path, mtime, mtime);
      const repairs: string[] = [];
      const again = await install((m) => repairs.push(m));
      assert.deepEqual(again.paths, clean.paths, what);
      assert.equal(again.result.modules, clean.result.modules, what);
      assert.equal(repairs.length, 1, what);
      assert.match(repairs[0] ?? '', /kernel module metadata .* is damaged/, what);
      const rebuilt = await readFile(path);
      assert.ok(!rebuilt.equals(bytes), `${what}: rewritten`);
    }
    const repairs: string[] = [];
    await install((m) => repairs.push(m));
    assert.deepEqual(repairs, [], 'the rewritten cache is intact');
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});
