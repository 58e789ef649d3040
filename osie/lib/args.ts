/** The tiny command-line handling the OS services share (no dependencies in the image). */

/** The value after `--name`, or undefined. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

/** Runs a service's main, printing a failure on stderr with a non-zero exit code. */
export function runMain(program: string, main: (args: string[]) => Promise<void>): void {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${program}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
