/**
 * The `hook` command line. Each subcommand lives in its own file and registers itself here.
 * Exit codes: 0 success, 1 a build/test failure (HookError), 2 usage error, 3 unexpected internal error.
 */
import { Command, CommanderError } from 'commander';
import { isHookError, redactSecrets } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

export type Register = (program: Command) => void;

async function commandModules(): Promise<Register[]> {
  const modules = await Promise.all([
    import('./build.ts'),
    import('./run.ts'),
    import('./inspect.ts'),
    import('./image.ts'),
    import('./packages.ts'),
    import('./push.ts'),
  ]);
  return modules.map((m) => m.register);
}

export async function createProgram(): Promise<Command> {
  const program = new Command('hook')
    .description(
      'Build HookOS, the in-memory OS Tinkerbell network-boots to provision bare metal, and run it.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of await commandModules()) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await createProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (isHookError(error)) {
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
      if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
      return error.code === 'E_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`internal error: ${redactSecrets(text)}\n`);
    return EXIT_INTERNAL;
  }
}
