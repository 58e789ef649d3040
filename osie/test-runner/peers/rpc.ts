/**
 * The Node side of a test peer (a real server the qjs tests talk to: Node's HTTP server on a unix
 * socket, a UDP receiver, ...). Requests arrive on stdin as JSON lines
 * `{"id":1,"method":"name","params":[...]}`; each answer is one stdout line `{"id":1,"result":…}`
 * or `{"id":1,"error":"…"}`. The first line is `{"ready":…}`. The peer exits when stdin ends,
 * which is also what happens when the test process dies.
 */
import { createInterface } from 'node:readline';

export type Methods = Record<string, (...params: never[]) => unknown>;

export async function servePeer(methods: Methods, ready: () => Promise<unknown> | unknown): Promise<void> {
  const send = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  send({ ready: await ready() });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let request: { id: number; method: string; params?: unknown[] };
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      return;
    }
    const method = methods[request.method];
    Promise.resolve()
      .then(() => {
        if (method === undefined) throw new Error(`no method ${request.method}`);
        return (method as (...params: unknown[]) => unknown)(...(request.params ?? []));
      })
      .then(
        (result) => send({ id: request.id, result: result ?? null }),
        (error: unknown) =>
          send({ id: request.id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  lines.on('close', () => process.exit(0));
}
