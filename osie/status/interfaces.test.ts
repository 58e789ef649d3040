import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpAddresses } from './interfaces.ts';

/** `ip -j address show` on a booted HookOS (iproute2 6.x), shortened. */
const IP_JSON = JSON.stringify([
  {
    ifindex: 1,
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    operstate: 'UNKNOWN',
    link_type: 'loopback',
    address: '00:00:00:00:00:00',
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }],
  },
  {
    ifindex: 2,
    ifname: 'enp0s2',
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    operstate: 'UP',
    link_type: 'ether',
    address: '52:54:00:12:34:56',
    addr_info: [
      { family: 'inet', local: '10.0.2.15', prefixlen: 24, scope: 'global', dynamic: true },
      { family: 'inet6', local: 'fec0::5054:ff:fe12:3456', prefixlen: 64, scope: 'site' },
      { family: 'inet6', local: 'fe80::5054:ff:fe12:3456', prefixlen: 64, scope: 'link' },
      { family: 'inet', local: '10.0.2.50', prefixlen: 24, scope: 'global' },
    ],
  },
  {
    ifindex: 3,
    ifname: 'docker0',
    flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'],
    operstate: 'DOWN',
    link_type: 'ether',
    address: '02:42:ac:11:00:01',
    addr_info: [{ family: 'inet', local: '172.17.0.1', prefixlen: 16, scope: 'global' }],
  },
  {
    ifindex: 4,
    ifname: 'veth1a2b3c',
    operstate: 'UP',
    link_type: 'ether',
    address: 'aa:bb:cc:dd:ee:ff',
    addr_info: [],
  },
  {
    ifindex: 5,
    ifname: 'enp0s3',
    operstate: 'DOWN',
    link_type: 'ether',
    address: '52:54:00:00:00:02',
    addr_info: [],
  },
]);

test('interfaces with their global addresses, IPv4 first; no loopback, no veth, no link-local', () => {
  assert.deepEqual(parseIpAddresses(IP_JSON), [
    {
      name: 'enp0s2',
      mac: '52:54:00:12:34:56',
      up: true,
      addresses: ['10.0.2.15/24', '10.0.2.50/24', 'fec0::5054:ff:fe12:3456/64'],
    },
    { name: 'docker0', mac: '02:42:ac:11:00:01', up: false, addresses: ['172.17.0.1/16'] },
    { name: 'enp0s3', mac: '52:54:00:00:00:02', up: false, addresses: [] },
  ]);
});

test('what is not ip -j output gives no interfaces instead of an error', () => {
  for (const text of ['', 'not json', '{}', '[1, null, {"ifname": 3}]'])
    assert.deepEqual(parseIpAddresses(text), []);
});
