/**
 * kernel.modules against Debian trixie's real kernel packages (amd64, arm64), fetched and verified the
 * way a build does (the shared download cache makes reruns offline): every pattern of the
 * default spec matches, a misspelt one is named at its node with the right spelling as a
 * hint, and the module list read from the .deb is the one dpkg-deb lists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { before, test } from 'node:test';
import type { Arch } from '../src/arch.ts';
import { readDebCached } from '../src/pipeline/cache/deb-cache.ts';
import { createContext } from '../src/pipeline/context.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { fetchLocked } from '../src/pipeline/stages/fetch.ts';
import { resolvePackages } from '../src/pipeline/stages/resolve.ts';
import { checkModulePatterns, modulePathsOf } from '../src/specfile/checks.ts';
import { parseSpec, SpecError } from '../src/specfile/load.ts';
import { tempDir } from './helpers/temp-dir.ts';

/** The kernel package of the default spec for `arch`: its .deb and its module paths. */
async function kernelModules(arch: Arch): Promise<{ debPath: string; modulePaths: string[] }> {
  const outDir = await tempDir('hook-modules-');
  const ctx = createContext({ arch, outDir, reporter: silentReporter });
  const lock = await resolvePackages(ctx, { kernel: true });
  const kernel = lock.packages.filter((p) => p.role === 'kernel' && /^linux-image-\d/.test(p.name));
  assert.equal(kernel.length, 1, 'one versioned kernel package');
  const paths = await fetchLocked(ctx, { ...lock, packages: kernel });
  const pkg = kernel[0] as (typeof kernel)[number];
  const debPath = paths.get(pkg.sha256) as string;
  const deb = await readDebCached(ctx.cacheDir, pkg.sha256, debPath, pkg.filename);
  return { debPath, modulePaths: modulePathsOf(deb.data) };
}

let amd64: { debPath: string; modulePaths: string[] };

before(async () => {
  amd64 = await kernelModules('x86_64');
});

test('the module files read from the kernel .deb are the ones dpkg-deb lists', { timeout: 600_000 }, () => {
  const listing = execFileSync('dpkg-deb', ['--contents', amd64.debPath], {
    maxBuffer: 256 << 20,
    encoding: 'utf8',
  });
  const fromDpkg = listing
    .split('\n')
    .filter((line) => line.startsWith('-'))
    .map((line) => /\.\/(?:usr\/)?lib\/modules\/[^/]+\/(\S+\.ko(?:\.xz|\.zst|\.gz)?)$/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  assert.ok(fromDpkg.length > 3000, `${fromDpkg.length} modules`);
  assert.deepEqual([...amd64.modulePaths].sort(), fromDpkg.sort());
});

test('every kernel.modules pattern of the default spec matches a module, on both architectures', {
  timeout: 600_000,
}, async () => {
  const ctx = createContext({ outDir: tmpdir(), reporter: silentReporter });
  assert.doesNotThrow(() => checkModulePatterns(ctx.loaded, amd64.modulePaths));
  // arm64 has no kernel/drivers/scsi/pcmcia/, which the spec excludes: exclusions may match nothing.
  const arm64 = await kernelModules('aarch64');
  assert.ok(!arm64.modulePaths.some((p) => p.startsWith('kernel/drivers/scsi/pcmcia/')));
  assert.doesNotThrow(() => checkModulePatterns(ctx.loaded, arm64.modulePaths));
});

test('misspelt patterns are named at their nodes with the real spellings as hints', () => {
  const loaded = parseSpec(
    'packages: [systemd]\nkernel:\n  modules: [kernel/drivers/net/etherent/**, virtio_nett, kernel/fs/btrf/**]\n',
    'hook.yaml',
    tmpdir(),
  );
  assert.throws(
    () => checkModulePatterns(loaded, amd64.modulePaths),
    (error: unknown) => {
      assert.ok(error instanceof SpecError);
      assert.deepEqual(error.message.split('\n'), [
        'hook.yaml:3:13: kernel.modules[0]: "kernel/drivers/net/etherent/**" matches no module of the kernel package',
        'hook.yaml:3:45: kernel.modules[1]: no kernel module named "virtio_nett" in the kernel package',
        'hook.yaml:3:58: kernel.modules[2]: "kernel/fs/btrf/**" matches no module of the kernel package',
      ]);
      const hints = (error.hint ?? '').split('\n');
      assert.match(hints[0] ?? '', /did you mean "kernel\/drivers\/net\/ethernet\/\*\*"\?/);
      assert.match(hints[1] ?? '', /^Did you mean virtio_net\b/);
      assert.match(hints[2] ?? '', /did you mean "kernel\/fs\/btrfs\/\*\*"\?/);
      return true;
    },
  );
});
