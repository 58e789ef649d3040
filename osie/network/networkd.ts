/**
 * hook-network's decisions, free of I/O: the systemd-networkd files (for /run/systemd/network)
 * that the kernel command line asks for.
 *
 * - `ip=` present: nothing; systemd-network-generator turns dracut-style settings into files.
 * - `ipam=`: static address on the NIC with that MAC (or on its VLAN), no DHCP.
 * - `vlan_id` + `hw_addr` (or `interface`): a VLAN on that NIC, DHCP on the VLAN only.
 * - `interface=`: DHCP on that interface only.
 * - otherwise: DHCP (v4 and v6) on every Ethernet port, but not on Docker's veths and bridges.
 *
 * networkd applies the first matching .network file (in name order) to a link: the targeted
 * files start with `10-` to win over anything else; the catch-all DHCP file is `90-` so that
 * files shipped in the image's /etc/systemd/network can override it.
 */
import { type HookSettings, normalizeMac, splitList } from '../lib/cmdline.ts';

/** An interface present at boot, from /sys/class/net. */
export interface LinkInfo {
  name: string;
  mac: string;
}

export interface NetworkPlan {
  files: Map<string, string>;
  /** From `ipam=`: the kernel hostname to set, if any. */
  hostname: string | undefined;
  /** Settings that could not be honoured, and what was done instead. */
  warnings: string[];
}

export interface Ipam {
  mac: string;
  vlan: string;
  address: string;
  prefixLength: number;
  gateway: string;
  hostname: string;
  dns: string[];
  search: string[];
  ntp: string[];
}

const IFNAMSIZ_MAX = 15;
/** Veth pairs (Type=ether too) and bridges Docker creates: never DHCP on them. */
const NOT_OURS = '!veth* !docker* !br-*';

export function networkdFiles(settings: HookSettings, links: readonly LinkInfo[] = []): Map<string, string> {
  return planNetwork(settings, links).files;
}

export function planNetwork(settings: HookSettings, links: readonly LinkInfo[] = []): NetworkPlan {
  const warnings: string[] = [];
  if (settings.hasDracutIp) return { files: new Map(), hostname: undefined, warnings };
  if (settings.ipam !== '') {
    try {
      const ipam = parseIpam(settings.ipam);
      return { files: staticFiles(ipam, links), hostname: ipam.hostname || undefined, warnings };
    } catch (error) {
      warnings.push(`${(error as Error).message}; using DHCP instead`);
    }
  }
  if (settings.vlanId !== '') {
    const files = vlanDhcpFiles(settings, links, warnings);
    if (files !== undefined) return { files, hostname: undefined, warnings };
  }
  if (settings.interface !== '') {
    const match = `[Match]\nName=${settings.interface}\n`;
    return { files: new Map([['10-hook-dhcp.network', dhcpNetwork(match)]]), hostname: undefined, warnings };
  }
  const match = `[Match]\nType=ether\nName=${NOT_OURS}\n`;
  return { files: new Map([['90-hook-dhcp.network', dhcpNetwork(match)]]), hostname: undefined, warnings };
}

/**
 * `<mac-with-dashes>:<vlan>:<ip>:<netmask>:<gateway>:<hostname>:<dns,…>:<search,…>:<ntp,…>`;
 * mac, ip, netmask and dns are required; missing trailing fields are empty.
 */
export function parseIpam(text: string): Ipam {
  const [
    mac = '',
    vlan = '',
    address = '',
    netmask = '',
    gateway = '',
    hostname = '',
    dns = '',
    search = '',
    ntp = '',
  ] = text.split(':');
  const missing = [
    ['mac', mac],
    ['ip', address],
    ['netmask', netmask],
    ['dns', dns],
  ].filter(([, value]) => value === '');
  if (missing.length > 0) {
    throw new Error(`ipam= lacks ${missing.map(([name]) => name).join(', ')}`);
  }
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(normalizeMac(mac)))
    throw new Error(`ipam= has an invalid MAC "${mac}"`);
  if (vlan !== '' && vlan !== '0' && !isVlanId(vlan)) throw new Error(`ipam= has an invalid VLAN "${vlan}"`);
  if (!isIPv4(address)) throw new Error(`ipam= has an invalid IPv4 address "${address}"`);
  if (gateway !== '' && !isIPv4(gateway)) throw new Error(`ipam= has an invalid gateway "${gateway}"`);
  return {
    mac: normalizeMac(mac),
    vlan: vlan === '0' ? '' : vlan,
    address,
    prefixLength: netmaskToPrefix(netmask),
    gateway,
    hostname,
    dns: splitList(dns),
    search: splitList(search),
    ntp: splitList(ntp),
  };
}

