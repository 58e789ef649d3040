/**
 * Entry point of HookOS's `docker` command (bundled to /usr/bin/docker, which qjs runs through
 * the bundle's `#!` line). See cli.ts.
 */
import {
  args,
  exit,
  getenv,
  writeStderr,
  writeStderrBytes,
  writeStdout,
  writeStdoutBytes,
} from '../lib/platform/process.ts';
import { dockerCli } from './cli.ts';

dockerCli(args(), {
  out: writeStdout,
  err: writeStderr,
  outBytes: writeStdoutBytes,
  errBytes: writeStderrBytes,
  now: () => Date.now(),
  env: getenv,
}).then(
  (code) => exit(code),
  (error: unknown) => {
    writeStderr(`docker: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(1);
  },
);
