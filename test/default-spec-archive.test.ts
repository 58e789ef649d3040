/**
 * The default hook.yaml against the real Debian archive: every package it names exists in
 * trixie for both architectures, so a typo in the documented example cannot ship. Only the
 * package names are read here (the archive client verifies signatures; this test does not
 * need to). Indexes are cached in the shared download cache.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { debianArch } from '../src/arch.ts';
import { resolveArchiveSettings } from '../src/debian/sources.ts';
import { loadSpec } from '../src/specfile/load.ts';

const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hook', 'spec-test');

async function packageNames(
  mirror: string,
  suite: string,
  component: string,
  arch: string,
): Promise<Set<string>> {
  mkdirSync(cacheDir, { recursive: true });
  const cached = join(cacheDir, `${suite}-${component}-${arch}-Packages.xz`);
  if (!existsSync(cached)) {
    const url = `${mirror}/dists/${suite}/${component}/binary-${arch}/Packages.xz`;
    const response = await fetch(url);
    assert.equal(response.status, 200, url);
    const partial = `${cached}.${process.pid}.part`;
    writeFileSync(partial, new Uint8Array(await response.arrayBuffer()));
    renameSync(partial, cached);
  }
  const text = execFileSync('xz', ['-dc', cached], { maxBuffer: 1 << 30 }).toString('utf8');
  return new Set([...text.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]!));
}

for (const arch of ['x86_64', 'aarch64'] as const) {
  test(`every package of the default spec exists in trixie for ${arch}`, { timeout: 600_000 }, async () => {
    const { spec } = loadSpec();
    const { mirror } = resolveArchiveSettings({});
    const debarch = debianArch(arch);
    const main = await packageNames(mirror, 'trixie', 'main', debarch);
    const firmware = await packageNames(mirror, 'trixie', 'non-free-firmware', debarch);
    assert.ok(main.size > 10_000, `only ${main.size} packages in trixie main`);
    const missing = spec.packages.map((p) => p.name).filter((name) => !main.has(name));
    assert.deepEqual(missing, [], 'packages missing from trixie main');
    const missingFirmware = spec.kernel.firmware.packages.filter((name) => !firmware.has(name));
    assert.deepEqual(missingFirmware, [], 'firmware packages missing from trixie non-free-firmware');
    const kernel = spec.kernel.package.replace('{debarch}', debarch).replace('{arch}', arch);
    assert.ok(main.has(kernel), kernel);
  });
}
