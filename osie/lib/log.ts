/**
 * Structured logging for the OS services: one `key=value` line per event on stdout, which
 * journald stores and hook-syslog forwards. Secrets never reach the output: every line goes
 * through the redaction rules of redact.ts (credential keys, URL passwords, registered secret
 * values of any length), and fields whose name looks like a credential are masked whole.
 */
import { writeStdout } from './platform/process.ts';
import { MASK, Redactor } from './redact.ts';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Masks this value in every later line, whatever its length (see redact.ts for short ones). */
  addSecret(value: string): void;
  /** The text as this logger would print it: every known secret masked. */
  redact(text: string): string;
}

export interface LoggerOptions {
  component: string;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
  /** Shared with other outputs of the same program (e.g. the syslog forwarder); a new one by default. */
  redactor?: Redactor;
}

const SECRET_FIELD = /pass(word)?|secret|token|auth|credential/i;

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => writeStdout(`${line}\n`));
  const redactor = options.redactor ?? new Redactor();
  const redact = (text: string): string => redactor.redact(text);
  const emit = (level: LogLevel, message: string, fields: LogFields = {}): void => {
    const parts = [`level=${level}`, `component=${formatValue(options.component)}`];
    parts.push(`msg=${formatValue(redact(message))}`);
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      const shown = SECRET_FIELD.test(key) && value !== '' ? MASK : redact(String(value));
      parts.push(`${key}=${formatValue(shown)}`);
    }
    write(parts.join(' '));
  };
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    addSecret: (value) => redactor.add(value),
    redact,
  };
}

/** Bare when it is a simple token, else JSON-quoted (which also escapes newlines). */
function formatValue(value: string): string {
  return /^[A-Za-z0-9_.:/@,+*-]+$/.test(value) ? value : JSON.stringify(value);
}
