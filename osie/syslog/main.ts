/**
 * Entry point of hook-syslog (bundled to /usr/lib/hook/hook-syslog.js, run by qjs from
 * hook-syslog.service when syslog_host is on the kernel command line): follows the journal of
 * this boot and sends every entry, redacted, to syslog_host on UDP (port 514 unless syslog_host
 * names one): the OS's own service logs and the containers' (Docker's journald driver). A cursor
 * file in /run lets a restarted forwarder continue where it stopped instead of sending the boot
 * again.
 *
 * qjs cannot open a socket: the program starts itself again through bash with a UDP socket
 * connected to syslog_host on fd 3 (platform/udp.ts), and that second process forwards, one
 * datagram per journal entry. The first one waits for it and passes its exit status on.
 */
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { formatHostPort } from '../lib/host-port.ts';
import type { Logger } from '../lib/log.ts';
import { latin1Decode } from '../lib/platform/bytes.ts';
import { errorText } from '../lib/platform/errors.ts';
import { mkdirp, readBytes, readText } from '../lib/platform/fs.ts';
import {
  onSignal,
  type PipeReader,
  SIGINT,
  SIGTERM,
  selfCommand,
  spawn,
  writeStdout,
} from '../lib/platform/process.ts';
import {
  inheritedUdpSocket,
  spawnWithUdpSocket,
  UDP_OPEN_FAILED,
  type UdpSocket,
} from '../lib/platform/udp.ts';
import { credentialValues } from '../lib/redact.ts';
import { hookSettings, settingWarnings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import { JOURNAL_FIELDS, parseJournalLine, syslogLine } from './forward.ts';

const SYSLOG_PORT = 514;
const CURSOR_DIR = '/run/hook';
const CURSOR_FILE = `${CURSOR_DIR}/syslog.cursor`;

const USAGE = `Usage: hook-syslog [--cmdline FILE]
Follows the journal of this boot (journalctl -o json) and sends each entry, with credentials
masked, as an RFC 5424 line to syslog_host (from the kernel command line) on UDP port
${SYSLOG_PORT} (or the port syslog_host names), one datagram per entry.`;

runMain('hook-syslog', async (args, log) => {
  if (args.includes('--help')) {
    writeStdout(`${USAGE}\n`);
    return;
  }
  const cmdlineText = latin1Decode(readBytes(optionValue(args, '--cmdline') ?? '/proc/cmdline'));
  const cmdline = parseCmdline(cmdlineText);
  // The same rules for our own lines and for every forwarded journal line.
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  log.addSecret(settings.registryPassword);
  const target = settings.syslogHost;
  const socket = inheritedUdpSocket();
  if (target !== undefined && socket === undefined) {
    // The first process: bash connects the socket and starts the forwarder, which says the rest.
    const port = target.port ?? SYSLOG_PORT;
    const child = spawnWithUdpSocket(target.host, port, [...selfCommand(), ...args]);
    for (const signal of [SIGTERM, SIGINT]) onSignal(signal, () => child.kill(signal));
    const status = await child.exited;
    if (status.code === UDP_OPEN_FAILED) {
      throw new Error(
        `cannot open a UDP socket to ${formatHostPort({ ...target, port })} (bash said why above)`,
      );
    }
    return status.code ?? 128 + (status.signal ?? 0);
  }
  const report = warningReporter(log, 'hook-syslog');
  for (const warning of settingWarnings(settings, new Map([['syslog_host', 'the journal is not forwarded']])))
    report(warning);
  if (target === undefined || socket === undefined) {
    log.info('no valid syslog_host on the kernel command line; nothing to forward');
    return;
  }
  log.info('forwarding the journal', {
    syslog_host: formatHostPort({ ...target, port: target.port ?? SYSLOG_PORT }),
  });
  return forwardJournal(socket, log);
});

/** Runs journalctl and sends each entry as one datagram until journalctl ends; its exit code. */
async function forwardJournal(socket: UdpSocket, log: Logger): Promise<number> {
  mkdirp(CURSOR_DIR);
  const journal = spawn(
    [
      'journalctl',
      '--boot',
      '--follow',
      '--lines=all',
      '--output=json',
      // Only what syslogLine reads (and the __ fields, always there): a third of the bytes to parse.
      `--output-fields=${JOURNAL_FIELDS.join(',')}`,
      `--cursor-file=${CURSOR_FILE}`,
    ],
    { stdin: 'null', stdout: 'pipe' },
  );
  for (const signal of [SIGTERM, SIGINT]) onSignal(signal, () => journal.kill(SIGTERM));
  const fallbackHost = hostname();
  let failures = 0;
  const ended = new Promise<void>((resolve) =>
    (journal.stdout as PipeReader).readLines(
      (line) => {
        const entry = parseJournalLine(line);
        if (entry === undefined) return;
        const result = socket.send(syslogLine(entry, fallbackHost, log.redact));
        // Lost datagrams are syslog-over-UDP's nature; say so once in a while, never per line.
        if (result < 0 && failures++ % 100 === 0) {
          log.warn('cannot send to syslog_host', { reason: errorText(-result), failures });
        }
      },
      () => resolve(),
    ),
  );
  const [status] = await Promise.all([journal.exited, ended]);
  // systemd restarts the service; the cursor file makes it continue where it was.
  if (status.code !== 0) {
    throw new Error(
      `journalctl ended (${status.code === null ? `signal ${status.signal}` : `exit code ${status.code}`})`,
    );
  }
  return 0;
}

function hostname(): string {
  try {
    return readText('/proc/sys/kernel/hostname').trim();
  } catch {
    return '-';
  }
}
