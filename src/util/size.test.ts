import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatSize, parseSize } from './size.ts';

test('parseSize reads binary and decimal units and bare bytes', () => {
  assert.equal(parseSize('400MiB'), 400 * 1024 * 1024);
  assert.equal(parseSize('1GiB'), 1024 ** 3);
  assert.equal(parseSize('1 GB'), 1e9);
  assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('400000000'), 400_000_000);
  assert.equal(parseSize(' 64kib '), 65536);
  assert.equal(parseSize('2M'), 2 * 1024 ** 2);
  assert.equal(parseSize('10B'), 10);
  assert.equal(parseSize(4096), 4096);
});

test('parseSize rejects what is not a size', () => {
  for (const text of ['', 'MiB', '-1MiB', '12 XiB', '1e9', '0x10', 'lots', '1,5GiB']) {
    assert.equal(parseSize(text), undefined, text);
  }
  assert.equal(parseSize(-1), undefined);
  assert.equal(parseSize(1.5), undefined);
});

test('parseSize rounds fractions down to whole bytes', () => {
  assert.equal(parseSize('0.5KiB'), 512);
  assert.equal(parseSize('1.0001KiB'), 1024);
});

test('a number of bytes with or without a unit reads back as itself', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
      assert.equal(parseSize(String(n)), n);
      assert.equal(parseSize(`${n}B`), n);
      if (n <= 2 ** 30) assert.equal(parseSize(`${n}KiB`), n * 1024);
    }),
  );
});

test('formatSize prints binary units with one decimal at most', () => {
  assert.equal(formatSize(0), '0 B');
  assert.equal(formatSize(1023), '1023 B');
  assert.equal(formatSize(400 * 1024 ** 2), '400 MiB');
  assert.equal(formatSize(1.25 * 1024 ** 3), '1.3 GiB');
  assert.equal(parseSize(formatSize(400 * 1024 ** 2).replace(' ', '')), 400 * 1024 ** 2);
});
