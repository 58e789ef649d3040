import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hookSettings, parseCmdline } from '../lib/cmdline.ts';
import { netmaskToPrefix, networkdFiles, parseIpam, planNetwork, vlanInterfaceName } from './networkd.ts';

const settings = (cmdline: string) => hookSettings(parseCmdline(cmdline));
const links = [
  { name: 'eno1', mac: '52:54:00:aa:bb:01' },
  { name: 'enp65s0f0np0', mac: '52:54:00:aa:bb:02' },
];

const DHCP_BODY = `[Network]
DHCP=yes
IPv6AcceptRA=yes

[DHCPv4]
# Tinkerbell's DHCP server knows machines by MAC address.
ClientIdentifier=mac
UseDomains=yes
`;

test('default: DHCP on every Ethernet port except Docker veths and bridges', () => {
  assert.deepEqual(
    networkdFiles(settings('console=ttyS0 worker_id=x'), links),
    new Map([['90-hook-dhcp.network', `[Match]\nType=ether\nName=!veth* !docker* !br-*\n\n${DHCP_BODY}`]]),
  );
});

test('interface= narrows DHCP to that interface', () => {
  assert.deepEqual(
    networkdFiles(settings('interface=eno2'), links),
    new Map([['10-hook-dhcp.network', `[Match]\nName=eno2\n\n${DHCP_BODY}`]]),
  );
});

test('vlan_id + hw_addr: VLAN <if>.<id> on the port with that MAC, DHCP only on the VLAN', () => {
  const files = networkdFiles(settings('vlan_id=100 hw_addr=52-54-00-AA-BB-01'), links);
  assert.deepEqual(
    files,
    new Map([
      ['10-hook-vlan.netdev', '[NetDev]\nName=eno1.100\nKind=vlan\n\n[VLAN]\nId=100\n'],
      [
        '10-hook-vlan-parent.network',
        '[Match]\nMACAddress=52:54:00:aa:bb:01\nType=ether\n\n[Link]\nRequiredForOnline=no\n\n' +
          '[Network]\nVLAN=eno1.100\nDHCP=no\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n',
      ],
      ['10-hook-vlan.network', `[Match]\nName=eno1.100\nType=vlan\n\n${DHCP_BODY}`],
    ]),
  );
});

test('vlan_id with interface= instead of hw_addr uses that interface as the parent', () => {
  const files = networkdFiles(settings('vlan_id=7 interface=eno1'), links);
  assert.match(files.get('10-hook-vlan-parent.network') ?? '', /\[Match\]\nName=eno1\nType=ether\n/);
  assert.match(files.get('10-hook-vlan.netdev') ?? '', /Name=eno1\.7\n/);
});

test('vlan_id without a port to put it on, or out of range, falls back to DHCP everywhere with a warning', () => {
  for (const cmdline of [
    'vlan_id=100',
    'vlan_id=5000 hw_addr=52:54:00:aa:bb:01',
    'vlan_id=x hw_addr=52:54:00:aa:bb:01',
  ]) {
    const plan = planNetwork(settings(cmdline), links);
    assert.deepEqual([...plan.files.keys()], ['90-hook-dhcp.network'], cmdline);
    assert.equal(plan.warnings.length, 1, cmdline);
  }
});

test('VLAN names fall back to vlan<id> when the port is unknown or the name exceeds 15 characters', () => {
  assert.equal(vlanInterfaceName('eno1', '100'), 'eno1.100');
  assert.equal(vlanInterfaceName('enp65s0f0np0', '100'), 'vlan100');
  assert.equal(vlanInterfaceName(undefined, '4094'), 'vlan4094');
  const files = networkdFiles(settings('vlan_id=100 hw_addr=52:54:00:aa:bb:02'), links);
  assert.match(files.get('10-hook-vlan.netdev') ?? '', /Name=vlan100\n/);
});

test('ipam= without VLAN: static address on the port with that MAC, no DHCP, hostname returned', () => {
  const plan = planNetwork(
    settings(
      'ipam=52-54-00-aa-bb-01::10.1.2.5:255.255.255.0:10.1.2.1:node-1:10.1.2.53,1.1.1.1:lab.lan,lan:10.1.2.123',
    ),
    links,
  );
  assert.equal(plan.hostname, 'node-1');
  assert.deepEqual(
    plan.files,
    new Map([
      [
        '10-hook-static.network',
        '[Match]\nMACAddress=52:54:00:aa:bb:01\nType=ether\n\n[Network]\nAddress=10.1.2.5/24\nGateway=10.1.2.1\n' +
          'DNS=10.1.2.53\nDNS=1.1.1.1\nDomains=lab.lan lan\nNTP=10.1.2.123\nDHCP=no\nIPv6AcceptRA=no\n',
      ],
    ]),
  );
});

test('ipam= with a VLAN puts the static address on the VLAN', () => {
  const files = networkdFiles(settings('ipam=52-54-00-aa-bb-01:30:10.9.0.2:255.255.0.0:::1.1.1.1::'), links);
  assert.deepEqual(
    [...files.keys()],
    ['10-hook-vlan.netdev', '10-hook-vlan-parent.network', '10-hook-vlan.network'],
  );
  assert.equal(
    files.get('10-hook-vlan.network'),
    '[Match]\nName=eno1.30\nType=vlan\n\n[Network]\nAddress=10.9.0.2/16\nDNS=1.1.1.1\nDHCP=no\nIPv6AcceptRA=no\n',
  );
});

test('an invalid ipam= falls back to DHCP with a warning naming what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['ipam=52-54-00-aa-bb-01::10.1.2.5:255.255.255.0', /lacks dns/],
    ['ipam=::::', /lacks mac, ip, netmask, dns/],
    ['ipam=zz-54-00-aa-bb-01::10.1.2.5:255.255.255.0::h:1.1.1.1', /invalid MAC/],
    ['ipam=52-54-00-aa-bb-01::10.1.2.5:255.0.255.0::h:1.1.1.1', /not contiguous/],
    ['ipam=52-54-00-aa-bb-01::10.1.2.300:255.255.255.0::h:1.1.1.1', /invalid IPv4/],
  ];
  for (const [cmdline, reason] of cases) {
    const plan = planNetwork(settings(cmdline), links);
    assert.deepEqual([...plan.files.keys()], ['90-hook-dhcp.network'], cmdline);
    assert.match(plan.warnings[0] ?? '', reason, cmdline);
  }
});

test('dracut-style ip= leaves the network to systemd-network-generator', () => {
  assert.deepEqual(networkdFiles(settings('ip=dhcp'), links), new Map());
  assert.deepEqual(
    networkdFiles(settings('ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:none vlan_id=3'), links),
    new Map(),
  );
});

test('netmasks convert to prefix lengths', () => {
  assert.equal(netmaskToPrefix('255.255.255.255'), 32);
  assert.equal(netmaskToPrefix('255.255.254.0'), 23);
  assert.equal(netmaskToPrefix('0.0.0.0'), 0);
  assert.equal(netmaskToPrefix('24'), 24);
  assert.throws(() => netmaskToPrefix('255.255.255.1'), /not contiguous/);
  assert.equal(
    parseIpam('52-54-00-aa-bb-01:0:10.0.0.2:255.0.0.0:::8.8.8.8').vlan,
    '',
    'VLAN 0 means untagged',
  );
});
