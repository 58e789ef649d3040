/**
 * `host[:port]` values from the kernel command line (syslog_host, grpc_authority, registries):
 * the host is a strict IPv4 address, a bracketed IPv6 address (`[fd00::1]:514`) or an RFC 1123
 * host name; the port is 1-65535 without leading zeros.
 */
import { parseHostname } from './hostname.ts';
import { parseIPv4, unicastProblem } from './ipv4.ts';
import { fail, ok, type Parsed, shown } from './parsed.ts';

export interface HostPort {
  kind: 'ipv4' | 'ipv6' | 'name';
  /** The host without brackets, lower-case for names and IPv6. */
  host: string;
  port: number | undefined;
}

export interface HostPortOptions {
  /** Accept an IPv6 address without brackets (then it has no port), e.g. syslog_host=fd00::2. */
  bareIPv6?: boolean;
  /** Refuse multicast, loopback, unspecified and broadcast addresses (a peer to talk to). */
  unicast?: boolean;
}

export function parseHostPort(text: string, options: HostPortOptions = {}): Parsed<HostPort> {
  let hostText: string;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return fail(`${shown(text)} opens [ for an IPv6 address but never closes it`);
    hostText = text.slice(1, close);
    bracketed = true;
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return fail(`${shown(text)} has ${shown(rest)} after the IPv6 address`);
      portText = rest.slice(1);
    }
  } else {
    const colons = text.split(':').length - 1;
    if (colons >= 2) {
      if (!options.bareIPv6) return fail(`${shown(text)}: an IPv6 address needs brackets, [addr]:port`);
      hostText = text;
    } else if (colons === 1) {
      hostText = text.slice(0, text.indexOf(':'));
      portText = text.slice(text.indexOf(':') + 1);
    } else {
      hostText = text;
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    const parsed = parsePort(portText);
    if (!parsed.ok) return fail(`${shown(text)}: ${parsed.reason}`);
    port = parsed.value;
  }
  if (bracketed || hostText.includes(':')) {
    const problem = ipv6Problem(hostText, options.unicast === true);
    return problem === undefined
      ? ok({ kind: 'ipv6', host: hostText.toLowerCase(), port })
      : fail(`${shown(text)}: ${problem}`);
  }
  // Digits and dots only: it can only mean an IPv4 address, so it must be a valid one.
  if (/^[\d.]+$/.test(hostText)) {
    const address = parseIPv4(hostText);
    if (!address.ok) return fail(address.reason);
    const problem = options.unicast ? unicastProblem(address.value) : undefined;
    return problem === undefined ? ok({ kind: 'ipv4', host: hostText, port }) : fail(problem);
  }
  const name = parseHostname(hostText);
  return name.ok ? ok({ kind: 'name', host: name.value, port }) : fail(name.reason);
}

/** `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function formatHostPort(value: HostPort): string {
  const host = value.kind === 'ipv6' ? `[${value.host}]` : value.host;
  return value.port === undefined ? host : `${host}:${value.port}`;
}

export function parsePort(text: string): Parsed<number> {
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > 65535) {
    return fail(`port ${shown(text)} is not a number from 1 to 65535 (without leading zeros)`);
  }
  return ok(Number(text));
}

/** Why `text` is not an IPv6 address we accept (zone IDs are refused), or undefined. */
export function ipv6Problem(text: string, unicast = false): string | undefined {
  if (text.includes('%')) return 'IPv6 zone IDs (%eth0) are not accepted';
  if (!isIPv6(text)) return `${shown(text)} is not an IPv6 address`;
  if (unicast) {
    const groups = ipv6Groups(text);
    if (groups.every((group) => group === 0)) return `${text} is the unspecified address`;
    if (groups.slice(0, 7).every((group) => group === 0) && groups[7] === 1)
      return `${text} is the loopback address`;
    if ((groups[0] as number) >= 0xff00) return `${text} is a multicast address`;
  }
  return undefined;
}

const IPV4_TAIL = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)){3}$/;

/**
 * Whether `text` is an IPv6 address in RFC 4291 text form (hex groups of 1-4 digits, one `::` at
 * most, a dotted IPv4 tail without leading zeros), without a zone: what Node's `net.isIPv6`
 * accepts (osie/test-runner checks the two agree on random strings).
 */
export function isIPv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  /** How many 16-bit groups `part` holds, or undefined when it is not a run of groups. */
  const groups = (part: string, last: boolean): number | undefined => {
    if (part === '') return 0;
    const pieces = part.split(':');
    let count = 0;
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (last && i === pieces.length - 1 && piece.includes('.')) {
        if (!IPV4_TAIL.test(piece)) return undefined;
        count += 2;
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        count += 1;
      } else {
        return undefined;
      }
    }
    return count;
  };
  if (halves.length === 1) return groups(text, true) === 8;
  const left = groups(halves[0] as string, false);
  const right = groups(halves[1] as string, true);
  return left !== undefined && right !== undefined && left + right <= 7;
}

/** The eight 16-bit groups of an address that isIPv6() accepted (`::` expanded, IPv4 tail split). */
function ipv6Groups(text: string): number[] {
  const half = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
      return [a * 256 + b, c * 256 + d];
    });
  };
  const [head = '', tail] = text.split('::');
  const left = half(head);
  const right = tail === undefined ? [] : half(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
