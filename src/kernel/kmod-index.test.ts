import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isHookError } from '../errors.ts';
import { INDEX_MAGIC, INDEX_VERSION, KmodIndexBuilder, readKmodIndex } from './kmod-index.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

test('an empty index is the header and an empty root node', () => {
  const bytes = new KmodIndexBuilder().build();
  assert.equal(hex(bytes), 'b007f457' + '00020001' + '0000000c');
});

test('one key: a prefixed leaf child under a root with one child, written children first', () => {
  const index = new KmodIndexBuilder();
  index.insert('ab', 'v', 7);
  // Leaf at offset 12 (child 'a' of the root): prefix "b\0", values: count 1, priority 7, "v\0".
  const leaf = '6200' + '00000001' + '00000007' + '7600';
  // Root at 12 + 12 = 24: no prefix, children 'a'..'a' -> leaf (PREFIX|VALUES flags), no values.
  const root = '61' + '61' + 'c000000c';
  const expected = 'b007f457' + '00020001' + (0x20000000 | 24).toString(16) + leaf + root;
  assert.equal(hex(index.build()), expected);
});

test('shared prefixes split nodes; child ranges keep empty slots as zero offsets', () => {
  const index = new KmodIndexBuilder();
  for (const key of ['ask', 'ate', 'on', 'once', 'one']) index.insert(key, key.toUpperCase(), 0);
  const read = readKmodIndex(index.build());
  assert.deepEqual([...read.keys()].sort(), ['ask', 'ate', 'on', 'once', 'one']);
  assert.deepEqual(read.get('once'), [{ value: 'ONCE', priority: 0 }]);

  const wide = new KmodIndexBuilder();
  wide.insert('a', '1', 0);
  wide.insert('z', '2', 0);
  const bytes = wide.build();
  const view = new DataView(bytes.buffer);
  const root = view.getUint32(8);
  assert.equal(root & 0xf0000000, 0x20000000, 'the root has children only');
  const at = root & 0x0fffffff;
  assert.equal(bytes[at], 0x61);
  assert.equal(bytes[at + 1], 0x7a);
  const slots = Array.from({ length: 26 }, (_, i) => view.getUint32(at + 2 + 4 * i));
  assert.equal(slots.filter((s) => s === 0).length, 24);
});

test('values sort by priority; equal priorities come out newest first; duplicates stay', () => {
  const index = new KmodIndexBuilder();
  index.insert('k', 'late', 5);
  index.insert('k', 'early', 1);
  index.insert('k', 'tie-old', 3);
  index.insert('k', 'tie-new', 3);
  index.insert('k', 'early', 1);
  assert.deepEqual(
    readKmodIndex(index.build())
      .get('k')
      ?.map((v) => `${v.priority}:${v.value}`),
    ['1:early', '1:early', '3:tie-new', '3:tie-old', '5:late'],
  );
});

test('keys and values must be 7-bit ASCII', () => {
  const index = new KmodIndexBuilder();
  assert.throws(
    () => index.insert('caf\u00e9', 'x', 0),
    (e) => isHookError(e) && e.code === 'E_KERNEL',
  );
  assert.throws(() => index.insert('cafe', '\u00ff', 0), /7-bit ASCII/);
});

test('readKmodIndex rejects other files', () => {
  assert.throws(() => readKmodIndex(new Uint8Array(16)), /bad magic/);
  const wrongVersion = new Uint8Array(12);
  new DataView(wrongVersion.buffer).setUint32(0, INDEX_MAGIC);
  new DataView(wrongVersion.buffer).setUint32(4, INDEX_VERSION + 1);
  assert.throws(() => readKmodIndex(wrongVersion), /version/);
});

test('property: every inserted key reads back with its values, whatever the insertion order', () => {
  const key = fc.stringMatching(/^[a-c_:*-]{0,6}$/);
  const entries = fc.array(fc.tuple(key, fc.stringMatching(/^[a-z]{1,4}$/), fc.nat(3)), { maxLength: 40 });
  fc.assert(
    fc.property(entries, (list) => {
      const index = new KmodIndexBuilder();
      for (const [k, v, p] of list) index.insert(k, v, p);
      const read = readKmodIndex(index.build());
      const expected = new Map<string, string[]>();
      for (const [k, v, p] of list) expected.set(k, [...(expected.get(k) ?? []), `${p}:${v}`]);
      assert.deepEqual([...read.keys()].sort(), [...expected.keys()].sort());
      for (const [k, values] of expected) {
        const got = (read.get(k) ?? []).map((v) => `${v.priority}:${v.value}`);
        assert.deepEqual([...got].sort(), [...values].sort());
        const priorities = (read.get(k) ?? []).map((v) => v.priority);
        assert.deepEqual(
          priorities,
          [...priorities].sort((a, b) => a - b),
        );
      }
      // The trie is canonical: reversing insertion order changes nothing when priorities are unique per key.
      const unique = new Map(list.map(([k, v]) => [k, v]));
      const forward = new KmodIndexBuilder();
      const backward = new KmodIndexBuilder();
      for (const [k, v] of unique) forward.insert(k, v, 0);
      for (const [k, v] of [...unique].reverse()) backward.insert(k, v, 0);
      assert.deepEqual(forward.build(), backward.build());
    }),
  );
});
