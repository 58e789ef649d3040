/**
 * hook-docker's decisions, free of I/O: the engine's daemon.json and the proxy environment
 * the engine reads through docker.service's `EnvironmentFile=` (read at each start, so no
 * `systemctl daemon-reload` is ever needed). Only checked values reach these files (settings.ts).
 */
import { type HookSettings, settingWarnings } from '../lib/settings.ts';

export const DAEMON_JSON_PATH = '/etc/docker/daemon.json';
/**
 * The image's own engine settings, written by the builder from the spec's `registries:`
 * (`insecure: true` entries): `{"insecure-registries": [...]}`. hook-docker merges them with
 * the command line's at each boot.
 */
export const IMAGE_DAEMON_JSON_PATH = '/usr/lib/hook/docker-daemon.json';
/** Named by the docker.service drop-in shipped in the image (osie/units/docker.service.d). */
export const DOCKER_ENV_PATH = '/run/hook/docker.env';

/** The command line keys hook-docker uses, and what it does when one is invalid. */
const CONSEQUENCES: ReadonlyMap<string, string> = new Map([
  ['insecure_registries', 'that entry is left out of insecure-registries'],
  ['HTTP_PROXY', 'the engine uses no HTTP proxy'],
  ['HTTPS_PROXY', 'the engine uses no HTTPS proxy'],
  ['NO_PROXY', 'that entry is left out of the engine NO_PROXY'],
]);

/** What hook-docker warns about: invalid values of the keys it uses, and what it does instead. */
export function dockerWarnings(settings: HookSettings): string[] {
  return settingWarnings(settings, CONSEQUENCES);
}

/**
 * Container logs go to the journal (tagged with the container's name), never straight to
 * syslog_host: hook-syslog forwards the journal, containers included, through the one
 * redaction rule set, so a worker that prints its environment does not send the registry
 * password out (Docker's syslog driver would). `docker logs` reads the journal driver too.
 *
 * No `hosts`: Debian's docker.service passes `-H fd://` (socket activation on
 * /run/docker.sock), a `hosts` key would conflict with it, and the API must never be
 * exposed on TCP without TLS.
 */
export function daemonConfig(
  settings: HookSettings,
  image: ImageDaemonSettings = NO_IMAGE_SETTINGS,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    'log-driver': 'journald',
    'log-opts': { tag: '{{.Name}}' },
    // Published ports go through iptables' NAT only: the image leaves docker-proxy out (2.4 MB),
    // and the engine refuses to start with the proxy on and no docker-proxy to run.
    'userland-proxy': false,
  };
  const insecure = [...new Set([...image.insecureRegistries, ...settings.insecureRegistries])];
  if (insecure.length > 0) config['insecure-registries'] = insecure;
  return config;
}

export function daemonJson(settings: HookSettings, image: ImageDaemonSettings = NO_IMAGE_SETTINGS): string {
  return `${JSON.stringify(daemonConfig(settings, image), null, 2)}\n`;
}

/** What the image's own docker-daemon.json (IMAGE_DAEMON_JSON_PATH) holds that hook-docker uses. */
export interface ImageDaemonSettings {
  insecureRegistries: string[];
}

const NO_IMAGE_SETTINGS: ImageDaemonSettings = { insecureRegistries: [] };

/** Registry names as the builder checked them: host[:port], IPv6 in brackets; nothing else. */
const REGISTRY = /^[A-Za-z0-9.[\]:-]{1,261}$/;

/**
 * Reads the image's docker-daemon.json (undefined: the image has none). Entries that are not
 * registry names are left out with a warning, and so is a file that is not JSON: the engine
 * must start whatever the file holds.
 */
export function imageDaemonSettings(text: string | undefined): {
  settings: ImageDaemonSettings;
  warnings: string[];
} {
  if (text === undefined) return { settings: NO_IMAGE_SETTINGS, warnings: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {
      settings: NO_IMAGE_SETTINGS,
      warnings: [`${IMAGE_DAEMON_JSON_PATH} is not JSON; it is ignored`],
    };
  }
  const list =
    typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, unknown>)['insecure-registries']
      : undefined;
  const warnings: string[] = [];
  const insecureRegistries: string[] = [];
  for (const entry of Array.isArray(list) ? list : []) {
    if (typeof entry === 'string' && REGISTRY.test(entry)) insecureRegistries.push(entry);
    else
      warnings.push(
        `${IMAGE_DAEMON_JSON_PATH}: ${JSON.stringify(entry).slice(0, 80)} is not a registry; left out`,
      );
  }
  return { settings: { insecureRegistries }, warnings };
}

/** Both spellings: Go's proxy lookup reads either. Values are quoted for systemd's parser. */
export function dockerProxyEnv(settings: HookSettings): string {
  const lines: string[] = [];
  const add = (name: string, value: string) => {
    if (value === '') return;
    lines.push(`${name}=${quoteForEnvironmentFile(value)}`);
    lines.push(`${name.toLowerCase()}=${quoteForEnvironmentFile(value)}`);
  };
  add('HTTP_PROXY', settings.httpProxy);
  add('HTTPS_PROXY', settings.httpsProxy);
  add('NO_PROXY', settings.noProxy);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function quoteForEnvironmentFile(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
