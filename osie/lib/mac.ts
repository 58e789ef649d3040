/** MAC addresses from the kernel command line (`hw_addr=`, the first field of `ipam=`). */
import { fail, ok, type Parsed, shown } from './parsed.ts';

/**
 * `52:54:00:12:34:56` or `52-54-00-12-34-56` (one separator throughout), any case →
 * lower-case with colons, the spelling of /sys/class/net/<if>/address and networkd's
 * `MACAddress=`. A NIC's own address is never all zeros nor a group (multicast) address.
 */
export function parseMac(text: string): Parsed<string> {
  if (!/^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i.test(text)) {
    return fail(`${shown(text)} is not a MAC address (six hex pairs separated by : or -)`);
  }
  const mac = text.toLowerCase().replaceAll('-', ':');
  if (mac === '00:00:00:00:00:00') return fail(`${shown(text)} is the all-zero MAC address`);
  if (Number.parseInt(mac.slice(0, 2), 16) % 2 === 1)
    return fail(`${shown(text)} is a multicast (group) MAC address, never a NIC's`);
  return ok(mac);
}
