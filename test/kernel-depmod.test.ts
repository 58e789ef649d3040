/**
 * Our depmod data against the host's real depmod (kmod), on Debian trixie's amd64 kernel
 * package: the whole module tree, then a realistic selection. Then modprobe (dry run) must
 * resolve a module chain through the files we generated.
 *
 * The kernel package comes from the Debian mirror the host's apt sources name, cached under
 * <cache>/test-kernel/ so that reruns are offline.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultCacheDir } from '../src/debian/cache.ts';
import { downloadToFile } from '../src/debian/http.ts';
import { discoverMirrors } from '../src/debian/sources.ts';
import { decompress } from '../src/formats/compress.ts';
import { DEPMOD_FILES, generateDepmod, type KernelBuiltinData } from '../src/kernel/depmod.ts';
import { loadModuleInfo, type ModuleInfo } from '../src/kernel/modinfo.ts';
import { selectModules } from '../src/kernel/select.ts';

const cacheDir = join(defaultCacheDir(), 'test-kernel');

/** Files depmod (kmod 30) writes; modules.weakdep is newer than the host's kmod. */
const COMPARED = [
  'modules.dep',
  'modules.dep.bin',
  'modules.alias',
  'modules.alias.bin',
  'modules.softdep',
  'modules.symbols',
  'modules.symbols.bin',
  'modules.builtin.bin',
  'modules.builtin.alias.bin',
  'modules.devname',
];

const SELECTION = [
  'kernel/drivers/net/ethernet/intel/**',
  'kernel/drivers/net/virtio_net*',
  'kernel/fs/ext4/**',
  '8021q',
  'br_netfilter',
  'overlay',
  'nvme',
  'ahci',
];

interface PackageRecord {
  Package: string;
  Version: string;
  Filename: string;
  SHA256: string;
  Depends?: string;
}

/** One architecture's kernel package, extracted, with the modinfo of every module. */
interface Kernel {
  version: string;
  moduleDir: string;
  builtin: KernelBuiltinData;
  modules: ModuleInfo[];
}

let work: string;
let amd64: Kernel;

function stanza(packagesText: string, name: string): PackageRecord {
  const start = packagesText.indexOf(`Package: ${name}\n`);
  assert.ok(
    start === 0 || (start > 0 && packagesText[start - 1] === '\n'),
    `${name} is in trixie's Packages`,
  );
  const end = packagesText.indexOf('\n\n', start);
  const record: Record<string, string> = {};
  for (const line of packagesText.slice(start, end < 0 ? undefined : end).split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0 && !line.startsWith(' ')) record[line.slice(0, colon)] = line.slice(colon + 2);
  }
  return record as unknown as PackageRecord;
}

/** The versioned kernel package's record, looked up once and then kept beside the cache. */
async function kernelPackage(mirror: string, arch: string): Promise<PackageRecord> {
  const meta = `linux-image-${arch}`;
  const recordPath = join(cacheDir, `${meta}.json`);
  if (existsSync(recordPath)) return JSON.parse(readFileSync(recordPath, 'utf8')) as PackageRecord;
  const indexPath = join(cacheDir, `trixie-main-${arch}-Packages.xz`);
  if (!existsSync(indexPath)) {
    await downloadToFile(`${mirror}/dists/trixie/main/binary-${arch}/Packages.xz`, indexPath);
  }
  const text = Buffer.from(await decompress(readFileSync(indexPath))).toString('utf8');
  const depends = stanza(text, meta).Depends ?? '';
  const versioned = /^(linux-image-\S+)/.exec(depends)?.[1];
  assert.ok(versioned, `${meta} depends on a versioned kernel package (${depends})`);
  const record = stanza(text, versioned);
  writeFileSync(recordPath, JSON.stringify(record));
  return record;
}

async function kernelDeb(arch: string): Promise<string> {
  const mirror = discoverMirrors().mirror;
  assert.ok(mirror, 'the host apt sources name a Debian mirror');
  mkdirSync(cacheDir, { recursive: true });
  const record = await kernelPackage(mirror, arch);
  const debPath = join(cacheDir, record.Filename.slice(record.Filename.lastIndexOf('/') + 1));
  if (!existsSync(debPath)) {
    await downloadToFile(`${mirror}/${record.Filename}`, debPath, { sha256: record.SHA256 });
  }
  return debPath;
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out;
}

