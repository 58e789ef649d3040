/** The tiny command-line handling the OS services share (no dependencies in the image). */
import { createLogger, type Logger } from './log.ts';

/** The value after `--name`, or undefined. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

/**
 * Runs a service's main with its logger. A failure is logged through that logger (so it is
 * redacted like every other line, whatever secret the error text quotes) and exits non-zero.
 */
export function runMain(program: string, main: (args: string[], log: Logger) => Promise<void>): void {
  const log = createLogger({ component: program });
  main(process.argv.slice(2), log).catch((error: unknown) => {
    log.error(`${program} failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
