/**
 * hook-bootkit: starts the Tinkerbell worker container through the Docker Engine API and keeps
 * it running. Every failure is logged with its reason and retried after a capped exponential
 * backoff; the service never exits on its own, so it can never crash-loop silently.
 */
import { Backoff } from '../lib/backoff.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { DockerClient } from '../lib/docker-api.ts';
import { parseImageRef } from '../lib/image-ref.ts';
import type { Logger } from '../lib/log.ts';
import { latin1Decode } from '../lib/platform/bytes.ts';
import { readBytes } from '../lib/platform/fs.ts';
import { type Stop, sleep } from '../lib/platform/timers.ts';
import { credentialValues } from '../lib/redact.ts';
import { type HookSettings, hookSettings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import type { WorkerState } from '../lib/worker-state.ts';
import {
  bootkitWarnings,
  isSameWorker,
  registryAuthFor,
  WORKER_CONTAINER_NAME,
  workerContainer,
  workerImage,
} from './config.ts';

export interface BootkitOptions {
  log: Logger;
  cmdlinePath?: string;
  socketPath?: string;
  /** How long after start the worker must still be running; default 5 s. */
  startCheckMs?: number;
  /** How often a running worker is checked; default 10 s. */
  watchIntervalMs?: number;
  /** A worker that ran this long before stopping resets the backoff; default 60 s. */
  stableMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Stops the loop (the worker container is left as it is). */
  stop?: Stop;
  /**
   * Reports a warning about the command line (main: journal and console). Every cycle passes
   * its warnings again, so it should say each once; the default logs each distinct one once.
   */
  reportWarning?: (message: string) => void;
  /** Told each step (waiting, pulling, starting, running, failing): main publishes it for the console. */
  reportState?: (state: WorkerState) => void;
}

/** A failure of one cycle, already explained in `message` (no secrets in it). */
class CycleError extends Error {}

/** Runs until `stop` is stopped; resolves then. */
export async function runBootkit(options: BootkitOptions): Promise<void> {
  const { log, stop } = options;
  const backoff = new Backoff(options.backoffInitialMs ?? 1000, options.backoffMaxMs ?? 30_000);
  // The last image named, so a failure is reported with the image it was about; the last
  // failure, kept with every step until the worker runs again.
  let image: string | undefined;
  let lastError: string | undefined;
  const report = (state: WorkerState): void => {
    if (state.image !== undefined) image = state.image;
    if (state.phase === 'failing') lastError = state.error;
    if (state.phase === 'running') lastError = undefined;
    const error = state.error ?? lastError;
    options.reportState?.({ ...state, ...(image ? { image } : {}), ...(error ? { error } : {}) });
  };
  const cycleOptions: BootkitOptions = {
    ...options,
    reportWarning: options.reportWarning ?? warningReporter(log, 'hook-bootkit', () => {}),
    reportState: report,
  };
  const aborted = (): boolean => stop?.stopped === true;
  while (!aborted()) {
    try {
      const ranMs = await runCycle(cycleOptions);
      if (ranMs >= (options.stableMs ?? 60_000)) backoff.reset();
    } catch (error) {
      if (aborted()) break;
      const message = error instanceof CycleError ? error.message : `unexpected failure: ${describe(error)}`;
      log.error(message);
      report({ phase: 'failing', error: message });
    }
    const delay = backoff.delay();
    log.info('starting over', { delay_ms: delay });
    try {
      await sleep(delay, stop);
    } catch {
      break;
    }
  }
}

/** One attempt: configure, pull, (re)create, start, then watch. Returns how long the worker ran. */
async function runCycle(options: BootkitOptions): Promise<number> {
  const { log, stop } = options;
  const cmdlineText = latin1Decode(readBytes(options.cmdlinePath ?? '/proc/cmdline'));
  const cmdline = parseCmdline(cmdlineText);
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  log.addSecret(settings.registryPassword);
  for (const warning of bootkitWarnings(settings)) options.reportWarning?.(warning);
  const image = workerImage(settings);
  if (image === undefined) {
    throw new CycleError(
      'no worker image: the kernel command line has neither tink_worker_image nor docker_registry ' +
        '(or only invalid ones, see the warnings); ' +
        'fix the Tinkerbell hardware/template so Smee sends them',
    );
  }
  const docker = new DockerClient({ socketPath: options.socketPath });
  options.reportState?.({ phase: 'waiting', image });
  await waitForEngine(docker);
  const wanted = workerContainer(image, settings);

  const existing = await docker.inspectContainer(WORKER_CONTAINER_NAME);
  if (existing?.State.Running === true && isSameWorker(existing, wanted)) {
    log.info('adopting the running worker container', { container: WORKER_CONTAINER_NAME, image });
    options.reportState?.({ phase: 'running', image, container: existing.Id.slice(0, 12) });
  } else {
    options.reportState?.({ phase: 'pulling', image });
    await pullImage(docker, image, settings, log);
    options.reportState?.({ phase: 'starting', image });
    if (await docker.removeContainer(WORKER_CONTAINER_NAME)) {
      log.info('removed the existing worker container', { container: WORKER_CONTAINER_NAME });
    }
    const id = await docker.createContainer(WORKER_CONTAINER_NAME, wanted);
    await docker.startContainer(id);
    log.info('started the worker container', {
      container: WORKER_CONTAINER_NAME,
      image,
      id: id.slice(0, 12),
    });
    await sleep(options.startCheckMs ?? 5000, stop);
    const failure = await stoppedReason(docker, 'stopped right after start');
    if (failure !== undefined) throw new CycleError(failure);
    log.info('the worker container is running', { container: WORKER_CONTAINER_NAME });
    options.reportState?.({ phase: 'running', image, container: id.slice(0, 12) });
  }

  const startedAt = Date.now();
  for (;;) {
    await sleep(options.watchIntervalMs ?? 10_000, stop);
    const stopped = await stoppedReason(docker, 'stopped');
    if (stopped !== undefined) {
      log.error(stopped, { ran_ms: Date.now() - startedAt });
      options.reportState?.({ phase: 'failing', image, error: stopped });
      return Date.now() - startedAt;
    }
  }
}

async function waitForEngine(docker: DockerClient): Promise<void> {
  try {
    await docker.ping();
    await docker.negotiateVersion();
  } catch (error) {
    throw new CycleError(`the Docker engine at ${docker.socketPath} does not answer: ${describe(error)}`);
  }
}

/** Pulls with credentials only for docker_registry; a failed pull of a local image is fine. */
async function pullImage(
  docker: DockerClient,
  image: string,
  settings: HookSettings,
  log: Logger,
): Promise<void> {
  const parsed = parseImageRef(image);
  // workerImage only returns checked references; this guards the invariant, not the input.
  if (!parsed.ok) throw new CycleError(`cannot pull the worker image: ${parsed.reason}`);
  const ref = parsed.value;
  const auth = registryAuthFor(image, settings);
  log.info('pulling the worker image', {
    image,
    registry: ref.registry,
    sends_login: auth !== undefined,
  });
  try {
    await docker.pullImage(ref.name, ref.tag, auth);
    log.info('pulled the worker image', { image });
  } catch (error) {
    if ((await docker.inspectImage(image)) === undefined) {
      throw new CycleError(`cannot pull ${image} and it is not present locally: ${describe(error)}`);
    }
    log.warn('pull failed; using the image already present locally', { image, reason: describe(error) });
  }
}

/** Why the worker is not running (exit code, engine error, last log lines), or undefined if it is. */
async function stoppedReason(docker: DockerClient, what: string): Promise<string | undefined> {
  const state = await docker.inspectContainer(WORKER_CONTAINER_NAME);
  if (state === undefined) return `the worker container ${what}: it no longer exists`;
  if (state.State.Running) return undefined;
  let logs = '';
  try {
    logs = (await docker.containerLogs(WORKER_CONTAINER_NAME, 20)).trimEnd();
  } catch (error) {
    logs = `(logs unavailable: ${describe(error)})`;
  }
  const reason = [`exit code ${state.State.ExitCode}`];
  if (state.State.Error !== '') reason.push(`engine error: ${state.State.Error}`);
  return `the worker container ${what} (${reason.join(', ')}); last log lines:\n${logs}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
