/**
 * Issue 3, `hook build`: a first build with the packages cached but no build caches, a
 * rebuild with nothing changed, and a rebuild after one `files:` entry changed, each run as
 * the CLI (`node bin/hook.js build`) in a child process, as a user runs it. The reference is
 * the same package set put together by mmdebstrap and packed into a zstd cpio by the usual
 * tools. mmdebstrap uses `--variant=extract` — unpack the packages, run no maintainer script —
 * which is the work `hook build` does (it runs none either); packages and apt lists are put
 * into its chroot beforehand, so neither side downloads anything but InRelease files.
 */
import { execFile } from 'node:child_process';
import { copyFile, link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { casPath, defaultCacheDir } from '../src/debian/cache.ts';
import type { BuildReport } from '../src/pipeline/artifacts/report.ts';
import type { LockFile } from '../src/pipeline/lockfile.ts';
import { createAptSim, hostDebianMirrors } from '../test/helpers/apt-sim.ts';
import { log, type Row, seconds, timeRow, timeRuns } from './measure.ts';

export const title = 'build';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = 3;
const MB = 1e6;
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

async function hookBuild(spec: string, outDir: string, cacheDir: string, ...extra: string[]): Promise<void> {
  await run(
    process.execPath,
    [join(REPO, 'bin', 'hook.js'), 'build', spec, '--out', outDir, '--cache', cacheDir, '-q', ...extra],
    {
      maxBuffer: 64 << 20,
    },
  );
}

/** A copy of the default spec with one more `files:` entry, read from `bench-file.txt`. */
async function writeSpec(dir: string): Promise<string> {
  const doc = parseDocument(await readFile(join(REPO, 'hook.yaml'), 'utf8'));
  doc.addIn(['files'], doc.createNode({ path: 'etc/hook-bench', source: 'bench-file.txt' }));
  const spec = join(dir, 'hook.yaml');
  await writeFile(spec, doc.toString());
  await writeFile(join(dir, 'bench-file.txt'), 'run 0\n');
  return spec;
}

export async function bench(): Promise<Row[]> {
  const root = await mkdtemp(join(tmpdir(), 'hook-bench-build-'));
  try {
    const cacheDir = join(root, 'cache');
    await mkdir(cacheDir);
    // Packages (and indexes) come from the shared download cache; every build cache starts empty.
    await symlink(join(defaultCacheDir(), 'sha256'), join(cacheDir, 'sha256'));
    const spec = await writeSpec(root);
    const outDir = join(root, 'out');

    log('build: first build (packages cached, build caches empty)');
    const first = await seconds(() => hookBuild(spec, outDir, cacheDir));
    log('build: rebuilds with nothing changed');
    const noChange = await timeRuns(RUNS, () => hookBuild(spec, outDir, cacheDir));
    log('build: rebuilds after one files: entry changed');
    const oneFile = await timeRuns(
      RUNS,
      () => hookBuild(spec, outDir, cacheDir),
      (i) => writeFile(join(root, 'bench-file.txt'), `run ${i + 1} ${Date.now()}\n`),
    );
    const report = JSON.parse(await readFile(join(outDir, 'hook-x86_64.report.json'), 'utf8')) as BuildReport;
    const lock = JSON.parse(await readFile(join(outDir, 'hook-x86_64.lock'), 'utf8')) as LockFile;

    log('build: aarch64, for its size');
    const armOut = join(root, 'out-aarch64');
    await hookBuild(spec, armOut, cacheDir, '--arch', 'aarch64');
    const arm = JSON.parse(await readFile(join(armOut, 'hook-aarch64.report.json'), 'utf8')) as BuildReport;

    log(`build: reference, mmdebstrap + cpio + zstd of the same ${lock.packages.length} packages`);
    const reference = await mmdebstrapReference(root, lock, cacheDir);
    const refLabel = `mmdebstrap, cpio, zstd: ${(reference.bytes / MB).toFixed(0)} MB`;
    return [
      timeRow('hook build, first (packages cached, no build cache)', [first], {
        reference: { label: refLabel, value: reference.seconds },
        goal: { op: '<=', value: 90 },
      }),
      timeRow('hook build, nothing changed', noChange, { goal: { op: '<', value: 2 } }),
      timeRow('hook build, one files: entry changed', oneFile, { goal: { op: '<', value: 5 } }),
      // References: issue 12's figures before the lean work (166.5 MiB, 438.7 MiB).
      sizeRow('initramfs-x86_64 compressed', report.initramfsBytes, 90, 174.5),
      sizeRow('initramfs-x86_64 uncompressed', report.uncompressedBytes, 400, 460.0),
      sizeRow('initramfs-aarch64 compressed', arm.initramfsBytes, 90),
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function sizeRow(measurement: string, bytes: number, goalMb: number, beforeMb?: number): Row {
  return {
    ...(beforeMb === undefined ? {} : { reference: { label: 'before, issue 12', value: beforeMb } }),
    measurement,
    median: bytes / MB,
    unit: 'MB',
    runs: 1,
    samples: [bytes / MB],
    goal: { op: '<=', value: goalMb },
  };
}

/** apt's name for a downloaded package: `name_version_arch.deb`, the epoch colon as `%3a`. */
function archiveName(pkg: LockFile['packages'][number]): string {
  return `${pkg.name}_${pkg.version.replace(':', '%3a')}_${pkg.architecture}.deb`;
}

async function mmdebstrapReference(
  root: string,
  lock: LockFile,
  cacheDir: string,
): Promise<{ seconds: number; bytes: number }> {
  const debs = join(root, 'ref-debs');
  await mkdir(debs);
  for (const pkg of lock.packages) {
    const from = casPath(cacheDir, pkg.sha256);
    await link(from, join(debs, archiveName(pkg))).catch(() => copyFile(from, join(debs, archiveName(pkg))));
  }
  const apt = await createAptSim('amd64'); // the same lists apt would download, already here
  const lists = join(root, 'ref-lists');
  await mkdir(lists);
  const aptLists = join(apt.root, 'state', 'lists');
  for (const name of await readdir(aptLists)) {
    if (/_(InRelease|Packages)$/.test(name)) await copyFile(join(aptLists, name), join(lists, name));
  }
  const { mirror, securityMirror } = await hostDebianMirrors();
  const components = 'main non-free-firmware';
  const sources = [
    `deb [signed-by=${KEYRING}] ${mirror} trixie ${components}`,
    `deb [signed-by=${KEYRING}] ${mirror} trixie-updates ${components}`,
    `deb [signed-by=${KEYRING}] ${securityMirror} trixie-security ${components}`,
  ];
  const tar = join(root, 'ref.tar');
  const tree = join(root, 'ref-root');
  const image = join(root, 'ref.cpio.zst');
  const time = await seconds(async () => {
    await run(
      'mmdebstrap',
      [
        '--quiet',
        '--variant=extract',
        '--architectures=amd64',
        `--include=${lock.packages.map((p) => p.name).join(',')}`,
        '--aptopt=APT::Install-Recommends "false"',
        `--setup-hook=mkdir -p "$1"/var/cache/apt/archives/ "$1"/var/lib/apt/lists/`,
        `--setup-hook=sync-in ${debs} /var/cache/apt/archives/`,
        `--setup-hook=sync-in ${lists} /var/lib/apt/lists/`,
        'trixie',
        tar,
        ...sources,
      ],
      { maxBuffer: 64 << 20 },
    );
    await mkdir(tree);
    await run('tar', ['-xf', tar, '-C', tree]);
    await run('sh', [
      '-c',
      `cd "${tree}" && find . | cpio -o -H newc --quiet | zstd -3 -T1 -q -o "${image}"`,
    ]);
  });
  const { stdout } = await run('stat', ['-c', '%s', image]);
  return { seconds: time, bytes: Number(stdout.trim()) };
}
