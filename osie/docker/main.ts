/**
 * Entry point of hook-docker (bundled to /usr/lib/hook/hook-docker.js, run by qjs from the
 * oneshot hook-docker.service before docker.service): writes the engine's configuration from the
 * kernel command line and creates /worker, which the reboot watcher and the worker share.
 */
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { formatHostPort } from '../lib/host-port.ts';
import { latin1Decode } from '../lib/platform/bytes.ts';
import { dirname, exists, joinPath, mkdirp, readBytes, readText, writeFile } from '../lib/platform/fs.ts';
import { writeStdout } from '../lib/platform/process.ts';
import { credentialValues } from '../lib/redact.ts';
import { hookSettings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import {
  DAEMON_JSON_PATH,
  DOCKER_ENV_PATH,
  daemonJson,
  dockerProxyEnv,
  dockerWarnings,
  IMAGE_DAEMON_JSON_PATH,
  imageDaemonSettings,
} from './config.ts';

const USAGE = `Usage: hook-docker [--cmdline FILE] [--root DIR] [--dry-run]
Writes ${DAEMON_JSON_PATH} and ${DOCKER_ENV_PATH} (engine proxies) from the kernel command line.
--root writes under DIR instead of /; --dry-run prints the files instead of writing them.`;

runMain('hook-docker', async (args, log) => {
  if (args.includes('--help')) {
    writeStdout(`${USAGE}\n`);
    return;
  }
  const cmdlineText = latin1Decode(readBytes(optionValue(args, '--cmdline') ?? '/proc/cmdline'));
  const cmdline = parseCmdline(cmdlineText);
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  const report = warningReporter(log, 'hook-docker');
  for (const warning of dockerWarnings(settings)) report(warning);
  const root = optionValue(args, '--root') ?? '/';
  // The spec's registries (insecure: true), merged with the command line's.
  const imageFile = joinPath(root, IMAGE_DAEMON_JSON_PATH);
  const image = imageDaemonSettings(exists(imageFile) ? readText(imageFile) : undefined);
  for (const warning of image.warnings) log.warn(warning);
  const files: [string, string, number][] = [
    [DAEMON_JSON_PATH, daemonJson(settings, image.settings), 0o644],
    // Proxy URLs may carry credentials: readable by root only.
    [DOCKER_ENV_PATH, dockerProxyEnv(settings), 0o600],
  ];
  if (args.includes('--dry-run')) {
    for (const [path, text] of files) writeStdout(`# ${path}\n${log.redact(text)}`);
    return;
  }
  for (const [path, text, mode] of files) {
    const target = joinPath(root, path);
    mkdirp(dirname(target));
    writeFile(target, text, mode);
  }
  mkdirp(joinPath(root, 'worker'), 0o755);
  log.info('wrote the Docker engine configuration', {
    syslog_host: settings.syslogHost === undefined ? '' : formatHostPort(settings.syslogHost),
    insecure_registries: [
      ...new Set([...image.settings.insecureRegistries, ...settings.insecureRegistries]),
    ].join(','),
    proxies: settings.httpProxy !== '' || settings.httpsProxy !== '' || settings.noProxy !== '',
  });
});
