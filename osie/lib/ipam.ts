/**
 * `ipam=<mac-with-dashes>:<vlan>:<ip>:<netmask>:<gateway>:<hostname>:<dns,…>:<search,…>:<ntp,…>`,
 * the static network configuration Smee puts on the command line (Hook's static-network.sh reads
 * it with `IFS=':' read -r mac vlan_id ip netmask gateway hostname dns search_domains ntp`, so
 * the last field takes any extra `:`-separated text). mac, ip, netmask and dns are required.
 *
 * All or nothing for what decides whether the machine is reachable (mac, vlan, address, netmask,
 * gateway, DNS servers): one invalid value and the caller falls back to DHCP, as Hook does when
 * the static setup fails. Invalid host name, search domains or NTP servers only lose that entry,
 * with a note, since a machine that is online with its address is still provisionable.
 */

import { splitList } from './cmdline.ts';
import { type HostPort, parseHostPort } from './host-port.ts';
import { KERNEL_HOSTNAME_MAX, parseDomainName, parseHostname } from './hostname.ts';
import { parseIPv4, parseNetmask, unicastProblem } from './ipv4.ts';
import { parseVlanId } from './link.ts';
import { parseMac } from './mac.ts';
import { fail, type Parsed, shown } from './parsed.ts';

export interface Ipam {
  /** Lower-case with colons. */
  mac: string;
  /** The VLAN carrying the address; undefined for untagged (an empty field or 0). */
  vlan: number | undefined;
  address: string;
  prefixLength: number;
  gateway: string | undefined;
  /** Set as the kernel hostname when present. */
  hostname: string | undefined;
  dns: string[];
  search: string[];
  /** IPv4 addresses or host names. */
  ntp: string[];
}

/** An optional field that was left out, and what that means. */
export interface IpamNote {
  problem: string;
  consequence: string;
}

export type IpamResult = Parsed<Ipam> & { notes?: IpamNote[] };

export function parseIpam(text: string): IpamResult {
  const fields = text.split(':');
  const [
    mac = '',
    vlan = '',
    address = '',
    netmask = '',
    gateway = '',
    hostname = '',
    dns = '',
    search = '',
  ] = fields;
  const ntp = fields.slice(8).join(':');
  const missing = (
    [
      ['mac', mac],
      ['ip', address],
      ['netmask', netmask],
      ['dns', dns],
    ] as const
  )
    .filter(([, value]) => value === '')
    .map(([name]) => name);
  if (missing.length > 0) return fail(`it lacks ${missing.join(', ')}`);

  const parsedMac = parseMac(mac);
  if (!parsedMac.ok) return fail(`its MAC ${parsedMac.reason}`);
  let vlanId: number | undefined;
  if (vlan !== '' && vlan !== '0') {
    const parsed = parseVlanId(vlan);
    if (!parsed.ok) return fail(`its VLAN ${parsed.reason}`);
    vlanId = parsed.value;
  }
  const prefix = parseNetmask(netmask);
  if (!prefix.ok) return fail(`its ${prefix.reason}`);
  if (prefix.value === 0)
    return fail(`its netmask ${shown(netmask)} (/0) leaves no network for a host address`);
  const ip = parseIPv4(address);
  if (!ip.ok) return fail(`its address ${ip.reason}`);
  const ipProblem = unicastProblem(ip.value, prefix.value);
  if (ipProblem !== undefined) return fail(`its address ${ipProblem}`);
  let gatewayText: string | undefined;
  if (gateway !== '') {
    const parsed = parseIPv4(gateway);
    if (!parsed.ok) return fail(`its gateway ${parsed.reason}`);
    const problem = unicastProblem(parsed.value);
    if (problem !== undefined) return fail(`its gateway ${problem}`);
    if (parsed.value.value === ip.value.value)
      return fail(`its gateway ${gateway} is the machine's own address`);
    gatewayText = gateway;
  }
  const dnsServers: string[] = [];
  for (const server of splitList(dns)) {
    const parsed = parseIPv4(server);
    if (!parsed.ok) return fail(`its DNS server ${parsed.reason}`);
    const problem = unicastProblem(parsed.value);
    if (problem !== undefined) return fail(`its DNS server ${problem}`);
    dnsServers.push(server);
  }
  if (dnsServers.length === 0) return fail('it lacks dns');

  const notes: IpamNote[] = [];
  let host: string | undefined;
  if (hostname !== '') {
    const parsed = parseHostname(hostname, KERNEL_HOSTNAME_MAX);
    if (parsed.ok) host = parsed.value;
    else notes.push({ problem: `its host name ${parsed.reason}`, consequence: 'no host name from ipam=' });
  }
  const domains: string[] = [];
  for (const domain of splitList(search)) {
    const parsed = parseDomainName(domain);
    if (parsed.ok) domains.push(parsed.value);
    else
      notes.push({ problem: `its search domain ${parsed.reason}`, consequence: 'that domain is left out' });
  }
  const ntpServers: string[] = [];
  for (const server of splitList(ntp)) {
    const parsed: Parsed<HostPort> = parseHostPort(server, { unicast: true });
    if (parsed.ok && parsed.value.port === undefined) ntpServers.push(parsed.value.host);
    else
      notes.push({
        problem: `its NTP server ${parsed.ok ? `${shown(server)} has a port` : parsed.reason}`,
        consequence: 'that server is left out',
      });
  }
  return {
    ok: true,
    value: {
      mac: parsedMac.value,
      vlan: vlanId,
      address,
      prefixLength: prefix.value,
      gateway: gatewayText,
      hostname: host,
      dns: dnsServers,
      search: domains,
      ntp: ntpServers,
    },
    notes,
  };
}
