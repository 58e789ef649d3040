/**
 * Entry point of hook-status (bundled to /usr/lib/hook/hook-status.js, run by qjs from
 * hook-status.service): every 2 s it gathers the state (HookOS and kernel version, host name,
 * `ip -j address show`, the command line's server and image, hook-bootkit's published worker
 * state) and, when the text changed, replaces /run/hook/status and bumps /run/hook/status.gen.
 * The console shells print it above their prompt; consoles that sit at an empty prompt get it
 * written by the service (consoles.ts says when that is safe).
 */
import { workerImage } from '../bootkit/config.ts';
import { optionValue, runMain } from '../lib/args.ts';
import type { Logger } from '../lib/log.ts';
import { latin1Decode, utf8Encode } from '../lib/platform/bytes.ts';
import {
  exists,
  mkdirp,
  readBytes,
  readdir,
  readText,
  remove,
  rename,
  writeFile,
  writeTerminal,
} from '../lib/platform/fs.ts';
import { onSignal, run, SIGINT, SIGTERM, writeStdout } from '../lib/platform/process.ts';
import { Stop, sleep } from '../lib/platform/timers.ts';
import { settingsFromText } from '../lib/settings.ts';
import { parseWorkerState, WORKER_STATE_PATH, type WorkerState } from '../lib/worker-state.ts';
import { renderStatus, type StatusInput } from './banner.ts';
import {
  atEmptyPrompt,
  parsePromptRecord,
  parseRegistration,
  pselectSyscall,
  terminalText,
} from './consoles.ts';
import { parseIpAddresses } from './interfaces.ts';

const USAGE = `Usage: hook-status [--once] [--dir DIR]
Keeps the console status (HookOS, network, Tinkerbell server, tink-worker) in DIR/status
(default /run/hook) and shows it on consoles that wait at an empty prompt.
--once prints the status on stdout and exits.`;

const INTERVAL_MS = 2000;

runMain('hook-status', async (args, log) => {
  if (args.includes('--help')) {
    writeStdout(`${USAGE}\n`);
    return;
  }
  const dir = optionValue(args, '--dir') ?? '/run/hook';
  const gather = gatherer();
  if (args.includes('--once')) {
    writeStdout(await gather());
    return;
  }
  const stop = new Stop();
  for (const signal of [SIGTERM, SIGINT]) onSignal(signal, () => stop.stop());
  mkdirp(`${dir}/console`);
  const pselect = pselectSyscall(readFirstLine('/proc/sys/kernel/arch'));
  let shown = '';
  let generation = 0;
  let failures = 0;
  while (!stop.stopped) {
    try {
      const text = await gather();
      if (text !== shown) {
        generation++;
        replaceFile(`${dir}/status`, text);
        replaceFile(`${dir}/status.gen`, `${generation}\n`);
        shown = text;
        log.info('status changed', { generation, worker: text.split('\n').at(-2)?.trim() });
      }
      showOnIdleConsoles(`${dir}/console`, text, String(generation), pselect, log);
      failures = 0;
    } catch (error) {
      // Said once per run of failures, not every 2 s.
      if (failures++ === 0) log.warn('cannot update the status', { reason: String(error) });
    }
    try {
      await sleep(INTERVAL_MS, stop);
    } catch {
      break;
    }
  }
});

/** Reads what the status shows; what does not change (versions, command line) is read once. */
function gatherer(): () => Promise<string> {
  const os = osPrettyName(readTextOr('/etc/os-release', ''));
  const kernel = readFirstLine('/proc/sys/kernel/osrelease');
  const settings = settingsFromText(latin1Decode(readBytesOr('/proc/cmdline')));
  const image = workerImage(settings);
  return async () => {
    const ip = await run(['ip', '-j', 'address', 'show']).catch(() => undefined);
    const input: StatusInput = {
      os,
      kernel,
      hostname: readFirstLine('/proc/sys/kernel/hostname'),
      interfaces: parseIpAddresses(ip?.code === 0 ? ip.stdout : '[]'),
      server: settings.grpcAuthority,
      tls: settings.tinkerbellTls,
      insecureTls: settings.tinkerbellInsecureTls,
      image,
      worker: readWorkerState(),
    };
    return renderStatus(input);
  };
}

function readWorkerState(): WorkerState | undefined {
  return exists(WORKER_STATE_PATH) ? parseWorkerState(readTextOr(WORKER_STATE_PATH, '')) : undefined;
}

/** Writes the status onto every registered console shell that waits at an empty prompt. */
function showOnIdleConsoles(
  consoleDir: string,
  status: string,
  generation: string,
  pselect: number | undefined,
  log: Logger,
): void {
  for (const name of readdir(consoleDir)) {
    if (!/^\d+$/.test(name)) continue;
    const base = `${consoleDir}/${name}`;
    if (!exists(`/proc/${name}`)) {
      // The shell has gone (logout, getty restart): its files go too.
      for (const suffix of ['', '.prompt', '.seen']) if (exists(base + suffix)) remove(base + suffix);
      continue;
    }
    if (readTextOr(`${base}.seen`, '').trim() === generation) continue;
    const registration = parseRegistration(readTextOr(base, ''));
    const prompt = parsePromptRecord(readTextOr(`${base}.prompt`, ''));
    if (registration === undefined || prompt === undefined) continue;
    const snapshot = {
      stat: readTextOr(`/proc/${name}/stat`, ''),
      syscall: readTextOr(`/proc/${name}/syscall`, ''),
      // The shell's own reads only: /proc/<pid>/io also counts the reads of children it reaps.
      io: readTextOr(`/proc/${name}/task/${name}/io`, ''),
    };
    if (!atEmptyPrompt(snapshot, registration, prompt, pselect)) continue;
    const result = writeTerminal(registration.tty, utf8Encode(terminalText(status, prompt.prompt)));
    if (result < 0) {
      log.warn('cannot write the status to a console', { tty: registration.tty, errno: -result });
      continue;
    }
    writeFile(`${base}.seen`, `${generation}\n`);
  }
}

/** Replaces `path` whole (a reader sees the old or the new text, never half of it). */
function replaceFile(path: string, text: string): void {
  writeFile(`${path}.tmp`, text);
  rename(`${path}.tmp`, path);
}

function osPrettyName(osRelease: string): string {
  const line = osRelease.split('\n').find((l) => l.startsWith('PRETTY_NAME='));
  return line === undefined ? 'HookOS' : line.slice('PRETTY_NAME='.length).replace(/^"(.*)"$/, '$1');
}

function readTextOr(path: string, fallback: string): string {
  try {
    return readText(path);
  } catch {
    return fallback;
  }
}

function readBytesOr(path: string): Uint8Array {
  try {
    return readBytes(path);
  } catch {
    return new Uint8Array();
  }
}

function readFirstLine(path: string): string {
  return readTextOr(path, '').split('\n')[0] ?? '';
}
