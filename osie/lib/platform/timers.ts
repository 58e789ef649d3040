/**
 * Timers on QuickJS's event loop (qjs has no global setTimeout, AbortController or AbortSignal),
 * and `Stop`, the services' way to end a loop or a wait early (on SIGTERM).
 */
import * as os from 'quickjs:os';

export type Timer = unknown;

export function setTimer(callback: () => void, ms: number): Timer {
  return os.setTimeout(callback, Math.max(0, ms));
}

export function clearTimer(timer: Timer): void {
  os.clearTimeout(timer);
}

/** Thrown by sleep() when its Stop is stopped first. */
export class StoppedError extends Error {
  constructor() {
    super('stopped');
    this.name = 'StoppedError';
  }
}

/** Something that can end waits: stop() once, and every sleep() given it ends at once. */
export class Stop {
  private listeners = new Set<() => void>();
  private done = false;

  get stopped(): boolean {
    return this.done;
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }

  /** Calls `listener` when stopped (at once if already); returns a function that removes it. */
  onStop(listener: () => void): () => void {
    if (this.done) {
      listener();
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Resolves after `ms`; rejects with StoppedError as soon as `stop` is stopped. */
export function sleep(ms: number, stop?: Stop): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stop?.stopped) {
      reject(new StoppedError());
      return;
    }
    let remove = () => {};
    const timer = setTimer(() => {
      remove();
      resolve();
    }, ms);
    if (stop !== undefined) {
      remove = stop.onStop(() => {
        clearTimer(timer);
        reject(new StoppedError());
      });
    }
  });
}
