/** The tiny command-line handling the OS services share (no dependencies in the image). */
import { createLogger, type Logger } from './log.ts';
import { args, exit } from './platform/process.ts';

/** The value after `--name`, or undefined. */
export function optionValue(argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
}

/**
 * Runs a service's main with its logger, then exits: with the code it resolves to (0 for none),
 * or 1 when it fails. A
 * failure is logged through that logger (so it is redacted like every other line, whatever secret
 * the error text quotes). Exiting explicitly matters on qjs, which would otherwise keep running as
 * long as a timer or a read handler is left.
 */
export function runMain(
  program: string,
  /** Resolves to the exit code, or to nothing for 0. */
  main: (args: string[], log: Logger) => Promise<unknown>,
): void {
  const log = createLogger({ component: program });
  main(args(), log).then(
    (code) => exit(typeof code === 'number' ? code : 0),
    (error: unknown) => {
      log.error(`${program} failed: ${error instanceof Error ? error.message : String(error)}`);
      exit(1);
    },
  );
}
