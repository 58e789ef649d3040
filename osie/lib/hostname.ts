/** Host and domain names from the kernel command line, per RFC 1123 §2.1. */
import { fail, ok, type Parsed, shown } from './parsed.ts';

/** The kernel's HOST_NAME_MAX: /proc/sys/kernel/hostname refuses anything longer. */
export const KERNEL_HOSTNAME_MAX = 64;
/** RFC 1035 §2.3.4: 255 octets on the wire are 253 characters as text. */
export const DNS_NAME_MAX = 253;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Labels of letters, digits and inner hyphens, each 1-63 characters, at most `maxLength` in all,
 * returned lower-case. The last label must not be all digits (nor `0x`-hex): RFC 1123 keeps host
 * names from looking like dotted-decimal addresses, and inet_aton reads `10.1` or `0x0a` as one.
 */
export function parseHostname(text: string, maxLength: number = DNS_NAME_MAX): Parsed<string> {
  if (text === '') return fail('the host name is empty');
  if (text.length > maxLength) return fail(`${shown(text)} is longer than ${maxLength} characters`);
  const name = text.toLowerCase();
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length > 63) return fail(`${shown(text)} has a label longer than 63 characters`);
    if (!LABEL.test(label)) {
      return fail(
        `${shown(text)} is not a host name (labels of letters, digits and inner hyphens, separated by dots)`,
      );
    }
  }
  const last = labels[labels.length - 1] as string;
  if (/^\d+$/.test(last) || /^0x[0-9a-f]*$/.test(last))
    return fail(`${shown(text)} ends in a numeric label, which resolvers read as an IPv4 address`);
  return ok(name);
}

/** A DNS search domain: a host name, and a trailing dot (fully qualified) is allowed. */
export function parseDomainName(text: string): Parsed<string> {
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  return parseHostname(bare);
}
