/**
 * The aarch64 build ships Debian's device trees as Hook does: `dtbs-aarch64.tar.gz`, every entry
 * under `dtbs-aarch64/`, on its own and inside `hook_aarch64.tar.gz` after the kernel and the
 * initramfs. Oracles: GNU tar (`tar -tzf`, `--strip-components=1 -x`, as Hook's U-Boot media
 * script unpacks it), `dpkg-deb` on the verified kernel package, `sha512sum -c`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createContext } from '../src/pipeline/context.ts';
import { readLock } from '../src/pipeline/lockfile.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { buildDefaultOs } from './helpers/built-os.ts';

const sh = (command: string, args: string[], cwd?: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

test('dtbs-aarch64.tar.gz: Debian arm64 kernel device trees under dtbs-aarch64/, alone and in the bundle', {
  timeout: 15 * 60_000,
}, async (t) => {
  const started = performance.now();
  const { outDir, kernelVersion } = await buildDefaultOs('aarch64');
  const built = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'hook-dtbs-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const archive = join(outDir, 'dtbs-aarch64.tar.gz');

  const listed = sh('tar', ['-tzf', archive]).trimEnd().split('\n');
  const outside = listed.filter((name) => !name.startsWith('dtbs-aarch64/'));
  assert.deepEqual(outside, [], 'every entry is under the dtbs-aarch64/ folder');
  assert.equal(listed[0], 'dtbs-aarch64/');

  // The oracle: the kernel package itself, read by dpkg-deb from the verified download cache.
  const lock = await readLock(join(outDir, 'hook-aarch64.lock'));
  const kernel = lock?.packages.find((p) => p.role === 'kernel' && p.name.startsWith('linux-image-'));
  assert.ok(kernel, 'the lock names the kernel package');
  const { cacheDir } = createContext({ arch: 'aarch64', reporter: silentReporter });
  const deb = join(cacheDir, 'sha256', kernel.sha256.slice(0, 2), kernel.sha256);
  const folder = `./usr/lib/linux-image-${kernelVersion}/`;
  const debFiles = sh('sh', ['-c', `dpkg-deb -c "$1" | awk '{print $6}'`, 'sh', deb])
    .split('\n')
    .filter((path) => path.startsWith(folder) && !path.endsWith('/'))
    .map((path) => `dtbs-aarch64/${path.slice(folder.length)}`)
    .sort();
  const ourFiles = listed.filter((name) => !name.endsWith('/')).sort();
  assert.ok(debFiles.length > 900, `${debFiles.length} device trees in ${kernel.name}`);
  assert.deepEqual(ourFiles, debFiles, 'the same files as the package (.dtb and .dtbo)');

  // Unpacked as Hook's U-Boot media script does, the bytes are the package's.
  const ours = join(work, 'ours');
  const theirs = join(work, 'deb');
  sh('mkdir', ['-p', ours, theirs]);
  sh('tar', ['-C', ours, '--strip-components=1', '-xzf', archive]);
  sh('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -C "$2" -x "$3"`, 'sh', deb, theirs, folder]);
  sh('diff', ['-r', ours, join(theirs, folder)]);

  // Hook's bundle: vmlinuz, initramfs, then the device trees, at the top level.
  const bundle = join(outDir, 'hook_aarch64.tar.gz');
  assert.deepEqual(sh('tar', ['-tzf', bundle]).trimEnd().split('\n'), [
    'vmlinuz-aarch64',
    'initramfs-aarch64',
    'dtbs-aarch64.tar.gz',
  ]);
  const inBundle = execFileSync('tar', ['-xzOf', bundle, 'dtbs-aarch64.tar.gz'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  assert.ok(inBundle.equals(await readFile(archive)), 'the bundle carries the same bytes');

  const checked = sh('sha512sum', ['-c', 'checksum.txt'], outDir);
  assert.match(checked, /^dtbs-aarch64\.tar\.gz: OK$/m);
  const size = (await readFile(archive)).byteLength;
  process.stdout.write(
    `# dtbs-aarch64.tar.gz: ${debFiles.length} files, ${(size / 1e6).toFixed(1)} MB; build ${((built - started) / 1000).toFixed(1)} s, checks ${((performance.now() - built) / 1000).toFixed(1)} s\n`,
  );
});
