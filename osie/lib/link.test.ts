import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isGlob, parseInterfaceName, parseVlanId } from './link.ts';

test('VLAN IDs are 1-4094 without leading zeros', () => {
  assert.deepEqual(parseVlanId('1'), { ok: true, value: 1 });
  assert.deepEqual(parseVlanId('4094'), { ok: true, value: 4094 });
  for (const bad of ['0', '4095', '5000', '010', '', 'x', '1.0', ' 1', '+1'])
    assert.equal(parseVlanId(bad).ok, false, bad);
});

test('interface names: Linux limits, real characters, globs', () => {
  for (const good of ['eth0', 'eno1', 'enp65s0f0np0', 'eth0.100', 'e*', 'eth?'])
    assert.equal(parseInterfaceName(good).ok, true, good);
  for (const bad of ['', '.', '..', 'a/b', 'a b', '"eth0"', 'x'.repeat(16), '!eth0'])
    assert.equal(parseInterfaceName(bad).ok, false, bad);
  assert.ok(isGlob('e*'));
  assert.ok(!isGlob('eth0'));
});

test('property: parsers never throw; accepted VLAN IDs are in range', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), (text) => {
      const vlan = parseVlanId(text);
      if (vlan.ok) assert.ok(vlan.value >= 1 && vlan.value <= 4094 && String(vlan.value) === text);
      parseInterfaceName(text);
    }),
    { numRuns: 2000 },
  );
});
