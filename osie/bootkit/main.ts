/**
 * Entry point of hook-bootkit (bundled to /usr/lib/hook/hook-bootkit.js, run by qjs from
 * hook-bootkit.service). SIGTERM stops the loop and leaves the worker container running.
 */
import { optionValue, runMain } from '../lib/args.ts';
import { mkdirp, rename, writeFile } from '../lib/platform/fs.ts';
import { onSignal, SIGINT, SIGTERM, writeStdout } from '../lib/platform/process.ts';
import { Stop } from '../lib/platform/timers.ts';
import { warningReporter } from '../lib/warnings.ts';
import { serializeWorkerState, WORKER_STATE_PATH, type WorkerState } from '../lib/worker-state.ts';
import { runBootkit } from './bootkit.ts';

const USAGE = `Usage: hook-bootkit [--cmdline FILE] [--socket PATH] [--state FILE]
Starts the Tinkerbell worker container (tink-worker) from the kernel command line
through the Docker Engine API, and restarts it whenever it stops. What it is doing
(waiting, pulling, starting, running, failing) goes to --state (default
${WORKER_STATE_PATH}), which the console status shows.`;

runMain('hook-bootkit', async (args, log) => {
  if (args.includes('--help')) {
    writeStdout(`${USAGE}\n`);
    return;
  }
  const stop = new Stop();
  for (const signal of [SIGTERM, SIGINT]) onSignal(signal, () => stop.stop());
  await runBootkit({
    log,
    // Said once per boot, not once per retry cycle.
    reportWarning: warningReporter(log, 'hook-bootkit'),
    cmdlinePath: optionValue(args, '--cmdline'),
    socketPath: optionValue(args, '--socket'),
    reportState: stateWriter(
      optionValue(args, '--state') ?? WORKER_STATE_PATH,
      (text) => log.redact(text),
      (error) => log.warn('cannot publish the worker state', { reason: error }),
    ),
    stop,
  });
});

/**
 * Writes each new state (redacted) to `path` by rename, so a reader never sees half a file;
 * a state equal to the last one is not written again. A failure to write is said once.
 */
function stateWriter(
  path: string,
  redact: (text: string) => string,
  warn: (reason: string) => void,
): (state: WorkerState) => void {
  let last = '';
  let warned = false;
  return (state) => {
    const text = serializeWorkerState(
      state.error === undefined ? state : { ...state, error: redact(state.error) },
    );
    if (text === last) return;
    try {
      mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
      writeFile(`${path}.tmp`, text);
      rename(`${path}.tmp`, path);
      last = text;
    } catch (error) {
      if (!warned) warn(error instanceof Error ? error.message : String(error));
      warned = true;
    }
  };
}
