import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { settingsFromText } from '../lib/settings.ts';
import { decideNetwork, type LinkInfo, linkNeeded, planNetwork, vlanInterfaceName } from './networkd.ts';

const settings = settingsFromText;
const links: LinkInfo[] = [
  { name: 'eno1', mac: '52:54:00:aa:bb:01' },
  { name: 'enp65s0f0np0', mac: '52:54:00:aa:bb:02' },
];
const files = (cmdline: string, present: readonly LinkInfo[] = links) =>
  planNetwork(settings(cmdline), present).files;

const DHCP_BODY = `[Network]
DHCP=yes
IPv6AcceptRA=yes
# Online without waiting for duplicate address detection: addresses come from the MAC.
IPv6DuplicateAddressDetection=0

[DHCPv4]
# Tinkerbell's DHCP server knows machines by MAC address.
ClientIdentifier=mac
UseDomains=yes
`;
const EVERY_PORT = new Map([
  ['90-hook-dhcp.network', `[Match]\nType=ether\nName=!veth* !docker* !br-*\n\n${DHCP_BODY}`],
]);

test('default: DHCP on every Ethernet port except Docker veths and bridges', () => {
  assert.deepEqual(files('console=ttyS0 worker_id=x'), EVERY_PORT);
});

test('interface= is an allow-list, as Hook hands it to dhcpcd --allowinterfaces', () => {
  assert.deepEqual(
    files('interface=eno2'),
    new Map([['10-hook-dhcp.network', `[Match]\nName=eno2\n\n${DHCP_BODY}`]]),
  );
  assert.deepEqual(
    files('interface=eth0,eth1'),
    new Map([['10-hook-dhcp.network', `[Match]\nName=eth0 eth1\n\n${DHCP_BODY}`]]),
  );
  const plan = planNetwork(settings('interface=eth0,bad/x'), links);
  assert.match(plan.files.get('10-hook-dhcp.network') ?? '', /^\[Match\]\nName=eth0\n/);
  assert.match(plan.warnings[0] ?? '', /bad\/x.*left out of the DHCP allow-list/);
  assert.deepEqual(files('interface=bad/x'), EVERY_PORT, 'nothing valid left: every port');
});

