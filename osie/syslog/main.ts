/**
 * Entry point of hook-syslog (bundled to /usr/lib/hook/hook-syslog.js, run by
 * hook-syslog.service when syslog_host is on the kernel command line): follows the journal of
 * this boot and sends every entry, redacted, to syslog_host on UDP (port 514 unless syslog_host
 * names one): the OS's own service logs and the containers' (Docker's journald driver). A cursor file in /run lets a restarted forwarder continue where it stopped instead of
 * sending the boot again.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { formatHostPort } from '../lib/host-port.ts';
import { credentialValues } from '../lib/redact.ts';
import { hookSettings, settingWarnings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import { parseJournalLine, syslogLine } from './forward.ts';

const SYSLOG_PORT = 514;
const CURSOR_FILE = '/run/hook/syslog.cursor';

const USAGE = `Usage: hook-syslog [--cmdline FILE]
Follows the journal of this boot (journalctl -o json) and sends each entry, with credentials
masked, as an RFC 5424 line to syslog_host (from the kernel command line) on UDP port
${SYSLOG_PORT} (or the port syslog_host names).`;

runMain('hook-syslog', async (args, log) => {
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const cmdlineText = await readFile(optionValue(args, '--cmdline') ?? '/proc/cmdline', 'latin1');
  const cmdline = parseCmdline(cmdlineText);
  // The same rules for our own lines and for every forwarded journal line.
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  log.addSecret(settings.registryPassword);
  const report = warningReporter(log, 'hook-syslog');
  for (const warning of settingWarnings(settings, new Map([['syslog_host', 'the journal is not forwarded']])))
    report(warning);
  const target = settings.syslogHost;
  if (target === undefined) {
    log.info('no valid syslog_host on the kernel command line; nothing to forward');
    return;
  }
  const port = target.port ?? SYSLOG_PORT;
  const socket = createSocket(target.kind === 'ipv6' ? 'udp6' : 'udp4');
  let failures = 0;
  const send = (line: string) =>
    socket.send(line, port, target.host, (error) => {
      // Lost datagrams are syslog-over-UDP's nature; say so once in a while, never per line.
      if (error && failures++ % 100 === 0)
        log.warn('cannot send to syslog_host', { host: target.host, port, reason: error.message });
    });
  log.info('forwarding the journal', { syslog_host: formatHostPort({ ...target, port }) });
  const journal = spawn(
    'journalctl',
    ['--boot', '--follow', '--lines=all', '--output=json', `--cursor-file=${CURSOR_FILE}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const fallbackHost = hostname();
  const lines = createInterface({ input: journal.stdout });
  lines.on('line', (line) => {
    const entry = parseJournalLine(line);
    if (entry !== undefined) send(syslogLine(entry, fallbackHost, log.redact));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => journal.kill('SIGTERM'));
  const code = await new Promise<number>((resolve) => journal.once('close', (c) => resolve(c ?? 1)));
  socket.close();
  // systemd restarts the service; the cursor file makes it continue where it was.
  if (code !== 0) throw new Error(`journalctl exited with code ${code}`);
});
