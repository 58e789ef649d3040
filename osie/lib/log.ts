/**
 * Structured logging for the OS services: one `key=value` line per event on stdout, which
 * journald stores and forwards. Secrets never reach the output: fields whose name looks like a
 * credential are masked, and registered secret values are masked wherever they appear.
 */

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Masks this value in every later line (values shorter than 3 characters are ignored). */
  addSecret(value: string): void;
}

export interface LoggerOptions {
  component: string;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
}

const SECRET_FIELD = /pass(word)?|secret|token|auth|credential/i;
const MASK = '***';

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const secrets = new Set<string>();
  const redact = (text: string): string => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join(MASK);
    return out;
  };
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
    addSecret: (value) => {
      if (value.length >= 3) secrets.add(value);
    },
  };
}

/** Bare when it is a simple token, else JSON-quoted (which also escapes newlines). */
function formatValue(value: string): string {
  return /^[A-Za-z0-9_.:/@,+*-]+$/.test(value) ? value : JSON.stringify(value);
}
