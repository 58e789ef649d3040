/**
 * Entry point of hook-docker (bundled to /usr/lib/hook/hook-docker.js, run by the oneshot
 * hook-docker.service before docker.service): writes the engine's configuration from the
 * kernel command line and creates /worker, which the reboot watcher and the worker share.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { formatHostPort } from '../lib/host-port.ts';
import { credentialValues } from '../lib/redact.ts';
import { hookSettings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import { DAEMON_JSON_PATH, DOCKER_ENV_PATH, daemonJson, dockerProxyEnv, dockerWarnings } from './config.ts';

const USAGE = `Usage: hook-docker [--cmdline FILE] [--root DIR] [--dry-run]
Writes ${DAEMON_JSON_PATH} and ${DOCKER_ENV_PATH} (engine proxies) from the kernel command line.
--root writes under DIR instead of /; --dry-run prints the files instead of writing them.`;

runMain('hook-docker', async (args, log) => {
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const cmdlineText = await readFile(optionValue(args, '--cmdline') ?? '/proc/cmdline', 'latin1');
  const cmdline = parseCmdline(cmdlineText);
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  const report = warningReporter(log, 'hook-docker');
  for (const warning of dockerWarnings(settings)) report(warning);
  const files: [string, string, number][] = [
    [DAEMON_JSON_PATH, daemonJson(settings), 0o644],
    // Proxy URLs may carry credentials: readable by root only.
    [DOCKER_ENV_PATH, dockerProxyEnv(settings), 0o600],
  ];
  if (args.includes('--dry-run')) {
    for (const [path, text] of files) process.stdout.write(`# ${path}\n${log.redact(text)}`);
    return;
  }
  const root = optionValue(args, '--root') ?? '/';
  for (const [path, text, mode] of files) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text, { mode });
  }
  await mkdir(join(root, 'worker'), { recursive: true, mode: 0o755 });
  log.info('wrote the Docker engine configuration', {
    syslog_host: settings.syslogHost === undefined ? '' : formatHostPort(settings.syslogHost),
    insecure_registries: settings.insecureRegistries.join(','),
    proxies: settings.httpProxy !== '' || settings.httpsProxy !== '' || settings.noProxy !== '',
  });
});