async function prepareKernel(arch: string): Promise<Kernel> {
  const deb = await kernelDeb(arch);
  const extracted = join(work, `deb-${arch}`);
  mkdirSync(extracted);
  // Fine for a test fixture: the builder itself reads the .deb without dpkg.
  execFileSync('sh', [
    '-c',
    'dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" ./usr/lib/modules',
    'sh',
    deb,
    extracted,
  ]);
  const versions = readdirSync(join(extracted, 'usr/lib/modules'));
  assert.equal(versions.length, 1, 'one kernel version in the package');
  const version = versions[0] as string;
  const moduleDir = join(extracted, 'usr/lib/modules', version);
  const builtin = {
    modulesBuiltin: readFileSync(join(moduleDir, 'modules.builtin'), 'latin1'),
    modulesBuiltinModinfo: readFileSync(join(moduleDir, 'modules.builtin.modinfo')),
    modulesOrder: readFileSync(join(moduleDir, 'modules.order'), 'latin1'),
  };
  const started = performance.now();
  const modules: ModuleInfo[] = [];
  for (const path of walk(moduleDir, 'kernel').sort()) {
    modules.push(await loadModuleInfo(path, readFileSync(join(moduleDir, path))));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`# ${version}: ${modules.length} modules, modinfo of all read in ${seconds.toFixed(1)} s`);
  return { version, moduleDir, builtin, modules };
}

/** A depmod base directory holding `paths` (linked from the package) and the package's metadata files. */
function makeRoot(kernel: Kernel, name: string, paths: string[]): string {
  const root = join(work, name);
  const dir = join(root, 'lib/modules', kernel.version);
  for (const path of paths) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(join(kernel.moduleDir, path), join(dir, path));
  }
  for (const file of ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']) {
    writeFileSync(join(dir, file), readFileSync(join(kernel.moduleDir, file)));
  }
  return root;
}

function runDepmod(root: string, version: string): void {
  execFileSync('depmod', ['-b', root, version], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function assertSameAsDepmod(root: string, version: string, ours: Map<string, Uint8Array>): void {
  const dir = join(root, 'lib/modules', version);
  for (const file of COMPARED) {
    const theirs = readFileSync(join(dir, file));
    const mine = ours.get(file);
    assert.ok(mine, `we generate ${file}`);
    if (Buffer.compare(theirs, Buffer.from(mine)) !== 0) {
      assert.fail(`${file} differs from depmod's (${theirs.byteLength} vs ${mine.byteLength} bytes)`);
    }
  }
}

/** Runs depmod on the whole tree and compares; returns how long our generation took. */
function compareWholeTree(kernel: Kernel, name: string): void {
  const { modules, version, builtin } = kernel;
  assert.ok(modules.length > 3000, `a full Debian kernel has thousands of modules (${modules.length})`);
  const root = makeRoot(
    kernel,
    name,
    modules.map((m) => m.path),
  );
  runDepmod(root, version);
  const started = performance.now();
  const ours = generateDepmod(
    modules.map((info) => ({ path: info.path, info })),
    builtin,
    version,
  );
  console.log(
    `# ${name}: depmod data for ${modules.length} modules generated in ${(performance.now() - started).toFixed(0)} ms`,
  );
  assertSameAsDepmod(root, version, ours);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'hook-kernel-depmod-'));
  amd64 = await prepareKernel('amd64');
});

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

test("amd64, whole module tree: our files equal depmod's byte for byte", () => {
  compareWholeTree(amd64, 'full-amd64');
});

test("arm64, whole module tree: our files equal depmod's byte for byte", async () => {
  compareWholeTree(await prepareKernel('arm64'), 'full-arm64');
});

test("modinfo fields agree with kmod's modinfo on a sample of modules", () => {
  const sample = amd64.modules.filter(
    (m, i) => i % 150 === 0 || ['tg3', 'bnx2', 'r8169', 'e1000e', 'loop'].includes(m.name),
  );
  assert.ok(sample.length > 25);
  const fields: Array<[string, (m: ModuleInfo) => string[]]> = [
    ['alias', (m) => m.aliases],
    ['firmware', (m) => m.firmware],
    ['softdep', (m) => m.softdeps],
    ['depends', (m) => (m.depends.length === 0 ? [''] : [m.depends.join(',')])],
    ['vermagic', (m) => (m.vermagic === undefined ? [] : [m.vermagic])],
  ];
  for (const m of sample) {
    for (const [field, ours] of fields) {
      const file = join(amd64.moduleDir, m.path);
      const out = execFileSync('modinfo', ['-0', '-F', field, file], { encoding: 'latin1' });
      const theirs = out === '' ? [] : out.split('\0').slice(0, -1);
      assert.deepEqual(ours(m), theirs, `${field} of ${m.path}`);
    }
  }
  assert.ok(
    sample.some((m) => m.firmware.length > 0),
    'the sample has modules that name firmware',
  );
});

