/**
 * hook-syslog's decisions, free of I/O: one journal entry (`journalctl -o json`) → one syslog
 * line (RFC 5424) for syslog_host. The journal holds the OS's own service logs and the
 * containers' (Docker's journald log driver, tagged with the container name, which becomes the
 * APP-NAME, as Docker's syslog driver would send it). Every line leaves redacted: the journal holds lines
 * we did not write (the kernel's `Kernel command line: … registry_password=…`, systemd quoting
 * /proc/cmdline), and syslog over UDP is plain text on the wire.
 */

import { cutUtf8, utf8Decode } from '../lib/platform/bytes.ts';

/**
 * A `journalctl -o json` entry. This forwarder reads MESSAGE, PRIORITY, SYSLOG_FACILITY,
 * SYSLOG_IDENTIFIER, _SYSTEMD_UNIT, _COMM, _PID, _HOSTNAME and __REALTIME_TIMESTAMP. Any field
 * may be a string, an array of byte values (journalctl's form for non-UTF-8 or binary data),
 * an array of strings (a field set more than once), or null: see fieldText.
 */
export type JournalEntry = Record<string, unknown>;

/** The fields syslogLine reads, besides __REALTIME_TIMESTAMP (journalctl always writes the `__` ones). */
export const JOURNAL_FIELDS: readonly string[] = [
  'MESSAGE',
  'PRIORITY',
  'SYSLOG_FACILITY',
  'SYSLOG_IDENTIFIER',
  '_SYSTEMD_UNIT',
  '_COMM',
  '_PID',
  '_HOSTNAME',
];

/** daemon: what journald assumes for service output without a facility of its own. */
const DEFAULT_FACILITY = 3;
/** info */
const DEFAULT_SEVERITY = 6;
/** Keep a datagram well under any path MTU-related loss and syslog servers' line limits. */
export const MAX_MESSAGE_BYTES = 2048;

function intIn(text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined || !/^\d+$/.test(text)) return fallback;
  const value = Number(text);
  return value >= min && value <= max ? value : fallback;
}

/** RFC 5424 header fields are printable US-ASCII without spaces; `-` when empty. */
function headerField(text: string | undefined, maxLength: number): string {
  const clean = (text ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, maxLength);
  return clean === '' ? '-' : clean;
}

/** A field as text: bytes decoded as UTF-8, the first value of a repeated field; undefined if absent. */
function fieldText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!Array.isArray(value)) return undefined;
  // Uint8Array takes each number modulo 256, as journalctl's bytes always are.
  if (value.every((item) => typeof item === 'number')) return utf8Decode(new Uint8Array(value as number[]));
  return value.length > 0 ? fieldText(value[0]) : undefined;
}

function redactField(text: string | undefined, redact: (text: string) => string): string | undefined {
  return text === undefined ? undefined : redact(text);
}

function timestamp(realtimeMicros: string | undefined): string {
  if (realtimeMicros === undefined || !/^\d+$/.test(realtimeMicros)) return '-';
  return new Date(Number(BigInt(realtimeMicros) / 1000n)).toISOString();
}

/**
 * `<PRI>1 TIMESTAMP HOST APP PROCID - - MESSAGE`, the message cut to MAX_MESSAGE_BYTES (at a
 * character boundary).
 * `redact` (redact.ts's rules with this boot's credentials) applies to the message and to the
 * free-text header fields before they are cut, so a secret cannot survive in a cut-off half.
 */
export function syslogLine(
  entry: JournalEntry,
  fallbackHost: string,
  redact: (text: string) => string,
): string {
  const field = (name: string) => fieldText(entry[name]);
  const facility = intIn(field('SYSLOG_FACILITY'), 0, 23, DEFAULT_FACILITY);
  const severity = intIn(field('PRIORITY'), 0, 7, DEFAULT_SEVERITY);
  const app =
    field('SYSLOG_IDENTIFIER') ?? field('_SYSTEMD_UNIT')?.replace(/\.service$/, '') ?? field('_COMM');
  const message = cutUtf8(redact((field('MESSAGE') ?? '').replace(/\n+$/, '')), MAX_MESSAGE_BYTES);
  return [
    `<${facility * 8 + severity}>1`,
    timestamp(field('__REALTIME_TIMESTAMP')),
    headerField(redactField(field('_HOSTNAME') ?? fallbackHost, redact), 255),
    headerField(redactField(app, redact), 48),
    headerField(field('_PID'), 128),
    '-',
    '-',
    message,
  ].join(' ');
}

/** Parses one line of `journalctl -o json`; undefined for anything that is not an entry. */
export function parseJournalLine(line: string): JournalEntry | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JournalEntry)
      : undefined;
  } catch {
    return undefined;
  }
}
