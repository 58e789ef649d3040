/**
 * setTimeout and clearTimeout for fast-check on qjs, which has no such globals (the runner
 * imports these into fast-check's own files only; the OS code uses platform/timers.ts).
 */
import * as os from 'quickjs:os';

export function setTimeout(callback: (...args: unknown[]) => void, ms = 0, ...args: unknown[]): unknown {
  return os.setTimeout(() => callback(...args), ms);
}

export function clearTimeout(handle: unknown): void {
  if (handle !== undefined) os.clearTimeout(handle);
}