test("a realistic selection: closed under dependencies, files equal depmod's, modprobe resolves through them", () => {
  const { version, moduleDir, builtin } = amd64;
  const selected = selectModules(amd64.modules, SELECTION);
  const names = new Set(selected.map((m) => m.name));
  const wanted = ['8021q', 'br_netfilter', 'overlay', 'nvme', 'ahci', 'ext4', 'virtio_net', 'e1000e', 'igb'];
  for (const name of wanted) assert.ok(names.has(name), `${name} is selected`);
  for (const m of selected) {
    for (const dep of m.depends) {
      assert.ok(names.has(dep.replaceAll('-', '_')), `${m.name} needs ${dep}, which is selected`);
    }
  }

  const root = makeRoot(
    amd64,
    'selected',
    selected.map((m) => m.path),
  );
  runDepmod(root, version);
  const started = performance.now();
  const ours = generateDepmod(
    selected.map((info) => ({ path: info.path, info })),
    builtin,
    version,
  );
  const ms = (performance.now() - started).toFixed(0);
  console.log(`# depmod data for ${selected.length} selected modules generated in ${ms} ms`);
  assertSameAsDepmod(root, version, ours);

  // Every module modules.dep names is in the selection.
  const modulesDep = Buffer.from(ours.get('modules.dep') as Uint8Array).toString('latin1');
  const listed = new Set(modulesDep.split(/[\s:]+/).filter((p) => p !== ''));
  const selectedPaths = new Set(selected.map((m) => m.path));
  for (const path of listed) assert.ok(selectedPaths.has(path), `${path} from modules.dep is selected`);

  // modprobe against a root that holds only the modules and OUR files.
  const oursRoot = join(work, 'ours');
  const oursDir = join(oursRoot, 'lib/modules', version);
  for (const path of selected.map((m) => m.path)) {
    mkdirSync(dirname(join(oursDir, path)), { recursive: true });
    symlinkSync(join(moduleDir, path), join(oursDir, path));
  }
  for (const file of DEPMOD_FILES) writeFileSync(join(oursDir, file), ours.get(file) as Uint8Array);
  const modprobe = (...args: string[]) =>
    execFileSync('modprobe', ['-d', oursRoot, '-S', version, ...args], { encoding: 'utf8' });
  const chain = modprobe('--show-depends', 'br_netfilter')
    .trim()
    .split('\n')
    .map((line) => /^insmod (\S+)/.exec(line)?.[1]?.slice(oursDir.length + 1));
  const depLine = modulesDep
    .split('\n')
    .find((line) => line.startsWith('kernel/net/bridge/br_netfilter.ko.xz:'));
  assert.ok(depLine, 'modules.dep has br_netfilter');
  const expected = [
    ...(depLine.split(':')[1] as string).trim().split(' ').reverse(),
    'kernel/net/bridge/br_netfilter.ko.xz',
  ];
  assert.deepEqual(chain, expected);
  assert.ok(expected.includes('kernel/net/bridge/bridge.ko.xz'), 'br_netfilter needs bridge');

  // Aliases resolve through our modules.alias.bin too (e1000e's PCI ids), and built-in modules are known.
  const e1000e = selected.find((m) => m.name === 'e1000e');
  const pciAlias = e1000e?.aliases.find((a) => a.startsWith('pci:v00008086d'));
  assert.ok(pciAlias, 'e1000e has a PCI alias');
  assert.match(modprobe('-R', pciAlias.replaceAll('*', '00')), /^e1000e$/m);
  const someBuiltin = /([^/\n]+)\.ko\n/.exec(builtin.modulesBuiltin)?.[1]?.replaceAll('-', '_');
  assert.ok(someBuiltin, 'modules.builtin names a module');
  assert.match(modprobe('--show-depends', someBuiltin), /^builtin /m);
});
