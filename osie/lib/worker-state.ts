/**
 * What hook-bootkit is doing with the worker, as it publishes it for the console status
 * (hook-status): one small JSON file, replaced whole on every change (written to a temporary
 * name, then renamed), so a reader sees the old state or the new one. Pure code: the format,
 * its checks and its one-line description.
 */

/** Where hook-bootkit publishes its state. */
export const WORKER_STATE_PATH = '/run/hook/worker-state.json';

export const WORKER_PHASES = ['waiting', 'pulling', 'starting', 'running', 'failing'] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

export interface WorkerState {
  /**
   * waiting: for the Docker engine; pulling: the image; starting: creating and starting the
   * container; running: it runs; failing: the last attempt failed (`error`), another follows.
   */
  phase: WorkerPhase;
  /** The worker image, once known. */
  image?: string;
  /** The running container's id (12 characters). */
  container?: string;
  /**
   * Why the last attempt failed (redacted by the writer): for `failing`, and kept through the
   * next attempt's steps until the worker runs, so the console shows it while bootkit retries.
   */
  error?: string;
}

/** The longest error kept: the console shows one line of it. */
export const MAX_ERROR_CHARS = 400;

export function serializeWorkerState(state: WorkerState): string {
  const out: WorkerState = { phase: state.phase };
  if (state.image !== undefined && state.image !== '') out.image = state.image;
  if (state.container !== undefined && state.container !== '') out.container = state.container;
  if (state.error !== undefined && state.error !== '') out.error = state.error.slice(0, MAX_ERROR_CHARS);
  return `${JSON.stringify(out)}\n`;
}

/** The state in `text`, or undefined when it is not one (missing fields, unknown phase, not JSON). */
export function parseWorkerState(text: string): WorkerState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const phase = record.phase;
  if (typeof phase !== 'string' || !(WORKER_PHASES as readonly string[]).includes(phase)) return undefined;
  const state: WorkerState = { phase: phase as WorkerPhase };
  for (const key of ['image', 'container', 'error'] as const) {
    const field = record[key];
    if (field === undefined) continue;
    if (typeof field !== 'string') return undefined;
    state[key] = field;
  }
  return state;
}

/** One line for the console: `running (container 3f2a9c1b8d7e)`, `failing: <first line of the error>`. */
export function describeWorkerState(state: WorkerState | undefined, maxChars = 160): string {
  if (state === undefined) return 'not started yet';
  const error = (): string => {
    const text = oneLine(state.error ?? 'unknown error');
    return text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text;
  };
  const after = state.error === undefined ? '' : ` (last attempt failed: ${error()})`;
  switch (state.phase) {
    case 'waiting':
      return `waiting for the Docker engine${after}`;
    case 'pulling':
      return `pulling ${state.image ?? 'the image'}${after}`;
    case 'starting':
      return `starting the container${after}`;
    case 'running':
      return state.container ? `running (container ${state.container})` : 'running';
    case 'failing':
      return `failing, retrying: ${error()}`;
  }
}

/** Newlines and runs of spaces as single spaces; control characters dropped. */
function oneLine(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? ' ' : char;
  }
  return out.replace(/ {2,}/g, ' ').trim();
}
