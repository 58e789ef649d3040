/**
 * Build errors that need the archive: an unknown package is reported at its node in the spec
 * with near matches, and a failed build leaves the previous outputs as they were.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isHookError } from '../src/errors.ts';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { tempDir } from './helpers/temp-dir.ts';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/spec/${name}`, import.meta.url));

test('an unknown package is named at its line and column, with suggestions', {
  timeout: 5 * 60_000,
}, async () => {
  const file = fixture('unknown-package.yaml');
  const outDir = await tempDir('hook-unknown-');
  await assert.rejects(build({ specFile: file, outDir, reporter: silentReporter }), (error) => {
    assert.ok(isHookError(error), String(error));
    assert.equal(error.code, 'E_SPEC');
    assert.match(error.message, new RegExp(`^${file}:7:5: packages\\[3\\]: Unknown package "systemdd"`));
    assert.match(error.hint ?? '', /systemd\b/);
    return true;
  });
});

test('a build that fails leaves the previous outputs intact', { timeout: 20 * 60_000 }, async () => {
  const image = await buildDefaultOs('x86_64');
  const outDir = await tempDir('hook-keep-');
  await cp(image.outDir, outDir, { recursive: true, verbatimSymlinks: true });
  const digest = async (name: string) =>
    createHash('sha256')
      .update(await readFile(join(outDir, name)))
      .digest('hex');
  const names = [
    'vmlinuz-x86_64',
    'initramfs-x86_64',
    'hook_x86_64.tar.gz',
    'checksum.txt',
    'hook-x86_64.lock',
  ];
  const before = await Promise.all(names.map(digest));

  const spec = join(outDir, 'small.yaml');
  const text = await readFile(fileURLToPath(new URL('../hook.yaml', import.meta.url)), 'utf8');
  await writeFile(spec, text.replace(/^sizeBudget: .*$/m, 'sizeBudget: 64MiB'));
  await assert.rejects(build({ specFile: spec, outDir, reporter: silentReporter }), (error) => {
    assert.ok(isHookError(error));
    assert.equal(error.code, 'E_BUDGET');
    assert.match(error.message, /over the size budget of 64 MiB/);
    assert.match(error.hint ?? '', /docker\.io \d/, 'the hint names the largest packages');
    return true;
  });
  assert.deepEqual(await Promise.all(names.map(digest)), before);
});

test('a spec that drops a package HookOS needs is refused, naming the service that needs it', {
  timeout: 5 * 60_000,
}, async () => {
  const dir = await tempDir('hook-required-');
  const spec = join(dir, 'hook.yaml');
  const text = await readFile(fileURLToPath(new URL('../hook.yaml', import.meta.url)), 'utf8');
  assert.match(text, /^ {2}- socat\b/m);
  await writeFile(spec, text.replace(/^ {2}- socat\b.*\n/m, ''));
  await assert.rejects(
    build({ specFile: spec, outDir: join(dir, 'out'), reporter: silentReporter }),
    (error) => {
      assert.ok(isHookError(error), String(error));
      assert.equal(error.code, 'E_SPEC');
      assert.match(
        error.message,
        /: packages: .*hook-bootkit, docker needs the package socat \(HTTP to the Docker API/,
      );
      assert.match(error.hint ?? '', /Add socat to packages/);
      return true;
    },
  );
});
