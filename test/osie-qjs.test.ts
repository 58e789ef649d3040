/**
 * The OS services' tests (osie/**\/*.test.ts) on the runtime the OS uses: each file is bundled
 * with the image's settings and run under Debian trixie's qjs (with trixie's socat and bash),
 * through osie/test-runner. Each qjs test shows up here as a subtest. The runner itself is checked
 * first: a failing, rejecting or overlong test fails, and a file that imports a Node module is
 * refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { osieTestFiles, runQjsTestFile } from '../osie/test-runner/run.ts';
import { qjsRuntime } from '../osie/test-runner/runtime.ts';
import { removeOnExit } from './helpers/temp-dir.ts';

/** The runner's scratch folder (one per process, hook-qjs-tests-*) holds the bundles; a failure names one. */
const removeScratch = (bundle: string) => removeOnExit(dirname(bundle), { keepOnFailure: true });

test('the runner reports each outcome of a qjs test file, and refuses Node modules', async () => {
  const runtime = await qjsRuntime();
  assert.ok(
    runtime.packages.some((p) => p.startsWith('quickjs ')),
    runtime.packages.join(', '),
  );
  const run = await runQjsTestFile('osie/test-runner/fixtures/runner-fixture.ts');
  removeScratch(run.bundle);
  assert.deepEqual(
    run.results.map((r) => [r.name, r.ok]),
    [
      ['passes', true],
      ['fails an assertion', false],
      ['rejects later', false],
      ['runs too long', false],
      ['still runs after the others', true],
    ],
  );
  assert.equal(run.exitCode, 1);
  assert.match(run.results[1]?.error ?? '', /AssertionError: Expected values to be deep-equal/);
  assert.match(run.results[2]?.error ?? '', /rejected after a sleep/);
  assert.match(run.results[3]?.error ?? '', /timed out after 200 ms/);
  await assert.rejects(
    runQjsTestFile('osie/test-runner/fixtures/node-import-fixture.ts'),
    /node:fs is a Node module: code that runs on qjs must use osie\/lib\/platform instead/,
  );
});

test("the code that runs on qjs type-checks without Node's types (no Buffer, process or setTimeout)", async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = await promisify(execFile)(process.execPath, [
    tsc,
    '--noEmit',
    '-p',
    'osie/tsconfig.json',
  ]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  assert.equal(result.stdout, '', 'osie/tsconfig.json (types: []) finds Node-only code');
});

for (const file of await osieTestFiles()) {
  test(file, { timeout: 10 * 60_000 }, async (t) => {
    const run = await runQjsTestFile(file);
    removeScratch(run.bundle);
    for (const result of run.results) {
      await t.test(result.name, { skip: result.skipped === true }, () => {
        if (!result.ok) assert.fail(`${result.error ?? 'failed'}\n(bundle: ${run.bundle})`);
      });
    }
    assert.ok(run.results.length > 0, `no test ran in ${file}:\n${run.output}`);
    assert.equal(run.exitCode, 0, `qjs exited ${run.exitCode}:\n${run.output}`);
  });
}
