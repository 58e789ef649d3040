/**
 * Child programs of a test file on qjs: a test that needs a second process running our code
 * (one that inherits a socket from bash, say) starts its own bundle again with
 * HOOK_QJS_CHILD=<name>; the file then runs that child program instead of its tests.
 */
import { environ, exit, getenv, selfCommand, writeStderr } from '../lib/platform/process.ts';

export const CHILD_VARIABLE = 'HOOK_QJS_CHILD';

/** Declares a child program; when this process was started as it, runs it and exits with its code. */
export function childProgram(name: string, main: () => Promise<number | undefined>): void {
  if (getenv(CHILD_VARIABLE) !== name) return;
  main().then(
    (code) => exit(code ?? 0),
    (error: unknown) => {
      writeStderr(
        `child program ${name} failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      exit(70);
    },
  );
}

/** The command and environment that start this test file as the child program `name`. */
export function childCommand(name: string): { argv: string[]; env: Record<string, string> } {
  return { argv: selfCommand(), env: { ...environ(), [CHILD_VARIABLE]: name } };
}
