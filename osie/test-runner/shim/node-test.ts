/**
 * `node:test` for test files that run on qjs (osie/test-runner/run.ts aliases the import here):
 * `test(name, [options], fn)`, `before`, `after`. Tests run one after another once the file has
 * registered them all; each result is printed as one line `@@qjs-test {json}` for the runner, and
 * the process exits 1 when any failed. A test fails when it throws, rejects, or runs past its
 * timeout (default 120 s).
 */
import * as os from 'quickjs:os';
import * as std from 'quickjs:std';
import { CHILD_VARIABLE } from '../child.ts';
import { formatError } from './format.ts';

export const RESULT_PREFIX = '@@qjs-test ';
const DEFAULT_TIMEOUT_MS = 120_000;

type Body = (context: TestContext) => unknown;

interface TestOptions {
  timeout?: number;
  skip?: boolean | string;
}

interface Registered {
  name: string;
  options: TestOptions;
  fn: Body;
}

export interface TestContext {
  name: string;
  /** Runs `fn` after this test, pass or fail (cleanup). */
  after(fn: () => unknown): void;
}

const tests: Registered[] = [];
const befores: (() => unknown)[] = [];
const afters: (() => unknown)[] = [];
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // Started again as one of its own child programs (see ../child.ts): that runs instead.
  if (std.getenv(CHILD_VARIABLE) !== undefined) return;
  os.setTimeout(() => {
    runAll().catch((error: unknown) => {
      emit({ name: '(runner)', ok: false, ms: 0, error: formatError(error) });
      std.exit(1);
    });
  }, 0);
}

export function test(name: string, optionsOrFn: TestOptions | Body, maybeFn?: Body): void {
  const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  if (fn === undefined) throw new Error(`test "${name}" has no function`);
  tests.push({ name, options, fn });
  schedule();
}

export const it = test;

export function before(fn: () => unknown): void {
  befores.push(fn);
  schedule();
}

export function after(fn: () => unknown): void {
  afters.push(fn);
  schedule();
}

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  skipped?: boolean;
}

function emit(result: Result): void {
  const line = `${RESULT_PREFIX}${JSON.stringify(result)}\n`;
  std.out.puts(line);
  std.out.flush();
}

function withTimeout(promise: Promise<unknown>, ms: number, name: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = os.setTimeout(() => reject(new Error(`test "${name}" timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        os.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        os.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function runAll(): Promise<void> {
  let failed = 0;
  for (const fn of befores) await fn();
  for (const { name, options, fn } of tests) {
    if (options.skip) {
      emit({ name, ok: true, ms: 0, skipped: true });
      continue;
    }
    const cleanups: (() => unknown)[] = [];
    const context: TestContext = { name, after: (cleanup) => cleanups.push(cleanup) };
    const start = Date.now();
    let error: unknown;
    let threw = false;
    try {
      await withTimeout(
        Promise.resolve().then(() => fn(context)),
        options.timeout ?? DEFAULT_TIMEOUT_MS,
        name,
      );
    } catch (caught) {
      threw = true;
      error = caught;
    }
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (caught) {
        if (!threw) {
          threw = true;
          error = caught;
        }
      }
    }
    const result: Result = { name, ok: !threw, ms: Date.now() - start };
    if (threw) {
      failed++;
      result.error = formatError(error);
    }
    emit(result);
  }
  for (const fn of afters) await fn();
  std.exit(failed > 0 ? 1 : 0);
}

export default { test, it, before, after };
