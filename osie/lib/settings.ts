/**
 * The typed view of the kernel command line keys Tinkerbell's Smee sends: every value is parsed
 * here, where it enters, into a checked value. An invalid value is never passed on raw: it is
 * dropped (the setting behaves as if absent, which is Hook's default behaviour for that key) and
 * a warning says which key, what was wrong, and each service's decision module says what it does
 * instead. hookSettings never throws, whatever the command line.
 */
import { parseCmdline, splitList } from './cmdline.ts';
import { type HostPort, ipv6Problem, parseHostPort } from './host-port.ts';
import { domainOf, goPathClean, goPathJoin, parseImageRef } from './image-ref.ts';
import { type Ipam, parseIpam } from './ipam.ts';
import { parseIPv4Cidr } from './ipv4.ts';
import { parseInterfaceName, parseVlanId } from './link.ts';
import { parseMac } from './mac.ts';
import { shown } from './parsed.ts';
import { parseNoProxy, parseProxyUrl } from './proxy.ts';

/**
 * A value that could not be used: `problem` says why (the key and value are in it); `consequence`
 * is set when it does not depend on the service (else each service says what it does instead).
 */
export interface SettingWarning {
  key: string;
  problem: string;
  consequence?: string;
}

export interface HookSettings {
  /** A valid image reference, or `''`. */
  tinkWorkerImage: string;
  /** Path-cleaned like Hook's Go `path.Join` (`host:5000/` → `host:5000`); `''` when absent or invalid. */
  dockerRegistry: string;
  /** The registry host credentials may go to: docker_registry's first component when it is a host. */
  credentialRegistry: string | undefined;
  registryUsername: string;
  /** Secret: never log it. Trailing newlines are trimmed. */
  registryPassword: string;
  /** `host[:port]`, passed to the worker unchanged (Hook does not add a port either); `''` if absent/invalid. */
  grpcAuthority: string;
  workerId: string;
  tinkerbellTls: string;
  tinkerbellInsecureTls: string;
  /** Where logs go (UDP, port 514 unless given). */
  syslogHost: HostPort | undefined;
  /** Registries (`host[:port]`) or CIDR blocks Docker may use over plain HTTP. */
  insecureRegistries: string[];
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
  /** Lower-case MAC address with colons, or `''`. */
  hwAddr: string;
  vlanId: number | undefined;
  /** The `interface=` allow-list (names or globs). */
  interfaces: string[];
  ipam: Ipam | undefined;
  /** A dracut-style `ip=` is present: systemd-network-generator configures the network. */
  hasDracutIp: boolean;
  warnings: SettingWarning[];
}

/** Go's strconv.ParseBool, which the worker uses for its boolean settings. */
const GO_BOOLEANS = new Set([
  '1',
  't',
  'T',
  'TRUE',
  'true',
  'True',
  '0',
  'f',
  'F',
  'FALSE',
  'false',
  'False',
]);

