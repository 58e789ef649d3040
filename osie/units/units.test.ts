import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const UNITS_DIR = import.meta.dirname;
/** What systemd says about a unit it cannot fully understand (unknown keys, bad values). */
const PROBLEM = /Unknown (key|section)|Failed to parse|Invalid|bad-setting|not executable|Missing/i;

test('systemd-analyze verify finds no problem in the unit files', async () => {
  const units = (await readdir(UNITS_DIR)).filter((name) => /\.(service|path)$/.test(name));
  assert.ok(units.length >= 5);
  for (const unit of units) {
    // Exit status is not used: units referring to docker.service (absent on the build host) fail to load.
    const result = await run('systemd-analyze', ['verify', '--man=no', join(UNITS_DIR, unit)]).catch(
      (error: { stderr?: string; code?: unknown }) => {
        if (error.code === 'ENOENT')
          throw new Error('systemd-analyze is missing: install the systemd package');
        return { stderr: error.stderr ?? '' };
      },
    );
    const problems = result.stderr.split('\n').filter((line) => PROBLEM.test(line));
    assert.deepEqual(problems, [], unit);
  }
});
