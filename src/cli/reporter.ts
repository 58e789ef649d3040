/**
 * Progress for long work: on a TTY one status line that is rewritten in place; elsewhere
 * (CI, pipes) plain lines, one per finished stage. Messages go to stderr so stdout stays
 * clean for results and `--json`.
 */

import { redactSecrets } from '../errors.ts';
import type { Reporter } from '../pipeline/reporter.ts';

export type { Reporter };

export function createReporter(
  stream: NodeJS.WriteStream = process.stderr,
  options: { quiet?: boolean } = {},
): Reporter {
  const tty = stream.isTTY === true && process.env.CI === undefined;
  let current = '';
  const clear = () => {
    if (tty && current !== '') stream.write('\r\x1b[2K');
  };
  const line = (text: string) => {
    clear();
    stream.write(`${redactSecrets(text)}\n`);
    if (tty && current !== '') stream.write(current);
  };
  return {
    stage(name) {
      const started = performance.now();
      if (tty && !options.quiet) {
        current = `… ${name}`;
        stream.write(`\r\x1b[2K${current}`);
      }
      return (summary) => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        clear();
        current = '';
        if (!options.quiet)
          stream.write(`✓ ${name}${summary ? `: ${redactSecrets(summary)}` : ''} (${seconds}s)\n`);
      };
    },
    progress(text) {
      if (!tty || options.quiet || current === '') return;
      const name = current.split(' — ')[0] ?? current;
      current = `${name} — ${redactSecrets(text)}`;
      stream.write(`\r\x1b[2K${current.slice(0, (stream.columns ?? 100) - 1)}`);
    },
    info(text) {
      if (!options.quiet) line(text);
    },
    warn(text) {
      line(`warning: ${text}`);
    },
  };
}
