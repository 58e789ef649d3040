import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseMac } from './mac.ts';

test('colons or dashes, any case, become lower-case with colons', () => {
  assert.deepEqual(parseMac('52-54-00-AA-bb-01'), { ok: true, value: '52:54:00:aa:bb:01' });
  assert.deepEqual(parseMac('52:54:00:aa:bb:01'), { ok: true, value: '52:54:00:aa:bb:01' });
});

test('malformed, mixed separators, all-zero and multicast addresses are refused', () => {
  for (const bad of [
    'zz:zz',
    'zz:54:00:aa:bb:01',
    '52:54-00:aa:bb:01',
    '52:54:00:aa:bb',
    '52:54:00:aa:bb:01:02',
    '525400aabb01',
    '00:00:00:00:00:00',
    '01:00:5e:00:00:01',
    'ff:ff:ff:ff:ff:ff',
    '',
  ])
    assert.equal(parseMac(bad).ok, false, bad);
});

test('property: any unicast MAC round-trips in both spellings; arbitrary text never throws', () => {
  const octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 });
  fc.assert(
    fc.property(octets, fc.constantFrom(':', '-'), fc.boolean(), (bytes, sep, upper) => {
      fc.pre(bytes[0]! % 2 === 0 && bytes.some((b) => b !== 0));
      const canonical = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
      let text = canonical.replaceAll(':', sep);
      if (upper) text = text.toUpperCase();
      assert.deepEqual(parseMac(text), { ok: true, value: canonical });
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (text) => void parseMac(text)),
    { numRuns: 1000 },
  );
});
