/**
 * The build's promises about its outputs: byte-identical artifacts from two builds of the same
 * spec, every initramfs segment readable by GNU cpio, a bundle with the two files at top
 * level, checksums `sha512sum -c` accepts, a complete lock and SBOM, and both architectures.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultCacheDir } from '../src/debian/cache.ts';
import { decompress } from '../src/formats/compress.ts';
import { readCpio } from '../src/formats/cpio.ts';
import { splitZstdFrames, zstdFrameEnd } from '../src/formats/zstd-frames.ts';
import { readInitramfs } from '../src/pipeline/initramfs/early-boot.ts';
import type { LockFile } from '../src/pipeline/lockfile.ts';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { osFiles, unresolvedLibraries } from './helpers/os-files.ts';
import { tempDir } from './helpers/temp-dir.ts';

const ARTIFACTS = ['vmlinuz-x86_64', 'initramfs-x86_64', 'hook_x86_64.tar.gz'];

/** A cache that shares the verified downloads and unpacked packages but has no compressed segments. */
async function cacheWithoutSegments(): Promise<string> {
  const shared = defaultCacheDir();
  const dir = await tempDir('hook-cache-');
  for (const name of ['sha256', 'unpacked', 'modinfo', 'inrelease']) {
    await mkdir(join(shared, name), { recursive: true });
    await symlink(join(shared, name), join(dir, name));
  }
  return dir;
}

test('two builds of the same spec give byte-identical artifacts', { timeout: 30 * 60_000 }, async () => {
  const first = await buildDefaultOs('x86_64');
  const outDir = await tempDir('hook-repro-');
  // The second build compresses every segment again (no segment cache) from another folder.
  const second = await build({ outDir, cacheDir: await cacheWithoutSegments(), reporter: silentReporter });
  assert.ok(
    second.report.segments.every((s) => !s.cached),
    'the second build recompressed its segments',
  );
  for (const name of ARTIFACTS) {
    const a = await readFile(join(first.outDir, name));
    const b = await readFile(join(second.outDir, name));
    assert.ok(a.equals(b), `${name} differs between the two builds`);
  }
});

test('GNU cpio reads the early archive and every payload of the initramfs', {
  timeout: 10 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  const initramfs = await readFile(join(image.outDir, 'initramfs-x86_64'));
  const { early, payloads, index } = await readInitramfs(initramfs);
  const cpioList = (input: Uint8Array, decompress: string) =>
    execFileSync('sh', ['-c', `${decompress} | cpio -t --quiet`], { input, maxBuffer: 1 << 28 })
      .toString()
      .split('\n')
      .filter((line) => line !== '');
  // The early archive is the first zstd frame; the payload carrier follows, uncompressed.
  const [earlyFrame] = splitZstdFrames(initramfs.subarray(0, zstdFrameEnd(initramfs, 0).offset));
  assert.ok(earlyFrame);
  assert.deepEqual(
    cpioList(earlyFrame, 'zstd -dc'),
    early.map((e) => e.name),
  );
  for (const path of ['init', 'usr/bin/busybox', 'usr/bin/zstd', 'dev/console']) {
    assert.ok(
      early.some((e) => e.name === path),
      `${path} is in the early archive`,
    );
  }
  // payload/index: `<kind> <lane> <name> <bytes> <compression>`; `cpio` and `file` lines name
  // payloads, `early` lines the files /init copies from the early archive into the OS.
  const lines = index
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const indexed = lines
    .filter(([kind]) => kind === 'cpio' || kind === 'file')
    .map(([kind, , name]) => (kind === 'file' ? `files/${name}.zst` : name));
  assert.deepEqual(
    payloads.map((p) => p.file),
    indexed,
    'payload/index lists every payload in order',
  );
  assert.equal(
    payloads.length + 1,
    image.report.segments.length,
    'the early archive and one payload per segment',
  );
  let total = 0;
  const names = new Set<string>();
  for (const payload of payloads) {
    if (payload.carrier === undefined) {
      const listed = cpioList(payload.compressed, 'zstd -dc');
      const ours = readCpio(await decompress(payload.compressed)).map((e) => e.name);
      assert.deepEqual(listed, ours, `${payload.file} lists the same entries`);
      total += listed.length;
      for (const name of listed) names.add(name);
    } else {
      // A file payload is one file of the OS: zstd gives back as many bytes as the index says.
      const name = payload.file.slice('files/'.length, -'.zst'.length);
      const bytes = execFileSync('zstd', ['-dc'], { input: payload.compressed, maxBuffer: 1 << 28 });
      const line = lines.find(([kind, , path]) => kind === 'file' && path === name);
      assert.equal(String(bytes.byteLength), line?.[3], `${payload.file}: its size in the index`);
      assert.equal(payload.carrier.mode & 0o170000, 0o100000, `${payload.file} is a regular file`);
      total += 1;
      names.add(name);
    }
  }
  for (const [kind, , name] of lines) {
    if (kind !== 'early') continue;
    assert.ok(name && early.some((e) => e.name === name), `${name} is handed over from the early archive`);
    names.add(name as string);
  }
  for (const path of [
    'usr/lib/systemd/systemd',
    'usr/sbin/dockerd',
    'usr/bin/qjs',
    'usr/bin/docker',
    'usr/bin/busybox',
    'etc/os-release',
  ]) {
    assert.ok(names.has(path), `${path} is in the OS payloads`);
  }
  assert.deepEqual(
    unresolvedLibraries(await osFiles(join(image.outDir, 'initramfs-x86_64'))),
    [],
    'every program finds its libraries: omit: and exclude: broke nothing',
  );
  assert.ok(!names.has('init'), 'the OS itself has no /init: systemd starts after switch_root');
  const reported = image.report.segments
    .filter((segment) => segment.name !== 'early')
    .reduce((sum, segment) => sum + segment.entries, 0);
  assert.equal(total, reported, 'GNU cpio and zstd find as many entries as the build report says');
  assert.ok(total > 2000, `only ${total} entries`);
});

