/**
 * Smee's ISO patching, reproduced for tests from tinkerbell/tinkerbell smee/internal/iso:
 *
 * - `constructPatch` (iso.go): `strings.Join([extra args joined by " ", consoles, vlan_id=…
 *   (or ""), hw_addr=<mac>, syslog_host=…, grpc_authority=…, tinkerbell_tls=<bool>,
 *   worker_id=<mac>] + [ipam=… when static IPAM is enabled], " ")`;
 * - the consoles: `facility=<f>` alone when the facility holds `console=`, else
 *   `facility=<f> ` + the defaults when a facility is set, else the defaults;
 * - `parseIPAM` (ipam.go): `ipam=<mac with dashes>:<vlan>:<ip>:<netmask>:<gateway>:<hostname>:
 *   <dns,…>:<search,…>:<ntp,…>`;
 * - `Copy` (iso.go, the reverse proxy's body copy): for every `src.Read(buf)` with a 32 KiB
 *   buffer, `i := bytes.Index(b, magic)`; when found, a copy of the buffer gets
 *   `copy(dup[i:], padding)` (spaces, the placeholder's length) then `copy(dup[i:], patch)`
 *   (the whole patch, bounded only by the buffer's end). Only the first occurrence in a buffer
 *   is patched, and a placeholder split by a read boundary is not patched at all.
 */
import { open } from 'node:fs/promises';

export const SMEE_DEFAULT_CONSOLES = 'console=ttyAMA0 console=ttyS0 console=tty0 console=tty1 console=ttyS1';
export const SMEE_BUFFER = 32 * 1024;

/** The hardware's DHCP data as Smee's backend returns it (data.DHCP). */
export interface SmeeDhcp {
  /** `aa:bb:cc:dd:ee:ff` */
  macAddress: string;
  vlanId?: string;
  ipAddress?: string;
  subnetMask?: string;
  defaultGateway?: string;
  hostname?: string;
  nameServers?: string[];
  domainSearch?: string[];
  ntpServers?: string[];
}

/** The ISO handler's settings (iso.Handler). */
export interface SmeeIsoHandler {
  extraKernelParams: string[];
  syslog: string;
  tinkServerTLS: boolean;
  tinkServerGRPCAddr: string;
  staticIPAMEnabled: boolean;
}

export function smeeConsoles(facility: string): string {
  if (facility !== '' && facility.includes('console=')) return `facility=${facility}`;
  if (facility !== '') return `facility=${facility} ${SMEE_DEFAULT_CONSOLES}`;
  return SMEE_DEFAULT_CONSOLES;
}

export function smeeIpam(d: SmeeDhcp | undefined): string {
  if (!d) return '';
  const fields = [
    d.macAddress.toLowerCase().replaceAll(':', '-'),
    d.vlanId ?? '',
    d.ipAddress ?? '',
    d.subnetMask ?? '',
    d.defaultGateway ?? '',
    d.hostname ?? '',
    (d.nameServers ?? []).join(','),
    (d.domainSearch ?? []).join(','),
    (d.ntpServers ?? []).join(','),
  ];
  return `ipam=${fields.join(':')}`;
}

/** Smee's `constructPatch(consoles, mac, dhcp)`. */
export function smeePatch(h: SmeeIsoHandler, facility: string, mac: string, d: SmeeDhcp | undefined): string {
  const all = [
    h.extraKernelParams.join(' '),
    smeeConsoles(facility),
    d?.vlanId ? `vlan_id=${d.vlanId}` : '',
    `hw_addr=${mac.toLowerCase()}`,
    `syslog_host=${h.syslog}`,
    `grpc_authority=${h.tinkServerGRPCAddr}`,
    `tinkerbell_tls=${h.tinkServerTLS}`,
    `worker_id=${mac.toLowerCase()}`,
  ];
  if (h.staticIPAMEnabled) all.push(smeeIpam(d));
  return all.join(' ');
}

/** One `Copy` step: what Smee writes for one buffer it read. */
export function smeePatchBuffer(b: Uint8Array, magic: Uint8Array, patch: Uint8Array): Uint8Array {
  const i = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(magic);
  if (i === -1) return b;
  const dup = new Uint8Array(b); // copy(dup, b)
  dup.fill(0x20, i, Math.min(i + magic.byteLength, dup.byteLength)); // copy(dup[i:], padding)
  dup.set(patch.subarray(0, dup.byteLength - i), i); // copy(dup[i:], patch)
  return dup;
}

/** Reads of exactly `size` bytes (the last one shorter) over the concatenated pieces, from `from`. */
export function* fullReads(
  pieces: readonly Uint8Array[],
  size = SMEE_BUFFER,
  from = 0,
): Generator<Uint8Array> {
  let skip = from;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for (const piece of pieces) {
    let p = piece;
    if (skip > 0) {
      const cut = Math.min(skip, p.byteLength);
      skip -= cut;
      p = p.subarray(cut);
    }
    while (p.byteLength > 0) {
      const take = Math.min(size - pendingBytes, p.byteLength);
      pending.push(p.subarray(0, take));
      pendingBytes += take;
      p = p.subarray(take);
      if (pendingBytes === size) {
        yield pending.length === 1 ? (pending[0] as Uint8Array) : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** Smee's Copy over a sequence of reads: the bytes it sends, one piece per read. */
export function smeeCopy(reads: Iterable<Uint8Array>, magic: string, patch: string): Uint8Array[] {
  const m = Buffer.from(magic);
  const p = Buffer.from(patch);
  const out: Uint8Array[] = [];
  for (const b of reads) out.push(smeePatchBuffer(b, m, p));
  return out;
}

/**
 * Serves `src` through Smee's Copy into `dst`, reading the file with a 32 KiB buffer as the
 * proxy reads its upstream body (a local file fills every buffer).
 */
export async function smeePatchFile(src: string, dst: string, magic: string, patch: string): Promise<number> {
  const input = await open(src, 'r');
  const output = await open(dst, 'w');
  const m = Buffer.from(magic);
  const p = Buffer.from(patch);
  const buf = Buffer.alloc(SMEE_BUFFER);
  let patched = 0;
  try {
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, SMEE_BUFFER, null);
      if (bytesRead === 0) break;
      const b = buf.subarray(0, bytesRead);
      const sent = smeePatchBuffer(b, m, p);
      if (sent !== b) patched++;
      await output.write(sent);
    }
  } finally {
    await input.close();
    await output.close();
  }
  return patched;
}
