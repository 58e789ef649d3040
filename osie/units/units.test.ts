import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdir, readText } from '../lib/platform/fs.ts';
import { run } from '../lib/platform/process.ts';
import { OSIE_BUNDLES, OSIE_REQUIRED_PACKAGES, OSIE_UNIT_FILES, QJS, QJS_FLAGS } from '../manifest.ts';
import { LINK_WAIT_MS } from '../network/networkd.ts';
import { repoRoot } from '../test-runner/env.ts';

const UNITS_DIR = `${repoRoot()}/osie/units`;
/** What systemd says about a unit it cannot fully understand (unknown keys, bad values). */
const PROBLEM = /Unknown (key|section)|Failed to parse|Invalid|bad-setting|not executable|Missing/i;
const ABSENT = /^\S+: Command (\S+) is not executable: No such file or directory$/;

test('systemd-analyze verify finds no problem in the unit files', async () => {
  const units = readdir(UNITS_DIR).filter((name) => /\.(service|path)$/.test(name));
  assert.ok(units.length >= 5);
  for (const unit of units) {
    // Exit status is not used: units referring to docker.service (absent on the build host) fail to load.
    const result = await run(['systemd-analyze', 'verify', '--man=no', `${UNITS_DIR}/${unit}`]).catch(
      (error: Error) => {
        throw new Error(`cannot run systemd-analyze (install the systemd package): ${error.message}`);
      },
    );
    const problems = result.stderr.split('\n').filter((line) => PROBLEM.test(line));
    // The services' interpreter and HookOS's own scripts (/usr/lib/hook) are absent on the
    // build host: those complaints are expected.
    const others = problems.filter((line) => {
      const command = ABSENT.exec(line)?.[1];
      return !(command === QJS || command?.startsWith('/usr/lib/hook/'));
    });
    assert.deepEqual(others, [], unit);
  }
});

/** The values of `key=` in a unit file (space-separated lists flattened), in order. */
function unitValues(unit: string, key: string): string[] {
  return readText(`${UNITS_DIR}/${unit}`)
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .flatMap((line) => line.slice(key.length + 1).split(/\s+/))
    .filter((value) => value !== '');
}

test('hook-network runs after udev has started and replayed coldplug, before networkd, with room for its NIC wait', () => {
  const after = unitValues('hook-network.service', 'After');
  assert.ok(after.includes('systemd-udevd.service'), after.join(' '));
  assert.ok(after.includes('systemd-udev-trigger.service'), after.join(' '));
  assert.ok(unitValues('hook-network.service', 'Before').includes('systemd-networkd.service'));
  const [timeout] = unitValues('hook-network.service', 'TimeoutStartSec');
  assert.ok(
    Number(timeout) * 1000 > LINK_WAIT_MS,
    `TimeoutStartSec=${timeout} must exceed the ${LINK_WAIT_MS} ms wait`,
  );
});

test('hook-syslog is not restarted when it exits 0 (no valid syslog_host): it would warn every 5 s', () => {
  assert.deepEqual(unitValues('hook-syslog.service', 'Restart'), ['on-failure']);
});

test('every service runs its own bundle with qjs, as the manifest says, under its own name', () => {
  const images = [...OSIE_UNIT_FILES.values()];
  for (const [treePath] of OSIE_BUNDLES) {
    if (!treePath.startsWith('usr/lib/hook/')) continue;
    const name = treePath.replace(/^usr\/lib\/hook\/(.*)\.js$/, '$1');
    const unit = `${name}.service`;
    assert.ok(images.includes(unit), `${unit} is installed`);
    assert.deepEqual(unitValues(unit, 'ExecStart'), [QJS, ...QJS_FLAGS, `/${treePath}`], unit);
    assert.deepEqual(unitValues(unit, 'SyslogIdentifier'), [name], unit);
  }
  assert.ok(
    OSIE_REQUIRED_PACKAGES.some((p) => p.name === 'quickjs'),
    'the package that has /usr/bin/qjs is required',
  );
});
