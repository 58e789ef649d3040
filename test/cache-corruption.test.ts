/**
 * Every layer of a warm build cache damaged under a real build of the default spec: the
 * downloaded `.deb`s and `Packages` indexes (content-addressed), the kept InRelease copies,
 * the unpacked control/data tars, the kernel module metadata and the compressed segments.
 * Files are damaged in place — a byte flipped, cut to half, emptied — with their mtime put
 * back by `touch -r`, several per layer in each round. The next build must either fail with
 * a clear error and leave the previous outputs untouched, or produce exactly the clean
 * build's bytes; the build after it must give the clean bytes, and every damaged entry must
 * be whole again (deleted and rebuilt or fetched again, not left to fail every later build).
 *
 * The archive is a local proxy on 127.0.0.1 in front of the host's mirrors that pins each
 * InRelease at its first fetch (so every build of the test resolves the same packages, even
 * when the archive publishes during the run) and serves pool files and by-hash indexes from
 * the shared download cache when it has them (a warm CI machine downloads nothing).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { casPath, defaultCacheDir } from '../src/debian/cache.ts';
import { mirrorForSuite } from '../src/debian/load-indexes.ts';
import { resolveArchiveSettings } from '../src/debian/sources.ts';
import { isHookError } from '../src/errors.ts';
import { createContext } from '../src/pipeline/context.ts';
import type { LockFile } from '../src/pipeline/lockfile.ts';
import { stampPath } from '../src/pipeline/no-change.ts';
import { build } from '../src/pipeline/pipeline.ts';
import { CURRENT } from '../src/pipeline/publish.ts';
import type { Reporter } from '../src/pipeline/reporter.ts';
import { resolvePackages } from '../src/pipeline/stages/resolve.ts';
import { type MirrorServer, startMirrorServer } from './helpers/mirror-server.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARTIFACTS = ['vmlinuz-x86_64', 'initramfs-x86_64', 'hook_x86_64.tar.gz'];
const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest('hex');

const temps: string[] = [];
const servers: MirrorServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Pool file name (relative to its mirror) → SHA-256, known once the packages are resolved. */
const poolSha = new Map<string, string>();

/**
 * A mirror on 127.0.0.1 in front of `upstream`: a path is served from `root` when it is
 * there, else from the shared download cache (by-hash indexes, known pool files), else
 * fetched once from upstream into `root` — so the first InRelease fetched is the one served
 * for the rest of the test.
 */
