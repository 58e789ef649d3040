import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatHostPort, parseHostPort } from './host-port.ts';

test('host, host:port, [v6], [v6]:port and, when allowed, a bare IPv6 address', () => {
  assert.deepEqual(parseHostPort('10.0.0.1'), {
    ok: true,
    value: { kind: 'ipv4', host: '10.0.0.1', port: undefined },
  });
  assert.deepEqual(parseHostPort('10.0.0.1:514'), {
    ok: true,
    value: { kind: 'ipv4', host: '10.0.0.1', port: 514 },
  });
  assert.deepEqual(parseHostPort('Tink.LAN:42113'), {
    ok: true,
    value: { kind: 'name', host: 'tink.lan', port: 42113 },
  });
  assert.deepEqual(parseHostPort('[FD00::1]:50051'), {
    ok: true,
    value: { kind: 'ipv6', host: 'fd00::1', port: 50051 },
  });
  assert.deepEqual(parseHostPort('[fd00::1]'), {
    ok: true,
    value: { kind: 'ipv6', host: 'fd00::1', port: undefined },
  });
  assert.deepEqual(parseHostPort('fd00::2', { bareIPv6: true }), {
    ok: true,
    value: { kind: 'ipv6', host: 'fd00::2', port: undefined },
  });
  assert.equal(parseHostPort('fd00::2').ok, false, 'bare IPv6 needs the option');
});

test('malformed hosts and ports are refused with a reason', () => {
  const cases: [string, RegExp][] = [
    ['[::1', /never closes/],
    ['[::1]x', /after the IPv6/],
    ['[fe80::1%eth0]:1', /zone/],
    ['[10.0.0.1]:1', /not an IPv6/],
    ['010.0.0.5', /leading zero/],
    ['10.0.0.1:0', /port/],
    ['10.0.0.1:65536', /port/],
    ['10.0.0.1:0514', /port/],
    ['10.0.0.1:', /port/],
    ['bad_host:1', /not a host name/],
    ['10.0.0.1:514:514', /brackets/],
    ['', /empty/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseHostPort(text);
    assert.equal(parsed.ok, false, text);
    assert.match(parsed.ok ? '' : parsed.reason, reason, text);
  }
});

test('unicast peers only when asked', () => {
  assert.equal(parseHostPort('224.0.0.1', { unicast: true }).ok, false);
  assert.equal(parseHostPort('224.0.0.1').ok, true);
  assert.equal(parseHostPort('[ff02::1]', { unicast: true }).ok, false);
  assert.equal(parseHostPort('[::]', { unicast: true }).ok, false);
  assert.equal(parseHostPort('[::1]', { unicast: true }).ok, false);
  assert.equal(parseHostPort('[2001:db8::1]', { unicast: true }).ok, true);
  assert.equal(parseHostPort('[::ffff:10.0.0.1]', { unicast: true }).ok, true);
});

test('property: what parses formats back to something that parses to the same value; nothing throws', () => {
  const text = fc.string({ unit: fc.constantFrom(...'0129af.:[]x-%'.split('')), maxLength: 30 });
  fc.assert(
    fc.property(text, fc.boolean(), (input, bare) => {
      const parsed = parseHostPort(input, { bareIPv6: bare });
      if (!parsed.ok) return;
      assert.deepEqual(parseHostPort(formatHostPort(parsed.value)), parsed);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (input) => void parseHostPort(input, { unicast: true })),
    {
      numRuns: 1000,
    },
  );
});
