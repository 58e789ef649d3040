import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { startPeer } from '../../test-runner/peer.ts';
import { isIPv6 } from '../host-port.ts';
import {
  base64Decode,
  base64Encode,
  base64UrlEncode,
  cutUtf8,
  latin1Decode,
  utf8Decode,
  utf8Encode,
  utf8Length,
} from './bytes.ts';

const bytes = (...values: number[]) => new Uint8Array(values);

test('UTF-8: the WHATWG decoder on known invalid input (one U+FFFD per maximal subpart)', () => {
  assert.equal(utf8Decode(bytes(0x68, 0xc3, 0xa9)), 'hé');
  assert.equal(utf8Decode(bytes(0xf0, 0x9f, 0x98, 0x80)), '😀');
  assert.equal(utf8Decode(bytes(0xc3)), '\ufffd', 'truncated sequence');
  assert.equal(
    utf8Decode(bytes(0xe2, 0x82, 0x41)),
    '\ufffdA',
    'a broken sequence, then the byte that broke it',
  );
  assert.equal(utf8Decode(bytes(0xc0, 0xaf)), '\ufffd\ufffd', 'overlong: every byte on its own');
  assert.equal(utf8Decode(bytes(0xed, 0xa0, 0x80)), '\ufffd\ufffd\ufffd', 'an encoded surrogate');
  assert.equal(utf8Decode(bytes(0xf4, 0x90, 0x80, 0x80)), '\ufffd\ufffd\ufffd\ufffd', 'above U+10FFFF');
  assert.equal(utf8Decode(bytes(0xff, 0x80)), '\ufffd\ufffd');
  assert.deepEqual(utf8Encode('\ud800x'), bytes(0xef, 0xbf, 0xbd, 0x78), 'a lone surrogate becomes U+FFFD');
});

test('latin1: each byte is one character; base64 and base64url round trip', () => {
  assert.equal(latin1Decode(bytes(0x61, 0xa0, 0xff)), 'a\u00a0\u00ff');
  assert.equal(base64Encode(utf8Encode('hook')), 'aG9vaw==');
  assert.equal(base64UrlEncode(bytes(0xfb, 0xff)), '-_8');
  assert.deepEqual(base64Decode('-_8'), bytes(0xfb, 0xff));
  assert.equal(base64Decode('a*b'), undefined);
});

test('cutUtf8 never splits a character and never exceeds the limit', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.nat(60), (text, max) => {
      const cut = cutUtf8(text, max);
      assert.ok(utf8Length(cut) <= max);
      assert.ok(text.startsWith(cut) || utf8Encode(text).length > max);
      assert.ok(!cut.includes('\ufffd') || text.includes('\ufffd') || /[\ud800-\udfff]/.test(text));
    }),
  );
});

test('property: UTF-8, base64 and IPv6 text agree with Node on random input (Node as the oracle)', async () => {
  const oracle = await startPeer('oracle');
  try {
    const arrays = fc.sample(
      fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ minLength: 1, maxLength: 8, min: 0x80 })),
      { numRuns: 600, seed: 42 },
    );
    arrays.push(new Uint8Array(utf8Encode('ok')));
    const lists = arrays.map((a) => [...a]);
    const decoded = await oracle.call<string[]>('utf8Decode', lists);
    lists.forEach((list, i) => {
      assert.equal(utf8Decode(new Uint8Array(list)), decoded[i], `bytes ${list}`);
    });
    assert.deepEqual(
      lists.map((list) => base64UrlEncode(new Uint8Array(list))),
      await oracle.call('base64url', lists),
    );
    assert.deepEqual(
      lists.map((list) => base64Encode(new Uint8Array(list))),
      await oracle.call('base64', lists),
    );

    const texts = fc.sample(fc.string({ unit: 'binary', maxLength: 16 }), { numRuns: 400, seed: 7 });
    const encoded = await oracle.call<number[][]>('utf8Encode', texts);
    texts.forEach((text, i) => {
      assert.deepEqual([...utf8Encode(text)], encoded[i], JSON.stringify(text));
    });

    const v6 = fc.sample(
      fc.oneof(
        fc.ipV6(),
        fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'.split('')), maxLength: 45 }),
        fc.stringMatching(/^[0-9a-f:]{0,12}(\d{1,3}\.){3}\d{1,3}$/),
      ),
      { numRuns: 3000, seed: 3 },
    );
    const expected = await oracle.call<boolean[]>('isIPv6', v6);
    v6.forEach((text, i) => {
      assert.equal(isIPv6(text), expected[i], JSON.stringify(text));
    });
    assert.ok(expected.filter(Boolean).length > 300, 'enough valid addresses among the samples');
  } finally {
    await oracle.close();
  }
});
