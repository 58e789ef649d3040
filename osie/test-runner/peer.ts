/**
 * The qjs side of a test peer (see peers/rpc.ts): starts `node <peer>.mjs` (bundled by the
 * runner into $HOOK_TEST_PEERS) and calls its methods over its stdin and stdout.
 */
import { getenv, type PipeReader, spawn } from '../lib/platform/process.ts';

export type PeerName = 'http-server' | 'udp-receiver' | 'fake-engine' | 'oracle';

export interface Peer<Ready = Record<string, unknown>> {
  ready: Ready;
  call<T = unknown>(method: string, ...params: unknown[]): Promise<T>;
  /** Ends the peer (its stdin closes) and waits for it. */
  close(): Promise<void>;
}

function required(name: string): string {
  const value = getenv(name);
  if (value === undefined) throw new Error(`${name} is not set: run the osie tests through osie/test-runner`);
  return value;
}

export async function startPeer<Ready = Record<string, unknown>>(name: PeerName): Promise<Peer<Ready>> {
  const child = spawn([required('HOOK_TEST_NODE'), `${required('HOOK_TEST_PEERS')}/${name}.mjs`], {
    stdin: 'pipe',
    stdout: 'pipe',
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let onReady: ((value: Ready) => void) | undefined;
  let failReady: ((error: Error) => void) | undefined;
  const ready = new Promise<Ready>((resolve, reject) => {
    onReady = resolve;
    failReady = reject;
  });
  (child.stdout as PipeReader).readLines(
    (line) => {
      let message: { id?: number; result?: unknown; error?: string; ready?: Ready };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.ready !== undefined) return onReady?.(message.ready);
      const pending = message.id === undefined ? undefined : waiting.get(message.id);
      if (pending === undefined) return;
      waiting.delete(message.id as number);
      if (message.error !== undefined) pending.reject(new Error(`peer ${name}: ${message.error}`));
      else pending.resolve(message.result);
    },
    () => {
      const error = new Error(`peer ${name} exited`);
      failReady?.(error);
      for (const pending of waiting.values()) pending.reject(error);
      waiting.clear();
    },
  );
  return {
    ready: await ready,
    call<T>(method: string, ...params: unknown[]): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.stdin?.write(`${JSON.stringify({ id, method, params })}\n`);
      });
    },
    async close() {
      child.stdin?.close();
      await child.exited;
    },
  };
}
