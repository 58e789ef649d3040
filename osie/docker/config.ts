/**
 * hook-docker's decisions, free of I/O: the engine's daemon.json and the proxy environment
 * the engine reads through docker.service's `EnvironmentFile=` (read at each start, so no
 * `systemctl daemon-reload` is ever needed).
 */
import type { HookSettings } from '../lib/cmdline.ts';

export const DAEMON_JSON_PATH = '/etc/docker/daemon.json';
/** Named by the docker.service drop-in shipped in the image (osie/units/docker.service.d). */
export const DOCKER_ENV_PATH = '/run/hook/docker.env';

/**
 * No `hosts`: Debian's docker.service passes `-H fd://` (socket activation on
 * /run/docker.sock), a `hosts` key would conflict with it, and the API must never be
 * exposed on TCP without TLS.
 */
export function daemonConfig(settings: HookSettings): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (settings.syslogHost !== '') {
    config['log-driver'] = 'syslog';
    config['log-opts'] = {
      'syslog-address': `udp://${hostForUrl(settings.syslogHost)}:514`,
      tag: '{{.Name}}',
    };
  }
  if (settings.insecureRegistries.length > 0) config['insecure-registries'] = settings.insecureRegistries;
  return config;
}

export function daemonJson(settings: HookSettings): string {
  return `${JSON.stringify(daemonConfig(settings), null, 2)}\n`;
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

/** A bare IPv6 address needs brackets inside a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function quoteForEnvironmentFile(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}