/** `255.255.255.0` → 24; a prefix length (`24`) is accepted too. */
export function netmaskToPrefix(netmask: string): number {
  if (/^\d{1,2}$/.test(netmask) && Number(netmask) <= 32) return Number(netmask);
  if (!isIPv4(netmask)) throw new Error(`ipam= has an invalid netmask "${netmask}"`);
  const bits = netmask
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('');
  if (!/^1*0*$/.test(bits)) throw new Error(`ipam= netmask "${netmask}" is not contiguous`);
  return bits.indexOf('0') < 0 ? 32 : bits.indexOf('0');
}

function staticFiles(ipam: Ipam, links: readonly LinkInfo[]): Map<string, string> {
  const network = [
    '[Network]',
    `Address=${ipam.address}/${ipam.prefixLength}`,
    ...(ipam.gateway === '' ? [] : [`Gateway=${ipam.gateway}`]),
    ...ipam.dns.map((server) => `DNS=${server}`),
    ...(ipam.search.length === 0 ? [] : [`Domains=${ipam.search.join(' ')}`]),
    ...(ipam.ntp.length === 0 ? [] : [`NTP=${ipam.ntp.join(' ')}`]),
    'DHCP=no',
    'IPv6AcceptRA=no',
    '',
  ].join('\n');
  const parentMatch = `[Match]\nMACAddress=${ipam.mac}\nType=ether\n`;
  if (ipam.vlan === '') return new Map([['10-hook-static.network', `${parentMatch}\n${network}`]]);
  const vlanName = vlanInterfaceName(linkNameByMac(links, ipam.mac), ipam.vlan);
  return new Map([
    ['10-hook-vlan.netdev', vlanNetdev(vlanName, ipam.vlan)],
    ['10-hook-vlan-parent.network', vlanParentNetwork(parentMatch, vlanName)],
    ['10-hook-vlan.network', `[Match]\nName=${vlanName}\nType=vlan\n\n${network}`],
  ]);
}

function vlanDhcpFiles(
  settings: HookSettings,
  links: readonly LinkInfo[],
  warnings: string[],
): Map<string, string> | undefined {
  if (!isVlanId(settings.vlanId)) {
    warnings.push(`vlan_id="${settings.vlanId}" is not a VLAN ID (1-4094); ignoring it`);
    return undefined;
  }
  let parentMatch: string;
  let parentName: string | undefined;
  if (settings.hwAddr !== '') {
    parentMatch = `[Match]\nMACAddress=${settings.hwAddr}\nType=ether\n`;
    parentName = linkNameByMac(links, settings.hwAddr);
  } else if (settings.interface !== '') {
    parentMatch = `[Match]\nName=${settings.interface}\nType=ether\n`;
    parentName = settings.interface;
  } else {
    warnings.push('vlan_id needs hw_addr (or interface) to know which port carries the VLAN; ignoring it');
    return undefined;
  }
  const vlanName = vlanInterfaceName(parentName, settings.vlanId);
  return new Map([
    ['10-hook-vlan.netdev', vlanNetdev(vlanName, settings.vlanId)],
    ['10-hook-vlan-parent.network', vlanParentNetwork(parentMatch, vlanName)],
    ['10-hook-vlan.network', dhcpNetwork(`[Match]\nName=${vlanName}\nType=vlan\n`)],
  ]);
}

function dhcpNetwork(match: string): string {
  return `${match}
[Network]
DHCP=yes
IPv6AcceptRA=yes

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

function vlanNetdev(name: string, vlanId: string): string {
  return `[NetDev]\nName=${name}\nKind=vlan\n\n[VLAN]\nId=${vlanId}\n`;
}

/** `<if>.<vlan>` as the contract says; `vlan<id>` when the NIC is unknown or the name too long. */
export function vlanInterfaceName(parent: string | undefined, vlanId: string): string {
  const name = parent === undefined ? '' : `${parent}.${vlanId}`;
  return name !== '' && name.length <= IFNAMSIZ_MAX ? name : `vlan${vlanId}`;
}

function linkNameByMac(links: readonly LinkInfo[], mac: string): string | undefined {
  return links.find((link) => normalizeMac(link.mac) === mac)?.name;
}

function isVlanId(text: string): boolean {
  return /^\d{1,4}$/.test(text) && Number(text) >= 1 && Number(text) <= 4094;
}

function isIPv4(text: string): boolean {
  const octets = text.split('.');
  return octets.length === 4 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
}
