/**
 * Reading and hashing cache files on worker threads. Every cache entry is hashed when it is
 * used (~440 MB of unpacked tars and ~260 MB of .debs on a warm build of the default spec);
 * on the main thread that measured ~0.9 s of CPU on top of a ~4.4 s one-file rebuild, while
 * the main thread is the one parsing tars. Workers do the reads and the SHA-256 on the other
 * core and hand the bytes over without a copy (a transferred ArrayBuffer of its own, so
 * content origins of views into it stay exact). If a worker cannot be started, the same
 * work runs on the main thread.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type ReadResult =
  | { kind: 'missing' }
  | { kind: 'error'; error: string }
  /** `data`: the file (empty unless asked to keep it); `digest`: SHA-256 of it, or of its body when sealed. */
  | { kind: 'data'; data: Buffer; size: number; digest: string };

interface Request {
  id: number;
  path: string;
  /** `'sealed'`: hash after the first newline (see cache.ts); `'whole'`: hash it all. */
  mode: 'sealed' | 'whole';
  /** Give the bytes back (else only the digest and size). */
  keep: boolean;
}

type Reply =
  | { id: number; kind: 'missing' }
  | { id: number; kind: 'error'; error: string }
  | { id: number; kind: 'data'; buffer: ArrayBuffer | undefined; size: number; digest: string };

/** Plain JavaScript, so the worker needs no TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const CHUNK = 4 << 20;
parentPort.on('message', ({ id, path, mode, keep }) => {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
    const size = fs.fstatSync(fd).size;
    const hash = createHash('sha256');
    let out;
    if (keep) {
      out = Buffer.allocUnsafeSlow(size);
      let filled = 0;
      while (filled < size) {
        const n = fs.readSync(fd, out, filled, size - filled, filled);
        if (n === 0) throw Object.assign(new Error('shrank from ' + size + ' to ' + filled + ' bytes while being read'), { code: 'ESHRANK' });
        filled += n;
      }
      const from = mode === 'sealed' ? out.subarray(0, 128).indexOf(10) + 1 : 0;
      hash.update(out.subarray(from));
    } else {
      const buf = Buffer.allocUnsafe(CHUNK);
      let seen = 0;
      let header = mode === 'sealed';
      for (;;) {
        const n = fs.readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        let chunk = buf.subarray(0, n);
        if (header) {
          chunk = chunk.subarray(chunk.subarray(0, 128).indexOf(10) + 1);
          header = false;
        }
        seen += n;
        hash.update(chunk);
      }
      if (seen !== size) throw Object.assign(new Error('changed size while being read'), { code: 'ESHRANK' });
    }
    const digest = hash.digest('hex');
    const buffer = out === undefined ? undefined : out.buffer;
    parentPort.postMessage({ id, kind: 'data', buffer, size, digest }, buffer === undefined ? [] : [buffer]);
  } catch (error) {
    if (error && error.code === 'ENOENT') parentPort.postMessage({ id, kind: 'missing' });
    else parentPort.postMessage({ id, kind: 'error', error: error && error.code && error.code !== 'ESHRANK' ? 'unreadable (' + error.code + ')' : String(error && error.message) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

interface PoolWorker {
  worker: Worker;
  pending: Map<number, (reply: Reply) => void>;
}

let workers: PoolWorker[] | undefined;
let nextId = 0;
let broken = false;

function pool(): PoolWorker[] | undefined {
  if (broken) return undefined;
  if (workers) return workers;
  try {
    const count = Math.max(1, Math.min(2, availableParallelism()));
    workers = Array.from({ length: count }, () => {
      const entry: PoolWorker = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map() };
      entry.worker.on('message', (reply: Reply) => {
        const done = entry.pending.get(reply.id);
        entry.pending.delete(reply.id);
        if (entry.pending.size === 0) entry.worker.unref();
        done?.(reply);
      });
      entry.worker.on('error', (error) => fail(entry, error));
      entry.worker.on('exit', () => fail(entry, new Error('hash worker exited')));
      // Only pending requests keep the process alive. After the listeners: adding a
      // 'message' listener refs the worker's port again.
      entry.worker.unref();
      return entry;
    });
    return workers;
  } catch {
    broken = true;
    return undefined;
  }
}

/** A worker that died answers its pending requests with an error; the pool is not used again. */
function fail(entry: PoolWorker, error: Error): void {
  broken = true;
  workers = undefined;
  for (const [id, done] of entry.pending)
    done({ id, kind: 'error', error: `hash worker failed: ${error.message}` });
  entry.pending.clear();
}

function toResult(reply: Reply): ReadResult {
  if (reply.kind !== 'data') return reply.kind === 'missing' ? { kind: 'missing' } : reply;
  const data = reply.buffer === undefined ? Buffer.alloc(0) : Buffer.from(reply.buffer, 0, reply.size);
  return { kind: 'data', data, size: reply.size, digest: reply.digest };
}

/**
 * Reads `path` and hashes it (`'sealed'`: after its header line) off the main thread. With
 * `keep: false` only the digest comes back (`data` is empty).
 */
export async function readHashed(path: string, mode: 'sealed' | 'whole', keep: boolean): Promise<ReadResult> {
  const all = pool();
  if (all === undefined) return readHashedHere(path, mode, keep);
  const entry = all.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  const id = nextId++;
  const request: Request = { id, path, mode, keep };
  const reply = await new Promise<Reply>((resolve) => {
    entry.pending.set(id, resolve);
    entry.worker.ref();
    entry.worker.postMessage(request);
  });
  if (reply.kind === 'error' && reply.error.startsWith('hash worker failed'))
    return readHashedHere(path, mode, keep);
  return toResult(reply);
}

/** The same on the main thread (no worker threads available). */
async function readHashedHere(path: string, mode: 'sealed' | 'whole', keep: boolean): Promise<ReadResult> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const data = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(data, filled, size - filled, filled);
      if (bytesRead === 0)
        return { kind: 'error', error: `shrank from ${size} to ${filled} bytes while being read` };
      filled += bytesRead;
    }
    const from = mode === 'sealed' ? data.subarray(0, 128).indexOf(0x0a) + 1 : 0;
    const digest = createHash('sha256').update(data.subarray(from)).digest('hex');
    return { kind: 'data', data: keep ? data : Buffer.alloc(0), size, digest };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'error', error: `unreadable (${code ?? (error as Error).message})` };
  } finally {
    await handle?.close();
  }
}