async function pinningProxy(upstream: string): Promise<MirrorServer> {
  const root = await tempDir('hook-corruption-mirror-');
  const shared = defaultCacheDir();
  const inFlight = new Map<string, Promise<string | undefined>>();
  const fromUpstream = async (path: string): Promise<string | undefined> => {
    const response = await fetch(`${upstream}${path}`);
    if (!response.ok) return undefined;
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.part`, new Uint8Array(await response.arrayBuffer()));
    await rename(`${file}.part`, file);
    return file;
  };
  const server = await startMirrorServer(root, {
    fallback: async (path) => {
      const sha256 = /\/by-hash\/SHA256\/([0-9a-f]{64})$/.exec(path)?.[1] ?? poolSha.get(path.slice(1));
      if (sha256 !== undefined && existsSync(casPath(shared, sha256))) return casPath(shared, sha256);
      let pending = inFlight.get(path);
      if (pending === undefined) {
        pending = fromUpstream(path);
        inFlight.set(path, pending);
      }
      return pending;
    },
  });
  servers.push(server);
  return server;
}

const warnings: string[] = [];
const reporter: Reporter = {
  stage: () => () => {},
  progress: () => {},
  info: () => {},
  warn: (text) => warnings.push(text),
};

let specFile: string;
let cacheDir: string;
let outDir: string;
let lock: LockFile;
/** sha512 of each artifact of the clean build. */
const clean = new Map<string, string>();
/** The cache file of the segment holding directories and small packages. */
let baseSegment: string;

async function artifacts(): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const name of [...ARTIFACTS, 'checksum.txt'])
    sums.set(name, sha512(await readFile(join(outDir, name))));
  return sums;
}

/**
 * One more build in the same folder. The stamp (stamp.ts) would return the previous result
 * without reading any cache when nothing changed, so it is deleted first, and the result
 * must say the build really ran: it must read every layer. `updateLock` also resolves
 * again, which reads the indexes.
 */
async function rebuild(updateLock: boolean): Promise<unknown> {
  await rm(stampPath(join(outDir, CURRENT), 'x86_64'), { force: true });
  return build({ specFile, outDir, cacheDir, reporter, updateLock }).then(
    (result) => {
      assert.equal(result.upToDate, false, 'the build ran instead of returning the stamped result');
      return undefined;
    },
    (error: unknown) => error,
  );
}

before(async () => {
  const real = resolveArchiveSettings({});
  const [main, security] = [await pinningProxy(real.mirror), await pinningProxy(real.securityMirror)];
  // The repository's hook.yaml (the default spec), pointed at the two local mirrors.
  const doc = parseDocument(await readFile(join(REPO, 'hook.yaml'), 'utf8'));
  doc.setIn(['archive', 'mirror'], main.url);
  doc.setIn(['archive', 'securityMirror'], security.url);
  const specDir = await tempDir('hook-corruption-spec-');
  specFile = join(specDir, 'hook.yaml');
  await writeFile(specFile, doc.toString());
  cacheDir = await tempDir('hook-corruption-cache-');
  outDir = await tempDir('hook-corruption-out-');
  lock = await resolvePackages(createContext({ specFile, outDir, cacheDir, reporter }), { kernel: true });
  const ctx = createContext({ specFile, outDir, cacheDir, reporter });
  for (const pkg of lock.packages) {
    assert.ok([main.url, security.url].includes(mirrorForSuite(ctx.settings, pkg.suite)));
    poolSha.set(pkg.filename, pkg.sha256);
  }
  const result = await build({ specFile, outDir, cacheDir, reporter });
  for (const [name, sum] of await artifacts()) clean.set(name, sum);
  // The packages' files are cut into chunks base-1, base-2, ... (segments.ts): take the first.
  const base = result.report.segments.find((s) => /^base(-1)?$/.test(s.name));
  assert.ok(base, `the build has a base segment: ${result.report.segments.map((s) => s.name).join(' ')}`);
  // Found by the uncompressed size its sealed entry records (segments.ts).
  const dir = join(cacheDir, 'segments');
  let file: string | undefined;
  for (const name of await readdir(dir)) {
    const meta = (await readFile(join(dir, name))).subarray(0, 4096).toString('latin1').split('\n')[1] ?? '';
    if (meta.includes(`"uncompressedBytes":${base.uncompressedBytes}`)) file = name;
  }
  assert.ok(file, 'the base segment is in the cache');
  baseSegment = join(cacheDir, 'segments', file);
});

/** `index`: decompressed Packages; `index-xz`: as downloaded (read only when the first is missing). */
type Layer = 'deb' | 'index' | 'index-xz' | 'inrelease' | 'unpacked' | 'modinfo' | 'segment';
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Every file of the cache by layer, smallest first; a file of no known layer fails the test. */
async function layers(): Promise<Map<Layer, string[]>> {
  const debs = new Set(lock.packages.map((p) => p.sha256));
  const found = new Map<Layer, Array<{ path: string; size: number }>>();
  for (const entry of await readdir(cacheDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = relative(cacheDir, path);
    let layer: Layer | undefined;
    if (/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(rel)) {
      const xz = (await readFile(path)).subarray(0, XZ_MAGIC.length).equals(XZ_MAGIC);
      layer = debs.has(entry.name) ? 'deb' : xz ? 'index-xz' : 'index';
    } else if (/^inrelease\/[0-9a-f]{24}-[\w.-]+$/.test(rel)) layer = 'inrelease';
    else if (/^unpacked\/[0-9a-f]{2}\/[0-9a-f]{64}\.tars$/.test(rel)) layer = 'unpacked';
    else if (/^modinfo\/[0-9a-f]{64}\.v3\.sealed$/.test(rel)) layer = 'modinfo';
    else if (/^segments\/[0-9a-f]{64}\.zstd\d*\.sealed$/.test(rel)) layer = 'segment';
    assert.ok(layer, `${rel}: a file of no known cache layer (add it to this test)`);
    const list = found.get(layer) ?? [];
    found.set(layer, list);
    list.push({ path, size: (await stat(path)).size });
  }
  return new Map(
    [...found].map(([layer, list]) => [layer, list.sort((a, b) => a.size - b.size).map((f) => f.path)]),
  );
}

type Damage = 'flip' | 'flipFirst' | 'truncate' | 'empty';

/** Damages `path` in place and puts its mtime back with `touch -r`; returns the bytes it had. */
async function damage(path: string, how: Damage): Promise<Buffer> {
  const original = await readFile(path);
  let bytes: Buffer;
  if (how === 'truncate') bytes = original.subarray(0, original.length >> 1);
  else if (how === 'empty') bytes = Buffer.alloc(0);
  else {
    bytes = Buffer.from(original);
    const at = how === 'flipFirst' ? 0 : original.length >> 1;
    bytes[at] = (bytes[at] as number) ^ 0x01;
  }
  const reference = `${path}.mtime`;
  execFileSync('touch', ['-r', path, reference]);
  await writeFile(path, bytes);
  execFileSync('touch', ['-r', reference, path]);
  await rm(reference);
  return original;
}

/** Picks `count` files spread over a layer's size order, starting at `offset`. */
function pick(files: string[] | undefined, count: number, offset: number): string[] {
  assert.ok(files && files.length > 0, 'layer present in the warm cache');
  const step = Math.max(1, Math.floor(files.length / count));
  const chosen = new Set<string>();
  for (let i = 0; i < count && i < files.length; i++)
    chosen.add(files[(offset + i * step) % files.length] as string);
  return [...chosen];
}

/**
 * Rounds of damage, several files per layer each (the layers heal independently, so one
 * build checks them all). The segment named `base` holds the small packages: damaging it
 * together with their unpacked entries makes the build recompress it from those entries,
 * which is how tampered package bytes used to reach the image.
 */
const ROUNDS: Array<{ how: Damage; counts: Partial<Record<Layer, number>>; offset: number }> = [
  { how: 'flip', counts: { deb: 3, index: 2, inrelease: 1, unpacked: 4, modinfo: 1, segment: 3 }, offset: 0 },
  // Every decompressed index too, so that each damaged compressed one is read.
  {
    how: 'truncate',
    counts: { deb: 3, 'index-xz': 2, inrelease: 1, unpacked: 4, modinfo: 1, segment: 3 },
    offset: 1,
  },
  { how: 'flipFirst', counts: { deb: 2, index: 1, inrelease: 1, unpacked: 2, segment: 2 }, offset: 2 },
  { how: 'empty', counts: { deb: 1, index: 1, unpacked: 2, modinfo: 1, segment: 1 }, offset: 3 },
];

for (const round of ROUNDS) {
  test(`cache files damaged by "${round.how}" are found, deleted and rebuilt; outputs stay the clean ones`, {
    timeout: 10 * 60_000,
  }, async () => {
    const byLayer = await layers();
    const damaged = new Map<string, Buffer>();
    for (const [layer, count] of Object.entries(round.counts) as Array<[Layer, number]>) {
      let files = pick(byLayer.get(layer), count, round.offset);
      // The base segment, fed by the small packages' entries damaged with it (smallest first).
      if (layer === 'segment' && round.how === 'flip') files = [baseSegment, ...files.slice(1)];
      if (layer === 'index-xz') files = [...files, ...(byLayer.get('index') ?? [])];
      for (const path of new Set(files)) damaged.set(path, await damage(path, round.how));
    }
    warnings.length = 0;
    const error = await rebuild(true);
    if (error !== undefined) {
      assert.ok(isHookError(error), `not a clear error: ${String(error)}`);
      assert.match(error.code, /^E_[A-Z_]+$/);
      assert.ok(error.message.length > 20, error.message);
    }
    assert.deepEqual(
      await artifacts(),
      clean,
      error === undefined
        ? 'the build gave other bytes than the clean build'
        : `failed (${String(error)}) and changed the outputs`,
    );
    const second = await rebuild(false);
    assert.equal(second, undefined, `the build after it failed: ${String(second)}`);
    assert.deepEqual(await artifacts(), clean, 'the build after it gave other bytes than the clean build');
    for (const [path, original] of damaged) {
      const now = await readFile(path).catch(() => undefined);
      assert.ok(now?.equals(original), `${relative(cacheDir, path)} was not rebuilt to its clean bytes`);
    }
  });
}
