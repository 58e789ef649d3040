/**
 * hook-network's decisions: the systemd-networkd files (for /run/systemd/network) that the
 * kernel command line asks for, as Hook's dhcp.sh, vlan.sh and static-network.sh would set up:
 *
 * - `ip=` present: nothing; systemd-network-generator turns dracut-style settings into files.
 * - `ipam=`: static address on the NIC with that MAC (or on its VLAN `<nic>.<vlan>`), no DHCP;
 *   when no NIC has that MAC, DHCP on every port (Hook: static-network.sh fails, dhcp.sh runs).
 * - `vlan_id` + `hw_addr`: the VLAN `<nic>.<vlan_id>` on the NIC with that MAC, DHCP only on it.
 * - `interface=`: DHCP on the listed interfaces only (Hook: `dhcpcd --allowinterfaces <list>`).
 * - otherwise: DHCP (v4 and v6) on every Ethernet port, but not on Docker's veths and bridges.
 *
 * The VLAN link's name needs the NIC's final name (after udev renamed it), so deciding may wait
 * for that NIC: decideNetwork polls the links (bounded) and then calls the pure planNetwork.
 *
 * networkd applies the first matching .network file (in name order) to a link: the targeted
 * files start with `10-` to win over anything else; the catch-all DHCP file is `90-` so that
 * files shipped in the image's /etc/systemd/network can override it.
 */
import type { Ipam } from '../lib/ipam.ts';
import { IFNAME_MAX, isGlob } from '../lib/link.ts';
import { type HookSettings, settingWarnings } from '../lib/settings.ts';

/** An interface present at boot, from /sys/class/net. */
export interface LinkInfo {
  name: string;
  mac: string;
  /** udev has processed the link, so its name is final (udev renames NICs); true when unknown. */
  initialized?: boolean;
}

export interface NetworkPlan {
  files: Map<string, string>;
  /** From `ipam=`: the kernel hostname to set, if any. */
  hostname: string | undefined;
  /** Settings that could not be honoured, and what was done instead. */
  warnings: string[];
}

/** The command line keys hook-network uses, and what it does when one is invalid. */
const CONSEQUENCES: ReadonlyMap<string, string> = new Map([
  ['hw_addr', 'ignored'],
  ['vlan_id', 'no VLAN'],
  ['interface', 'left out of the DHCP allow-list'],
  ['ipam', 'using DHCP on every port instead'],
]);

/** How long to wait for the NIC named by MAC (`hw_addr`, `ipam=`); a NIC slower than this is treated as absent. */
export const LINK_WAIT_MS = 30_000;
export const LINK_POLL_MS = 250;

/** Veth pairs (Type=ether too) and bridges Docker creates: never DHCP on them. */
const NOT_OURS = '!veth* !docker* !br-*';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** The only way this module waits (main passes the platform's; tests a fake clock's). */
  sleep: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * The MAC of the NIC the plan depends on, if any, and whether its final name is needed (it is
 * for a VLAN, whose link is called `<nic>.<id>`).
 */
export function linkNeeded(settings: HookSettings): { mac: string; needsName: boolean } | undefined {
  if (settings.hasDracutIp) return undefined;
  if (settings.ipam !== undefined)
    return { mac: settings.ipam.mac, needsName: settings.ipam.vlan !== undefined };
  if (settings.vlanId !== undefined && settings.hwAddr !== '')
    return { mac: settings.hwAddr, needsName: true };
  return undefined;
}

/**
 * Lists the links, waiting (up to timeoutMs, polling) for the NIC the settings name by MAC to
 * appear and, when its name matters, for udev to finish with it; then plans. Never throws on
 * account of the settings; a failing `listLinks` counts as no links.
 */
export async function decideNetwork(
  settings: HookSettings,
  listLinks: () => Promise<LinkInfo[]>,
  options: WaitOptions,
): Promise<NetworkPlan & { waitedMs: number }> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep;
  const timeoutMs = options.timeoutMs ?? LINK_WAIT_MS;
  const list = () => listLinks().catch((): LinkInfo[] => []);
  const needed = linkNeeded(settings);
  const start = now();
  let links = await list();
  const ready = () => {
    const link = links.find((candidate) => candidate.mac.toLowerCase() === needed?.mac);
    return link !== undefined && (!needed?.needsName || link.initialized !== false);
  };
  while (needed !== undefined && !ready() && now() - start < timeoutMs) {
    await sleep(options.intervalMs ?? LINK_POLL_MS);
    links = await list();
  }
  const plan = planNetwork(settings, links);
  const waitedMs = now() - start;
  if (needed !== undefined && !ready()) {
    const link = links.find((candidate) => candidate.mac.toLowerCase() === needed.mac);
    if (link !== undefined) {
      plan.warnings.push(
        `udev has not finished with ${link.name} (${needed.mac}) after ${Math.round(waitedMs / 1000)} s; ` +
          'its VLAN is named after its current name',
      );
    }
  }
  return { ...plan, waitedMs };
}

export function planNetwork(settings: HookSettings, links: readonly LinkInfo[] = []): NetworkPlan {
  const warnings = settingWarnings(settings, CONSEQUENCES);
  const plan = (files: Map<string, string>, hostname?: string): NetworkPlan => ({
    files,
    hostname,
    warnings,
  });
  if (settings.hasDracutIp) return plan(new Map());

  if (settings.ipam !== undefined) {
    const ipam = settings.ipam;
    const nic = linkByMac(links, ipam.mac);
    if (nic !== undefined) return plan(staticFiles(ipam, nic, warnings), ipam.hostname);
    warnings.push(`ipam=: no NIC has the MAC ${ipam.mac}; using DHCP on every port instead, as Hook does`);
    return plan(everyPortDhcp());
  }

  if (settings.vlanId !== undefined) {
    const files = vlanDhcpFiles(settings, settings.vlanId, links, warnings);
    if (files !== undefined) return plan(files);
  }

  if (settings.interfaces.length > 0) {
    const match = `[Match]\nName=${settings.interfaces.join(' ')}\n`;
    return plan(new Map([['10-hook-dhcp.network', dhcpNetwork(match)]]));
  }
  return plan(everyPortDhcp());
}

