/**
 * Starting QEMU so that it never outlives us: every QEMU we start is killed when this
 * process exits (normally or on SIGINT/SIGTERM/SIGHUP), and — where util-linux's `setpriv`
 * exists — the kernel kills it too if we die without running any handler (SIGKILL, crash).
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { findExecutable } from './host.ts';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

export interface SpawnQemuOptions {
  stdio: StdioOptions;
  env?: NodeJS.ProcessEnv;
}

export function spawnQemu(binary: string, args: string[], options: SpawnQemuOptions): ChildProcess {
  installExitHooks();
  const setpriv = findExecutable('setpriv');
  // setpriv sets the parent-death signal, then execs QEMU in the same process.
  const child =
    setpriv === undefined
      ? spawn(binary, args, { stdio: options.stdio, env: options.env })
      : spawn(setpriv, ['--pdeathsig', 'KILL', '--', binary, ...args], {
          stdio: options.stdio,
          env: options.env,
        });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** How many QEMU processes started here are still running (tests check it drops to 0). */
export function liveQemuCount(): number {
  return live.size;
}

export function killAllQemu(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllQemu);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllQemu();
      // Only our hook was listening: let the signal do what it would have done without us.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Exit code in the shell's convention: the code, or 128 + signal number when killed. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : constants.signals[signal]);
}
