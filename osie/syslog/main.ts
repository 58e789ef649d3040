/**
 * Entry point of hook-syslog (bundled to /usr/lib/hook/hook-syslog.js, run by
 * hook-syslog.service when syslog_host is on the kernel command line): follows the journal of
 * this boot and sends every entry to syslog_host on UDP 514, so the OS's own service logs go
 * where Docker's syslog driver sends the containers' logs. A cursor file in /run lets a
 * restarted forwarder continue where it stopped instead of sending the boot again.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { optionValue, runMain } from '../lib/args.ts';
import { hookSettings, parseCmdline } from '../lib/cmdline.ts';
import { createLogger } from '../lib/log.ts';
import { parseJournalLine, syslogLine } from './forward.ts';

const SYSLOG_PORT = 514;
const CURSOR_FILE = '/run/hook/syslog.cursor';

const USAGE = `Usage: hook-syslog [--cmdline FILE]
Follows the journal of this boot (journalctl -o json) and sends each entry as an RFC 5424
line to syslog_host (from the kernel command line) on UDP port ${SYSLOG_PORT}.`;

runMain('hook-syslog', async (args) => {
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = createLogger({ component: 'hook-syslog' });
  const settings = hookSettings(
    parseCmdline(await readFile(optionValue(args, '--cmdline') ?? '/proc/cmdline', 'latin1')),
  );
  const host = settings.syslogHost.replace(/^\[(.*)\]$/, '$1');
  if (host === '') {
    log.info('no syslog_host on the kernel command line; nothing to forward');
    return;
  }
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  let failures = 0;
  const send = (line: string) =>
    socket.send(line, SYSLOG_PORT, host, (error) => {
      // Lost datagrams are syslog-over-UDP's nature; say so once in a while, never per line.
      if (error && failures++ % 100 === 0)
        log.warn('cannot send to syslog_host', { host, reason: error.message });
    });
  log.info('forwarding the journal', { syslog_host: host, port: SYSLOG_PORT });
  const journal = spawn(
    'journalctl',
    ['--boot', '--follow', '--lines=all', '--output=json', `--cursor-file=${CURSOR_FILE}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const fallbackHost = hostname();
  const lines = createInterface({ input: journal.stdout });
  lines.on('line', (line) => {
    const entry = parseJournalLine(line);
    if (entry !== undefined) send(syslogLine(entry, fallbackHost));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => journal.kill('SIGTERM'));
  const code = await new Promise<number>((resolve) => journal.once('close', (c) => resolve(c ?? 1)));
  socket.close();
  // systemd restarts the service; the cursor file makes it continue where it was.
  if (code !== 0) throw new Error(`journalctl exited with code ${code}`);
});
