/**
 * The one parser for the kernel command line (`/proc/cmdline`) and the typed view of the keys
 * Tinkerbell's Smee puts there. Splitting follows the kernel's own `isspace()` (space, tab,
 * newline, vertical tab, form feed, carriage return), not JavaScript's `\s`, which would also
 * split on U+00A0 and other characters the kernel keeps inside a word.
 */

const KERNEL_WHITESPACE = /[ \t\n\v\f\r]+/;

/** The default port of the Tinkerbell gRPC server when `grpc_authority` names only a host. */
export const DEFAULT_GRPC_PORT = 42113;

/**
 * Parses a command line into key → value. `key=value` splits at the first `=` (values may
 * contain `=`); a bare key maps to `''`; keys are case-sensitive; the last occurrence wins.
 * Never throws, whatever the input.
 */
export function parseCmdline(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const word of text.split(KERNEL_WHITESPACE)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '' : word.slice(eq + 1);
    // Delete first so that iteration order reflects the winning (last) occurrence.
    result.delete(key);
    result.set(key, value);
  }
  return result;
}

/** Everything the OS services read from the command line; absent keys are `''` (or `[]`). */
export interface HookSettings {
  tinkWorkerImage: string;
  dockerRegistry: string;
  registryUsername: string;
  /** Secret: never log it. Trailing newlines are trimmed. */
  registryPassword: string;
  /** `host:port`; the port defaults to 42113 when missing; `''` when not given. */
  grpcAuthority: string;
  workerId: string;
  tinkerbellTls: string;
  tinkerbellInsecureTls: string;
  syslogHost: string;
  insecureRegistries: string[];
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
  /** Lower-case MAC address with colons, or `''`. */
  hwAddr: string;
  vlanId: string;
  interface: string;
  ipam: string;
  /** A dracut-style `ip=` is present: systemd-network-generator configures the network. */
  hasDracutIp: boolean;
}

export function hookSettings(cmdline: ReadonlyMap<string, string>): HookSettings {
  const get = (key: string): string => cmdline.get(key) ?? '';
  return {
    tinkWorkerImage: get('tink_worker_image'),
    dockerRegistry: get('docker_registry'),
    registryUsername: get('registry_username'),
    registryPassword: get('registry_password').replace(/[\r\n]+$/, ''),
    grpcAuthority: withDefaultPort(get('grpc_authority'), DEFAULT_GRPC_PORT),
    workerId: get('worker_id'),
    tinkerbellTls: get('tinkerbell_tls'),
    tinkerbellInsecureTls: get('tinkerbell_insecure_tls'),
    syslogHost: get('syslog_host'),
    insecureRegistries: splitList(get('insecure_registries')),
    httpProxy: get('HTTP_PROXY'),
    httpsProxy: get('HTTPS_PROXY'),
    noProxy: get('NO_PROXY'),
    hwAddr: normalizeMac(get('hw_addr')),
    vlanId: get('vlan_id'),
    interface: get('interface'),
    ipam: get('ipam'),
    hasDracutIp: cmdline.has('ip'),
  };
}

/** Appends `:port` to a host that has none; handles `[v6]`, `[v6]:port` and a bare IPv6 address. */
export function withDefaultPort(authority: string, port: number): string {
  if (authority === '') return '';
  if (authority.startsWith('[')) {
    return authority.includes(']:') ? authority : `${authority}:${port}`;
  }
  const colons = authority.split(':').length - 1;
  if (colons === 0) return `${authority}:${port}`;
  if (colons === 1) return authority;
  return `[${authority}]:${port}`;
}

/** Comma-separated list → trimmed, non-empty items. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** `AA-BB-CC-DD-EE-FF` or `aa:bb:…` → `aa:bb:cc:dd:ee:ff`; anything else is returned lower-cased. */
export function normalizeMac(text: string): string {
  return text.trim().toLowerCase().replaceAll('-', ':');
}
