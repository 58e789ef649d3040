import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './log.ts';

function capture() {
  const lines: string[] = [];
  const log = createLogger({ component: 'hook-test', write: (line) => lines.push(line) });
  return { lines, log };
}

test('lines are key=value with quoting only where needed', () => {
  const { lines, log } = capture();
  log.info('pulling image', { image: 'reg.lan:5000/tink-worker:latest', attempt: 2, skipped: undefined });
  assert.deepEqual(lines, [
    'level=info component=hook-test msg="pulling image" image=reg.lan:5000/tink-worker:latest attempt=2',
  ]);
});

test('newlines in values are escaped so one event stays one line', () => {
  const { lines, log } = capture();
  log.error('container exited', { logs: 'line one\nline "two"' });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('logs="line one\\nline \\"two\\""'));
});

test('credential-like fields and registered secret values are masked', () => {
  const { lines, log } = capture();
  log.addSecret('hunter22');
  log.warn('auth for hunter22', { registry_password: 'hunter22', other: 'x-hunter22-y', token: 'abc' });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes('hunter22'));
  assert.ok(!lines[0]!.includes('abc'));
  assert.match(lines[0]!, /registry_password=\*\*\* other=x-\*\*\*-y token=\*\*\*/);
});

test('a 1-character secret is masked as a whole token, not inside words', () => {
  const { lines, log } = capture();
  log.addSecret('a');
  log.info('a banana', { value: 'a', note: 'x-a-y' });
  assert.deepEqual(lines, ['level=info component=hook-test msg="*** banana" value=*** note=x-a-y']);
});

test('the registry_password token is masked in any message even when the value was never registered', () => {
  const { lines, log } = capture();
  log.error('the worker printed: REGISTRY_PASSWORD=pw TINKERBELL_TLS=false');
  assert.equal(
    lines[0],
    'level=error component=hook-test msg="the worker printed: REGISTRY_PASSWORD=*** TINKERBELL_TLS=false"',
  );
  assert.equal(log.redact('registry_password=pw'), 'registry_password=***');
});
