import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { LINK_WAIT_MS } from '../network/networkd.ts';

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

/** The values of `key=` in a unit file (space-separated lists flattened), in order. */
async function unitValues(unit: string, key: string): Promise<string[]> {
  const text = await readFile(join(UNITS_DIR, unit), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .flatMap((line) => line.slice(key.length + 1).split(/\s+/))
    .filter((value) => value !== '');
}

test('hook-network runs after udev has started and replayed coldplug, before networkd, with room for its NIC wait', async () => {
  const after = await unitValues('hook-network.service', 'After');
  assert.ok(after.includes('systemd-udevd.service'), after.join(' '));
  assert.ok(after.includes('systemd-udev-trigger.service'), after.join(' '));
  assert.ok((await unitValues('hook-network.service', 'Before')).includes('systemd-networkd.service'));
  const [timeout] = await unitValues('hook-network.service', 'TimeoutStartSec');
  assert.ok(
    Number(timeout) * 1000 > LINK_WAIT_MS,
    `TimeoutStartSec=${timeout} must exceed the ${LINK_WAIT_MS} ms wait`,
  );
});

test('hook-syslog is not restarted when it exits 0 (no valid syslog_host): it would warn every 5 s', async () => {
  assert.deepEqual(await unitValues('hook-syslog.service', 'Restart'), ['on-failure']);
});
