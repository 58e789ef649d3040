/**
 * The machine's interfaces and addresses for the console status, from `ip -j address show`
 * (iproute2's JSON). Pure code. Shown: every interface but loopback and the veth pairs of
 * containers; per interface its state, MAC and global addresses (link-local and host-scope
 * addresses say nothing an operator can use).
 */

export interface NetInterface {
  name: string;
  /** `52:54:00:12:34:56`, or `''` (tunnels). */
  mac: string;
  /** The kernel's operational state says the link carries traffic. */
  up: boolean;
  /** `10.0.2.15/24`, `fec0::5054:ff:fe12:3456/64`: IPv4 first, in the kernel's order. */
  addresses: string[];
}

interface IpAddrInfo {
  family?: unknown;
  local?: unknown;
  prefixlen?: unknown;
  scope?: unknown;
}

interface IpLink {
  ifname?: unknown;
  link_type?: unknown;
  address?: unknown;
  operstate?: unknown;
  flags?: unknown;
  addr_info?: unknown;
}

/** Parses `ip -j address show`; anything unreadable gives an empty list (the banner says so). */
export function parseIpAddresses(json: string): NetInterface[] {
  let links: unknown;
  try {
    links = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(links)) return [];
  const out: NetInterface[] = [];
  for (const link of links as IpLink[]) {
    if (typeof link !== 'object' || link === null || typeof link.ifname !== 'string') continue;
    if (link.link_type === 'loopback' || link.ifname.startsWith('veth')) continue;
    const flags = Array.isArray(link.flags) ? link.flags : [];
    const up = link.operstate === 'UP' || (link.operstate === 'UNKNOWN' && flags.includes('LOWER_UP'));
    const infos = Array.isArray(link.addr_info) ? (link.addr_info as IpAddrInfo[]) : [];
    const global = infos.filter(
      (info) =>
        typeof info.local === 'string' &&
        typeof info.prefixlen === 'number' &&
        info.scope !== 'link' &&
        info.scope !== 'host',
    );
    const byFamily = (family: string) =>
      global.filter((info) => info.family === family).map((info) => `${info.local}/${info.prefixlen}`);
    out.push({
      name: link.ifname,
      mac: typeof link.address === 'string' && link.link_type === 'ether' ? link.address : '',
      up,
      addresses: [...byFamily('inet'), ...byFamily('inet6')],
    });
  }
  return out;
}
