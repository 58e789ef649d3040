/**
 * Publishing survives a crash at any step: a build process is killed (SIGKILL, injected with
 * HOOK_TEST_CRASH_AT, not by timing) at every point of publishing in turn, and after each
 * kill the output folder shows one complete set: `sha512sum -c checksum.txt` passes and the
 * bundle holds exactly the initramfs and kernel the folder serves.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from './helpers/temp-dir.ts';

const CHILD = join(import.meta.dirname, 'fixtures', 'publish', 'child.ts');

function publish(outDir: string, generation: number, crashAt?: number) {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, outDir, String(generation)], {
    env: { ...process.env, HOOK_TEST_CRASH_AT: crashAt === undefined ? '' : String(crashAt) },
    encoding: 'utf8',
  });
}

/** The folder serves one complete, consistent set. */
async function assertConsistent(outDir: string, when: string): Promise<string> {
  const check = spawnSync('sha512sum', ['--check', '--strict', 'checksum.txt'], {
    cwd: outDir,
    encoding: 'utf8',
  });
  assert.equal(check.status, 0, `${when}: sha512sum -c failed:\n${check.stdout}${check.stderr}`);
  const work = await tempDir('hook-bundle-');
  execFileSync('tar', ['-xzf', join(outDir, 'hook_x86_64.tar.gz'), '-C', work]);
  for (const name of ['initramfs-x86_64', 'vmlinuz-x86_64']) {
    const served = await readFile(join(outDir, name));
    assert.ok(
      served.equals(await readFile(join(work, name))),
      `${when}: the bundle's ${name} is not the one served`,
    );
  }
  return (await readFile(join(outDir, 'hook-x86_64.report.json'), 'utf8')).length.toString();
}

test('a build killed at any step of publishing leaves one complete set', {
  timeout: 10 * 60_000,
}, async () => {
  const outDir = await tempDir('hook-publish-');
  assert.equal(publish(outDir, 0).status, 0, 'the first publish');
  await assertConsistent(outDir, 'after the first publish');
  let step = 1;
  for (; ; step++) {
    const run = publish(outDir, step, step);
    if (run.status === 0) break;
    assert.equal(run.signal, 'SIGKILL', `publish ${step}: ${run.stderr}`);
    await assertConsistent(outDir, `killed at step ${step}`);
    // The next build after a crash publishes normally.
    assert.equal(publish(outDir, 1000 + step).status, 0, `publish after the crash at step ${step}`);
    await assertConsistent(outDir, `publish after the crash at step ${step}`);
  }
  assert.ok(step > 6, `only ${step - 1} crash points were reached`);
  process.stdout.write(`# publishing survived a kill at each of ${step - 1} steps\n`);
});
