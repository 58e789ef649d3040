import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIPv4, parseIPv4, parseIPv4Cidr, parseNetmask, unicastProblem } from './ipv4.ts';

const value = (text: string) => {
  const parsed = parseIPv4(text);
  assert.ok(parsed.ok, text);
  return parsed.value;
};

test('dotted decimal only: leading zeros (octal to inet_aton) and values over 255 are refused', () => {
  assert.deepEqual(parseIPv4('10.0.0.5'), { ok: true, value: { text: '10.0.0.5', value: 0x0a000005 } });
  assert.equal(value('255.255.255.255').value, 0xffffffff);
  assert.match(
    String(!parseIPv4('010.0.0.5').ok && (parseIPv4('010.0.0.5') as { reason: string }).reason),
    /leading zero/,
  );
  for (const bad of [
    '10.0.0.300',
    '10.0.0',
    '10.0.0.0.1',
    '',
    '1.2.3.4 ',
    '0x0a.0.0.1',
    '1e1.0.0.1',
    '-1.0.0.0',
    '1..2.3',
    '١.2.3.4',
  ])
    assert.equal(parseIPv4(bad).ok, false, bad);
});

test('netmasks: contiguous dotted masks or prefix lengths 0-32', () => {
  assert.deepEqual(parseNetmask('255.255.255.0'), { ok: true, value: 24 });
  assert.deepEqual(parseNetmask('255.255.254.0'), { ok: true, value: 23 });
  assert.deepEqual(parseNetmask('0.0.0.0'), { ok: true, value: 0 });
  assert.deepEqual(parseNetmask('255.255.255.255'), { ok: true, value: 32 });
  assert.deepEqual(parseNetmask('24'), { ok: true, value: 24 });
  for (const bad of ['255.0.255.0', '255.255.255.1', '33', '024', '255.255.255.256', 'x'])
    assert.equal(parseNetmask(bad).ok, false, bad);
});

test('unicast checks: multicast, loopback, this-network, reserved, and network/broadcast of the prefix', () => {
  assert.equal(unicastProblem(value('10.0.0.5'), 24), undefined);
  assert.match(unicastProblem(value('224.0.0.1')) ?? '', /multicast/);
  assert.match(unicastProblem(value('127.0.0.1')) ?? '', /loopback/);
  assert.match(unicastProblem(value('0.0.0.0')) ?? '', /this network/);
  assert.match(unicastProblem(value('255.255.255.255')) ?? '', /reserved|broadcast/);
  assert.match(unicastProblem(value('10.0.0.0'), 24) ?? '', /network address/);
  assert.match(unicastProblem(value('10.0.0.255'), 24) ?? '', /broadcast address/);
  assert.equal(unicastProblem(value('10.0.0.0'), 31), undefined, '/31 has no network address (RFC 3021)');
  assert.equal(unicastProblem(value('10.0.0.0'), 32), undefined);
});

test('CIDR blocks', () => {
  assert.equal(parseIPv4Cidr('10.0.0.0/8').ok, true);
  assert.equal(parseIPv4Cidr('10.1.2.3/8').ok, true, 'host bits allowed, as Go net.ParseCIDR');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0/8', '10.0.0.0'])
    assert.equal(parseIPv4Cidr(bad).ok, false, bad);
});

test('property: every 32-bit number round-trips through its dotted form; parsers never throw', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
      assert.equal(value(formatIPv4(n)).value, n);
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (text) => {
      const parsed = parseIPv4(text);
      if (parsed.ok) assert.equal(formatIPv4(parsed.value.value), text, 'only canonical text is accepted');
      parseNetmask(text);
      parseIPv4Cidr(text);
    }),
    { numRuns: 2000 },
  );
});
