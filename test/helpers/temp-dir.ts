/**
 * Temporary folders for tests, removed when the test process ends, so that test runs do not
 * fill /tmp (a CI run once left ~350 folders, 13 GB, and repeated runs ended in ENOSPC).
 *
 * `node --test` runs each test file in its own process, so one process 'exit' handler removes
 * the folders of that file once all its tests are done: whichever test, hook or memoised helper
 * (a build shared by the tests of a file) made them, also when made at import time. The
 * handler removes synchronously, as 'exit' handlers must.
 *
 * `keepOnFailure` (boot tests: the folder holds the console log): the folder is kept, and its
 * path printed on stderr (the test runner shows it), when the process exits with a non-zero
 * code. node:test sets process.exitCode to 1 once any test or subtest of the file has failed
 * (a failed assertion, a rejection, a timeout; checked on Node 20: it is 1 in the 'exit'
 * handler then, and unset when all passed); an uncaught error exits non-zero too. A process
 * killed by a signal runs no 'exit' handler and keeps every folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDirOptions {
  /** Keep the folder (and print its path) when a test of this process failed. */
  keepOnFailure?: boolean;
}

const folders = new Map<string, TempDirOptions>();

/** `code` is the process's exit code: process.exitCode as node:test left it, or exit()'s argument. */
function cleanUp(code: number): void {
  const failed = code !== 0;
  for (const [dir, options] of folders) {
    if (failed && options.keepOnFailure === true) {
      process.stderr.write(`A test failed: kept ${dir}\n`);
      continue;
    }
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      process.stderr.write(`Could not remove ${dir}: ${String(error)}\n`);
    }
  }
}

/** Removes `dir` (made by code the test does not own) when the process exits; returns it. */
export function removeOnExit(dir: string, options: TempDirOptions = {}): string {
  if (folders.size === 0) process.on('exit', cleanUp);
  folders.set(dir, options);
  return dir;
}

/** A new folder `<tmpdir>/<prefix>XXXXXX`, removed when the process exits. */
export function tempDirSync(prefix: string, options: TempDirOptions = {}): string {
  return removeOnExit(mkdtempSync(join(tmpdir(), prefix)), options);
}

/** A new folder `<tmpdir>/<prefix>XXXXXX`, removed when the process exits. */
export async function tempDir(prefix: string, options: TempDirOptions = {}): Promise<string> {
  return removeOnExit(await mkdtemp(join(tmpdir(), prefix)), options);
}
