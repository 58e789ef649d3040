/**
 * Entry point of hook-bootkit (bundled to /usr/lib/hook/hook-bootkit.js, run by qjs from
 * hook-bootkit.service). SIGTERM stops the loop and leaves the worker container running.
 */
import { optionValue, runMain } from '../lib/args.ts';
import { onSignal, SIGINT, SIGTERM, writeStdout } from '../lib/platform/process.ts';
import { Stop } from '../lib/platform/timers.ts';
import { warningReporter } from '../lib/warnings.ts';
import { runBootkit } from './bootkit.ts';

const USAGE = `Usage: hook-bootkit [--cmdline FILE] [--socket PATH]
Starts the Tinkerbell worker container (tink-worker) from the kernel command line
through the Docker Engine API, and restarts it whenever it stops.`;

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
    stop,
  });
});
