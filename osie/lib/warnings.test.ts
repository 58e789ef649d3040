import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.ts';
import { utf8Length } from './platform/bytes.ts';
import { warningReporter } from './warnings.ts';

test('each distinct warning goes once to the journal (warn) and once to the console as a kmsg record', () => {
  const lines: string[] = [];
  const records: string[] = [];
  const log = createLogger({ component: 'hook-network', write: (line) => lines.push(line) });
  log.addSecret('pw');
  const report = warningReporter(log, 'hook-network', (record) => records.push(record));
  report('ipam="…": invalid; using DHCP on every port instead');
  report('ipam="…": invalid; using DHCP on every port instead');
  report('registry_password=pw shows up\nacross lines');
  assert.deepEqual(lines, [
    'level=warn component=hook-network msg="ipam=\\"…\\": invalid; using DHCP on every port instead"',
    'level=warn component=hook-network msg="registry_password=*** shows up\\nacross lines"',
  ]);
  // Level 3: the image's kernel.printk = 4 shows only levels below 4 on the console.
  assert.deepEqual(records, [
    '<3>hook-network: ipam="…": invalid; using DHCP on every port instead\n',
    '<3>hook-network: registry_password=*** shows up across lines\n',
  ]);
});

test('console records stay under the kernel line limit', () => {
  const records: string[] = [];
  const report = warningReporter(createLogger({ component: 'x', write: () => {} }), 'hook-docker', (r) =>
    records.push(r),
  );
  report('é'.repeat(2000));
  assert.equal(records.length, 1);
  assert.ok(utf8Length(records[0]!) < 1000);
  assert.match(records[0]!, /^<3>hook-docker: é+\.\.\.\n$/, 'cut between characters, never inside one');
});
