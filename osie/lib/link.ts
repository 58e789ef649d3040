/** Link-level values from the kernel command line: VLAN IDs and interface names. */
import { fail, ok, type Parsed, shown } from './parsed.ts';

/** 802.1Q: 0 means "no VLAN" and 4095 is reserved, so a VLAN link takes 1-4094. */
export function parseVlanId(text: string): Parsed<number> {
  if (!/^[1-9]\d{0,3}$/.test(text) || Number(text) > 4094) {
    return fail(`${shown(text)} is not a VLAN ID (1-4094, without leading zeros)`);
  }
  return ok(Number(text));
}

/** Linux's IFNAMSIZ (16) minus the terminating NUL. */
export const IFNAME_MAX = 15;

/**
 * One entry of `interface=`: an interface name as Linux accepts it (1-15 characters, not `.` or
 * `..`), limited to the characters real names use, plus the glob characters `*` and `?` (Hook
 * hands the list to dhcpcd, which matches it with fnmatch; networkd's `Name=` does the same).
 */
export function parseInterfaceName(text: string): Parsed<string> {
  if (text === '' || text.length > IFNAME_MAX)
    return fail(`${shown(text)} is not 1-${IFNAME_MAX} characters long`);
  if (text === '.' || text === '..') return fail(`${shown(text)} is not an interface name`);
  if (!/^[A-Za-z0-9_.:@*?-]+$/.test(text))
    return fail(
      `${shown(text)} has characters interface names do not use (letters, digits, _ . : @ - and the globs * ?)`,
    );
  return ok(text);
}

/** True when the name is a glob (it may match several interfaces). */
export function isGlob(name: string): boolean {
  return /[*?]/.test(name);
}
