import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIpam } from './ipam.ts';

test('the full form: MAC with dashes, VLAN, address, netmask, gateway, host name, lists', () => {
  assert.deepEqual(
    parseIpam(
      '52-54-00-AA-bb-01:30:10.1.2.5:255.255.255.0:10.1.2.1:Node-1:10.1.2.53,1.1.1.1:lab.lan,lan.:10.1.2.123,ntp.lan',
    ),
    {
      ok: true,
      value: {
        mac: '52:54:00:aa:bb:01',
        vlan: 30,
        address: '10.1.2.5',
        prefixLength: 24,
        gateway: '10.1.2.1',
        hostname: 'node-1',
        dns: ['10.1.2.53', '1.1.1.1'],
        search: ['lab.lan', 'lan'],
        ntp: ['10.1.2.123', 'ntp.lan'],
      },
      notes: [],
    },
  );
});

test('VLAN 0 or empty is untagged; a prefix length works as netmask; trailing fields may be missing', () => {
  const parsed = parseIpam('52-54-00-aa-bb-01:0:10.0.0.2:8:::8.8.8.8');
  assert.ok(parsed.ok);
  assert.equal(parsed.value.vlan, undefined);
  assert.equal(parsed.value.prefixLength, 8);
  assert.equal(parsed.value.gateway, undefined);
  assert.equal(parsed.value.hostname, undefined);
});

test('an invalid value in a field that decides reachability rejects the whole ipam=', () => {
  const cases: [string, RegExp][] = [
    ['52-54-00-aa-bb-01::10.1.2.5:255.255.255.0', /lacks dns/],
    ['::::', /lacks mac, ip, netmask, dns/],
    ['zz-54-00-aa-bb-01::10.1.2.5:255.255.255.0::h:1.1.1.1', /MAC/],
    ['52-54-00-aa-bb-01:5000:10.1.2.5:24::h:1.1.1.1', /VLAN/],
    ['52-54-00-aa-bb-01::010.0.0.5:24::h:1.1.1.1', /leading zero/],
    ['52-54-00-aa-bb-01::10.1.2.300:24::h:1.1.1.1', /over 255/],
    ['52-54-00-aa-bb-01::224.0.0.1:0::h:1.1.1.1', /\/0|multicast/],
    ['52-54-00-aa-bb-01::224.0.0.1:4::h:1.1.1.1', /multicast/],
    ['52-54-00-aa-bb-01::10.1.2.0:24::h:1.1.1.1', /network address/],
    ['52-54-00-aa-bb-01::10.1.2.5:255.0.255.0::h:1.1.1.1', /not contiguous/],
    ['52-54-00-aa-bb-01::10.1.2.5:24:10.1.2.5:h:1.1.1.1', /own address/],
    ['52-54-00-aa-bb-01::10.1.2.5:24:10.1.2.1:h:not-an-ip', /DNS server/],
    ['52-54-00-aa-bb-01::10.1.2.5:24:10.1.2.1:h:,', /lacks dns/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseIpam(text);
    assert.equal(parsed.ok, false, text);
    assert.match(parsed.ok ? '' : parsed.reason, reason, text);
  }
});

test('a bad host name, search domain or NTP server only loses that entry, with a note', () => {
  const parsed = parseIpam(
    `52-54-00-aa-bb-01::10.1.2.5:24:10.1.2.1:${'h'.repeat(70)}:1.1.1.1:ok.lan,bad_dom:ntp.lan,224.0.0.1`,
  );
  assert.ok(parsed.ok);
  assert.equal(parsed.value.hostname, undefined);
  assert.deepEqual(parsed.value.search, ['ok.lan']);
  assert.deepEqual(parsed.value.ntp, ['ntp.lan']);
  assert.equal(parsed.notes?.length, 3);
  const slash = parseIpam('52-54-00-aa-bb-01::10.1.2.5:24::bad_host/..:1.1.1.1');
  assert.ok(slash.ok && slash.value.hostname === undefined);
});

test('property: never throws; what is accepted is consistent', () => {
  const field = fc.oneof(
    fc.constantFrom(
      '',
      '0',
      '30',
      '52-54-00-aa-bb-01',
      '10.0.0.5',
      '255.255.255.0',
      '24',
      '010.0.0.5',
      'h',
      '1.1.1.1,8.8.8.8',
    ),
    fc.string({ maxLength: 12 }),
  );
  fc.assert(
    fc.property(fc.array(field, { maxLength: 11 }), (fields) => {
      const parsed = parseIpam(fields.join(':'));
      if (!parsed.ok) return;
      assert.match(parsed.value.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      assert.ok(parsed.value.prefixLength >= 1 && parsed.value.prefixLength <= 32);
      assert.ok(parsed.value.dns.length > 0);
    }),
    { numRuns: 6000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => void parseIpam(text)),
    { numRuns: 2000 },
  );
});