test('vlan_id + hw_addr: VLAN <if>.<id> on the port with that MAC, DHCP only on the VLAN', () => {
  assert.deepEqual(
    files('vlan_id=100 hw_addr=52-54-00-AA-BB-01'),
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

test('vlan_id with a single interface= instead of hw_addr uses that interface as the parent', () => {
  const vlan = files('vlan_id=7 interface=eno1');
  assert.match(vlan.get('10-hook-vlan-parent.network') ?? '', /\[Match\]\nName=eno1\nType=ether\n/);
  assert.match(vlan.get('10-hook-vlan.netdev') ?? '', /Name=eno1\.7\n/);
});

test('vlan_id with no port to put it on, out of range, or a MAC no NIC has: DHCP everywhere, with a warning', () => {
  for (const cmdline of [
    'vlan_id=100',
    'vlan_id=5000 hw_addr=52:54:00:aa:bb:01',
    'vlan_id=x hw_addr=52:54:00:aa:bb:01',
    'vlan_id=100 hw_addr=52:54:00:aa:bb:99',
    'vlan_id=100 interface=e*',
  ]) {
    const plan = planNetwork(settings(cmdline), links);
    assert.deepEqual(
      [...plan.files.keys()],
      [cmdline.includes('interface') ? '10-hook-dhcp.network' : '90-hook-dhcp.network'],
      cmdline,
    );
    assert.equal(plan.warnings.length, 1, cmdline);
  }
});

test('the VLAN name falls back to vlan<id> only when <if>.<id> exceeds 15 characters', () => {
  assert.equal(vlanInterfaceName('eno1', 100), 'eno1.100');
  const warnings: string[] = [];
  assert.equal(vlanInterfaceName('enp65s0f0np0', 100, warnings), 'vlan100');
  assert.match(warnings[0] ?? '', /longer than 15/);
  assert.match(
    files('vlan_id=100 hw_addr=52:54:00:aa:bb:02').get('10-hook-vlan.netdev') ?? '',
    /Name=vlan100\n/,
  );
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

test('ipam= with a VLAN puts the static address on <nic>.<vlan>', () => {
  const vlan = files('ipam=52-54-00-aa-bb-01:30:10.9.0.2:255.255.0.0:::1.1.1.1::');
  assert.deepEqual(
    [...vlan.keys()],
    ['10-hook-vlan.netdev', '10-hook-vlan-parent.network', '10-hook-vlan.network'],
  );
  assert.equal(
    vlan.get('10-hook-vlan.network'),
    '[Match]\nName=eno1.30\nType=vlan\n\n[Network]\nAddress=10.9.0.2/16\nDNS=1.1.1.1\nDHCP=no\nIPv6AcceptRA=no\n',
  );
});

test('ipam= naming a MAC that no NIC has: DHCP on every port, as Hook does', () => {
  const plan = planNetwork(settings('ipam=52-54-00-aa-bb-99::10.1.2.5:24::h:1.1.1.1'), links);
  assert.deepEqual(plan.files, EVERY_PORT);
  assert.equal(plan.hostname, undefined);
  assert.match(plan.warnings[0] ?? '', /no NIC has the MAC 52:54:00:aa:bb:99/);
});

test('an invalid ipam= falls back to DHCP on every port, never writing its values', () => {
  for (const cmdline of [
    'ipam=52-54-00-aa-bb-01::010.0.0.5:24::h:1.1.1.1',
    'ipam=52-54-00-aa-bb-01::224.0.0.1:0::h:1.1.1.1',
    'ipam=52-54-00-aa-bb-01::10.0.0.5:24::h:not-an-ip',
  ]) {
    const plan = planNetwork(settings(cmdline), links);
    assert.deepEqual(plan.files, EVERY_PORT, cmdline);
    assert.match(plan.warnings[0] ?? '', /^ipam=.*; using DHCP on every port instead$/, cmdline);
  }
  const hostnameOnly = planNetwork(
    settings('ipam=52-54-00-aa-bb-01::10.0.0.5:24::bad_host/..:1.1.1.1'),
    links,
  );
  assert.equal(hostnameOnly.hostname, undefined, 'a bad host name is never set');
  assert.deepEqual([...hostnameOnly.files.keys()], ['10-hook-static.network'], 'the address still applies');
});

test('dracut-style ip= leaves the network to systemd-network-generator', () => {
  assert.deepEqual(files('ip=dhcp'), new Map());
  assert.deepEqual(files('ip=10.0.0.2::10.0.0.1:255.255.255.0::eth0:none vlan_id=3'), new Map());
  assert.equal(linkNeeded(settings('ip=dhcp vlan_id=3 hw_addr=52:54:00:aa:bb:01')), undefined);
});

/** A clock and a link list that changes over (fake) time, as /sys/class/net does while udev works. */
function slowNic(timeline: [atMs: number, links: LinkInfo[]][]) {
  let now = 0;
  let calls = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    listLinks: async () => {
      calls++;
      return [...timeline].reverse().find(([at]) => now >= at)?.[1] ?? [];
    },
    calls: () => calls,
  };
}

test('slow NIC: hook-network waits for the hw_addr NIC and for udev to rename it, then names the VLAN after it', async () => {
  const clock = slowNic([
    [0, []],
    [2000, [{ name: 'eth0', mac: '52:54:00:aa:bb:01', initialized: false }]],
    [3500, [{ name: 'enp1s0', mac: '52:54:00:aa:bb:01', initialized: true }]],
  ]);
  const plan = await decideNetwork(settings('vlan_id=42 hw_addr=52:54:00:aa:bb:01'), clock.listLinks, clock);
  assert.match(plan.files.get('10-hook-vlan.netdev') ?? '', /Name=enp1s0\.42\n/);
  assert.deepEqual(plan.warnings, []);
  assert.ok(plan.waitedMs >= 3500 && plan.waitedMs < 4000, String(plan.waitedMs));
});

test('slow NIC: an ipam= MAC that appears late gets its static address; one that never does gets DHCP after 30 s', async () => {
  const late = slowNic([
    [0, [{ name: 'eno2', mac: '52:54:00:aa:bb:02' }]],
    [5000, [...links]],
  ]);
  const plan = await decideNetwork(
    settings('ipam=52-54-00-aa-bb-01::10.1.2.5:24::h:1.1.1.1'),
    late.listLinks,
    late,
  );
  assert.deepEqual([...plan.files.keys()], ['10-hook-static.network']);

  const never = slowNic([[0, [...links]]]);
  const offline = await decideNetwork(
    settings('ipam=52-54-00-aa-bb-99::10.1.2.5:24::h:1.1.1.1'),
    never.listLinks,
    never,
  );
  assert.deepEqual(offline.files, EVERY_PORT);
  assert.ok(offline.waitedMs >= 30_000 && offline.waitedMs <= 30_250, String(offline.waitedMs));
  assert.match(offline.warnings[0] ?? '', /no NIC has the MAC/);
});

test('slow NIC: a link udev never finishes is used by its current name after the wait, with a warning', async () => {
  const stuck = slowNic([[0, [{ name: 'eth0', mac: '52:54:00:aa:bb:01', initialized: false }]]]);
  const plan = await decideNetwork(settings('vlan_id=5 hw_addr=52:54:00:aa:bb:01'), stuck.listLinks, {
    ...stuck,
    timeoutMs: 1000,
  });
  assert.match(plan.files.get('10-hook-vlan.netdev') ?? '', /Name=eth0\.5\n/);
  assert.match(plan.warnings[0] ?? '', /udev has not finished with eth0/);
});

test('no NIC named by MAC: no waiting at all; a failing link listing counts as no links', async () => {
  const clock = slowNic([[0, [...links]]]);
  const plan = await decideNetwork(settings('interface=eth0'), clock.listLinks, clock);
  assert.equal(plan.waitedMs, 0);
  assert.equal(clock.calls(), 1);
  const failing = await decideNetwork(
    settings(''),
    async () => {
      throw new Error('no /sys');
    },
    clock,
  );
  assert.deepEqual(failing.files, EVERY_PORT);
});

test('property: planning never throws and never writes a raw command line value into a file', () => {
  const keys = ['vlan_id', 'hw_addr', 'interface', 'ipam', 'ip'];
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom(
      '52-54-00-aa-bb-01::10.0.0.5:24::h:1.1.1.1',
      '52:54:00:aa:bb:01',
      '100',
      'eno1,eth0',
      'x\ny',
    ),
  );
  const pair = fc.tuple(fc.constantFrom(...keys), value).map(([k, v]) => `${k}=${v}`);
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
      const plan = planNetwork(settings(pairs.join(' ')), links);
      for (const [name, text] of plan.files) {
        assert.match(name, /^\d\d-hook-[a-z-]+\.(network|netdev)$/);
        // Only the characters our typed values are made of reach a file.
        assert.match(text, /^[A-Za-z0-9_.:@*?!=/ \n[\]#',-]*$/, text);
      }
    }),
    { numRuns: 3000 },
  );
});