export function hookSettings(cmdline: ReadonlyMap<string, string>): HookSettings {
  const warnings: SettingWarning[] = [];
  const get = (key: string): string => cmdline.get(key) ?? '';
  const warn = (key: string, problem: string, consequence?: string) =>
    warnings.push({ key, problem: `${key}=${shown(get(key))}: ${problem}`, consequence });

  let tinkWorkerImage = get('tink_worker_image');
  if (tinkWorkerImage !== '') {
    const parsed = parseImageRef(tinkWorkerImage);
    if (!parsed.ok) {
      warn('tink_worker_image', parsed.reason);
      tinkWorkerImage = '';
    }
  }

  let dockerRegistry = '';
  let credentialRegistry: string | undefined;
  if (get('docker_registry') !== '') {
    const cleaned = goPathClean(get('docker_registry'));
    const image = parseImageRef(goPathJoin(cleaned, 'tink-worker:latest'));
    if (image.ok) {
      dockerRegistry = cleaned;
      credentialRegistry = domainOf(cleaned.split('/')[0] as string);
    } else {
      warn(
        'docker_registry',
        `${shown(cleaned)}/tink-worker:latest is not an image reference (${image.reason})`,
      );
    }
  }

  let grpcAuthority = get('grpc_authority');
  if (grpcAuthority !== '') {
    const parsed = parseHostPort(grpcAuthority, { unicast: true });
    if (!parsed.ok) {
      warn('grpc_authority', `not host[:port] (${parsed.reason})`);
      grpcAuthority = '';
    }
  }

  const printable = (key: string): string => {
    const value = get(key);
    if (value === '' || /^[\x21-\x7e]+$/.test(value)) return value;
    warn(key, 'has characters other than printable ASCII');
    return '';
  };
  const boolean = (key: string): string => {
    const value = get(key);
    if (value === '' || GO_BOOLEANS.has(value)) return value;
    warn(key, 'is not a boolean (true, false, 1, 0, t, f)');
    return '';
  };

  let syslogHost: HostPort | undefined;
  if (get('syslog_host') !== '') {
    const parsed = parseHostPort(get('syslog_host'), { bareIPv6: true, unicast: true });
    if (parsed.ok) syslogHost = parsed.value;
    else warn('syslog_host', `not host[:port] (${parsed.reason})`);
  }

  const insecureRegistries: string[] = [];
  for (const entry of splitList(get('insecure_registries'))) {
    const problem = insecureRegistryProblem(entry);
    if (problem === undefined) insecureRegistries.push(entry);
    else warn('insecure_registries', `entry ${shown(entry)} ${problem}`);
  }

  const proxy = (key: string): string => {
    const value = get(key);
    if (value === '') return '';
    const parsed = parseProxyUrl(value);
    if (parsed.ok) return value;
    warn(key, parsed.reason);
    return '';
  };
  const noProxyParsed = parseNoProxy(get('NO_PROXY'));
  for (const entry of noProxyParsed.invalid)
    warn('NO_PROXY', `entry ${shown(entry)} is not a host, domain, IP address or CIDR block`);

  let hwAddr = '';
  if (get('hw_addr') !== '') {
    const parsed = parseMac(get('hw_addr'));
    if (parsed.ok) hwAddr = parsed.value;
    else warn('hw_addr', parsed.reason);
  }

  let vlanId: number | undefined;
  if (get('vlan_id') !== '') {
    const parsed = parseVlanId(get('vlan_id'));
    if (parsed.ok) vlanId = parsed.value;
    else warn('vlan_id', parsed.reason);
  }

  const interfaces: string[] = [];
  for (const entry of splitList(get('interface'))) {
    const parsed = parseInterfaceName(entry);
    if (parsed.ok) interfaces.push(parsed.value);
    else warn('interface', `entry ${parsed.reason}`);
  }

  let ipam: Ipam | undefined;
  if (get('ipam') !== '') {
    const parsed = parseIpam(get('ipam'));
    if (parsed.ok) {
      ipam = parsed.value;
      for (const note of parsed.notes ?? []) warn('ipam', note.problem, note.consequence);
    } else {
      warn('ipam', `invalid: ${parsed.reason}`);
    }
  }

  return {
    tinkWorkerImage,
    dockerRegistry,
    credentialRegistry,
    registryUsername: get('registry_username'),
    registryPassword: get('registry_password').replace(/[\r\n]+$/, ''),
    grpcAuthority,
    workerId: printable('worker_id'),
    tinkerbellTls: boolean('tinkerbell_tls'),
    tinkerbellInsecureTls: boolean('tinkerbell_insecure_tls'),
    syslogHost,
    insecureRegistries,
    httpProxy: proxy('HTTP_PROXY'),
    httpsProxy: proxy('HTTPS_PROXY'),
    noProxy: noProxyParsed.entries.join(','),
    hwAddr,
    vlanId,
    interfaces,
    ipam,
    hasDracutIp: cmdline.has('ip'),
    warnings,
  };
}

/** Parses a command line text and returns its typed settings. */
export function settingsFromText(text: string): HookSettings {
  return hookSettings(parseCmdline(text));
}

/** Docker accepts `host[:port]` or a CIDR block (`10.0.0.0/8`, `fd00::/8`). */
function insecureRegistryProblem(entry: string): string | undefined {
  const slash = entry.indexOf('/');
  if (slash >= 0) {
    if (parseIPv4Cidr(entry).ok) return undefined;
    const length = entry.slice(slash + 1);
    if (
      ipv6Problem(entry.slice(0, slash)) === undefined &&
      /^(0|[1-9]\d{0,2})$/.test(length) &&
      Number(length) <= 128
    )
      return undefined;
    return 'is not a CIDR block';
  }
  const parsed = parseHostPort(entry);
  return parsed.ok ? undefined : `is not host[:port] (${parsed.reason})`;
}

/** The warnings about these keys (each service reports the keys it uses). */
export function warningsFor(settings: HookSettings, keys: readonly string[]): SettingWarning[] {
  return settings.warnings.filter((warning) => keys.includes(warning.key));
}

/**
 * The warning lines a service reports: each problem about one of its keys, then what it does
 * instead (the warning's own consequence, else the service's for that key).
 */
export function settingWarnings(settings: HookSettings, consequences: ReadonlyMap<string, string>): string[] {
  return warningsFor(settings, [...consequences.keys()]).map(
    (warning) => `${warning.problem}; ${warning.consequence ?? consequences.get(warning.key)}`,
  );
}
