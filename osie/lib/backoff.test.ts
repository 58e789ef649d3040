import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.ts';

test('delays double up to the cap and reset to the start', () => {
  const backoff = new Backoff(1000, 30_000);
  const delays = Array.from({ length: 8 }, () => backoff.delay());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  backoff.reset();
  assert.equal(backoff.delay(), 1000);
});