test('the bundle, checksums, lock and SBOM describe the build', { timeout: 10 * 60_000 }, async () => {
  const image = await buildDefaultOs('x86_64');
  const listing = execFileSync('tar', ['-tzvf', 'hook_x86_64.tar.gz'], { cwd: image.outDir }).toString();
  assert.deepEqual(
    listing
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/).at(-1)),
    ['vmlinuz-x86_64', 'initramfs-x86_64'],
    'the two files at the top level, no folder',
  );
  const check = execFileSync('sha512sum', ['-c', 'checksum.txt'], { cwd: image.outDir }).toString();
  for (const name of ARTIFACTS) assert.match(check, new RegExp(`^${name}: OK$`, 'm'));

  const lock = JSON.parse(await readFile(join(image.outDir, 'hook-x86_64.lock'), 'utf8')) as LockFile;
  assert.ok(lock.packages.length > 100);
  for (const pkg of lock.packages) {
    assert.match(pkg.sha256, /^[0-9a-f]{64}$/);
    assert.ok(
      pkg.version !== '' && ['amd64', 'all'].includes(pkg.architecture),
      `${pkg.name} ${pkg.architecture}`,
    );
  }
  // dpkg agrees that the locked kernel is a real Debian version.
  const kernel = lock.packages.find((p) => p.role === 'kernel');
  assert.ok(kernel, 'the kernel package is locked');
  execFileSync('dpkg', ['--compare-versions', kernel.version, 'gt', '6.0']);

  const sbom = JSON.parse(await readFile(join(image.outDir, 'hook-x86_64.spdx.json'), 'utf8'));
  assert.equal(sbom.spdxVersion, 'SPDX-2.3');
  assert.equal(sbom.packages.length, lock.packages.length);
  const docker = sbom.packages.find((p: { name: string }) => p.name === 'docker.io');
  assert.match(docker.externalRefs[0].referenceLocator, /^pkg:deb\/debian\/docker\.io@.+\?arch=amd64$/);
});

test('--arch aarch64 produces the same set of outputs for arm64', { timeout: 30 * 60_000 }, async () => {
  const image = await buildDefaultOs('aarch64');
  const files = (await readdir(image.outDir)).filter((f) => !f.startsWith('.')).sort();
  for (const name of [
    'vmlinuz-aarch64',
    'initramfs-aarch64',
    'hook_aarch64.tar.gz',
    'checksum.txt',
    'hook-aarch64.lock',
  ]) {
    assert.ok(files.includes(name), `${name} in ${files.join(', ')}`);
  }
  const vmlinuz = await readFile(join(image.outDir, 'vmlinuz-aarch64'));
  const lock = JSON.parse(await readFile(join(image.outDir, 'hook-aarch64.lock'), 'utf8')) as LockFile;
  assert.ok(lock.packages.every((p) => p.architecture === 'arm64' || p.architecture === 'all'));
  assert.ok(vmlinuz.byteLength > 1_000_000);
  assert.equal(image.kernelVersion.endsWith('-arm64'), true, image.kernelVersion);
});
