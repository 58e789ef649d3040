/**
 * IPv4 addresses, prefixes and netmasks from the kernel command line, strictly: dotted decimal
 * with exactly four parts, each 0-255 without leading zeros. Leading zeros are refused rather than
 * read as decimal because C's inet_aton (glibc, busybox) reads `010` as octal 8: the same text
 * would mean two different hosts to two programs.
 */
import { fail, ok, type Parsed, shown } from './parsed.ts';

export interface IPv4 {
  /** Canonical dotted-decimal text (what was given, since only canonical text is accepted). */
  text: string;
  /** The address as an unsigned 32-bit number. */
  value: number;
}

export function parseIPv4(text: string): Parsed<IPv4> {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) {
    return fail(`${shown(text)} is not a dotted-decimal IPv4 address`);
  }
  if (parts.some((part) => part.length > 1 && part.startsWith('0'))) {
    return fail(`${shown(text)} has a leading zero (octal to some parsers: 010 means 8)`);
  }
  const octets = parts.map(Number);
  const over = octets.find((octet) => octet > 255);
  if (over !== undefined) return fail(`${shown(text)} has ${over}, over 255`);
  const value = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return ok({ text, value });
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** `255.255.255.0` or `24` → 24. Netmasks must be contiguous (ones, then zeros). */
export function parseNetmask(text: string): Parsed<number> {
  if (/^\d{1,2}$/.test(text)) {
    if (text.length > 1 && text.startsWith('0'))
      return fail(`prefix length ${shown(text)} has a leading zero`);
    const length = Number(text);
    return length <= 32 ? ok(length) : fail(`prefix length ${text} is over 32`);
  }
  const mask = parseIPv4(text);
  if (!mask.ok) return fail(`netmask ${mask.reason}`);
  const bits = mask.value.value.toString(2).padStart(32, '0');
  if (!/^1*0*$/.test(bits)) return fail(`netmask ${shown(text)} is not contiguous (ones, then zeros)`);
  const zero = bits.indexOf('0');
  return ok(zero < 0 ? 32 : zero);
}

/** The network part of `address` under `prefixLength` as a number. */
export function networkOf(address: number, prefixLength: number): number {
  if (prefixLength === 0) return 0;
  const hostBits = 2 ** (32 - prefixLength);
  return address - (address % hostBits);
}

/**
 * Why `address` cannot be a host's own unicast address (or a peer's: gateway, DNS, NTP), or
 * undefined when it can. With a prefix length, the network and broadcast addresses of that
 * network are refused too (except on /31 and /32, which have none, RFC 3021).
 */
export function unicastProblem(address: IPv4, prefixLength?: number): string | undefined {
  const first = Math.floor(address.value / 2 ** 24);
  if (first === 0) return `${address.text} is in 0.0.0.0/8 ("this network"), not a host address`;
  if (first === 127) return `${address.text} is a loopback address`;
  if (first >= 224 && first <= 239) return `${address.text} is a multicast address`;
  if (first >= 240) return `${address.text} is reserved (240.0.0.0/4) or the broadcast address`;
  if (prefixLength !== undefined && prefixLength <= 30) {
    const network = networkOf(address.value, prefixLength);
    if (address.value === network) return `${address.text} is the network address of its /${prefixLength}`;
    if (address.value === network + 2 ** (32 - prefixLength) - 1)
      return `${address.text} is the broadcast address of its /${prefixLength}`;
  }
  return undefined;
}

/** `10.0.0.0/8` → address and prefix length (host bits may be set, as Go's net.ParseCIDR allows). */
export function parseIPv4Cidr(text: string): Parsed<{ address: IPv4; prefixLength: number }> {
  const slash = text.indexOf('/');
  if (slash < 0) return fail(`${shown(text)} is not a CIDR block (address/length)`);
  const address = parseIPv4(text.slice(0, slash));
  if (!address.ok) return address;
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d?)$/.test(lengthText) || Number(lengthText) > 32)
    return fail(`${shown(text)} has an invalid prefix length`);
  return ok({ address: address.value, prefixLength: Number(lengthText) });
}