function everyPortDhcp(): Map<string, string> {
  const match = `[Match]\nType=ether\nName=${NOT_OURS}\n`;
  return new Map([['90-hook-dhcp.network', dhcpNetwork(match)]]);
}

function staticFiles(ipam: Ipam, nic: LinkInfo, warnings: string[]): Map<string, string> {
  const network = [
    '[Network]',
    `Address=${ipam.address}/${ipam.prefixLength}`,
    ...(ipam.gateway === undefined ? [] : [`Gateway=${ipam.gateway}`]),
    ...ipam.dns.map((server) => `DNS=${server}`),
    ...(ipam.search.length === 0 ? [] : [`Domains=${ipam.search.join(' ')}`]),
    ...(ipam.ntp.length === 0 ? [] : [`NTP=${ipam.ntp.join(' ')}`]),
    'DHCP=no',
    'IPv6AcceptRA=no',
    '',
  ].join('\n');
  const parentMatch = `[Match]\nMACAddress=${ipam.mac}\nType=ether\n`;
  if (ipam.vlan === undefined) return new Map([['10-hook-static.network', `${parentMatch}\n${network}`]]);
  const vlanName = vlanInterfaceName(nic.name, ipam.vlan, warnings);
  return new Map([
    ['10-hook-vlan.netdev', vlanNetdev(vlanName, ipam.vlan)],
    ['10-hook-vlan-parent.network', vlanParentNetwork(parentMatch, vlanName)],
    ['10-hook-vlan.network', `[Match]\nName=${vlanName}\nType=vlan\n\n${network}`],
  ]);
}

function vlanDhcpFiles(
  settings: HookSettings,
  vlanId: number,
  links: readonly LinkInfo[],
  warnings: string[],
): Map<string, string> | undefined {
  let parentMatch: string;
  let parentName: string;
  const single = settings.interfaces.length === 1 ? settings.interfaces[0] : undefined;
  if (settings.hwAddr !== '') {
    const nic = linkByMac(links, settings.hwAddr);
    if (nic === undefined) {
      warnings.push(
        `vlan_id=${vlanId}: no NIC has the MAC ${settings.hwAddr} (hw_addr); no VLAN, using DHCP on ` +
          (settings.interfaces.length > 0 ? 'the interface= list' : 'every port') +
          ' instead',
      );
      return undefined;
    }
    parentMatch = `[Match]\nMACAddress=${settings.hwAddr}\nType=ether\n`;
    parentName = nic.name;
  } else if (single !== undefined && !isGlob(single)) {
    parentMatch = `[Match]\nName=${single}\nType=ether\n`;
    parentName = single;
  } else {
    warnings.push(
      `vlan_id=${vlanId} needs hw_addr (or a single interface=) to know which port carries the VLAN; no VLAN`,
    );
    return undefined;
  }
  const vlanName = vlanInterfaceName(parentName, vlanId, warnings);
  return new Map([
    ['10-hook-vlan.netdev', vlanNetdev(vlanName, vlanId)],
    ['10-hook-vlan-parent.network', vlanParentNetwork(parentMatch, vlanName)],
    ['10-hook-vlan.network', dhcpNetwork(`[Match]\nName=${vlanName}\nType=vlan\n`)],
  ]);
}

/**
 * A DHCP link counts as configured (the machine online, so the worker's pull starts) only once
 * its IPv6 link-local address has passed duplicate address detection, 0.7-1.5 s after the
 * DHCPv4 lease (measured under emulation; DAD's wait is wall-clock time, so as long on real
 * hardware). The addresses are made from the MAC address: a duplicate means a duplicate MAC,
 * which breaks DHCP first. Hence no DAD.
 */
function dhcpNetwork(match: string): string {
  return `${match}
[Network]
DHCP=yes
IPv6AcceptRA=yes
# Online without waiting for duplicate address detection: addresses come from the MAC.
IPv6DuplicateAddressDetection=0

[DHCPv4]
# Tinkerbell's DHCP server knows machines by MAC address.
ClientIdentifier=mac
UseDomains=yes
`;
}

/** The NIC carries only the VLAN: no address of its own, and online does not wait for it. */
function vlanParentNetwork(match: string, vlanName: string): string {
  return `${match}
[Link]
RequiredForOnline=no

[Network]
VLAN=${vlanName}
DHCP=no
LinkLocalAddressing=no
IPv6AcceptRA=no
`;
}

function vlanNetdev(name: string, vlanId: number): string {
  return `[NetDev]\nName=${name}\nKind=vlan\n\n[VLAN]\nId=${vlanId}\n`;
}

/**
 * `<nic>.<vlan>` as Hook names it; `vlan<id>` only when that name would exceed Linux's 15
 * characters (e.g. `enp65s0f0np0.100`), where Hook's `ip link add` fails and leaves it offline.
 */
export function vlanInterfaceName(parent: string, vlanId: number, warnings: string[] = []): string {
  const name = `${parent}.${vlanId}`;
  if (name.length <= IFNAME_MAX) return name;
  warnings.push(`the VLAN name ${name} is longer than ${IFNAME_MAX} characters; naming it vlan${vlanId}`);
  return `vlan${vlanId}`;
}

function linkByMac(links: readonly LinkInfo[], mac: string): LinkInfo | undefined {
  return links.find((link) => link.mac.toLowerCase() === mac);
}
