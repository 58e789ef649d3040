/**
 * A real HTTP/1.1 server (Node's http module) on a unix socket, standing in for the Docker
 * engine's socket in the platform tests on qjs: fixed-length and chunked bodies, a pull-like
 * progress stream in pieces, multiplexed log frames, error statuses, a stall, and an echo of
 * what the client sent. A second, raw socket server sends exact bytes (a body delimited by the
 * end of the connection, malformed responses) that Node's server would never produce.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { servePeer } from './rpc.ts';

const requests: {
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
  halfClosedEarly: boolean;
}[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One multiplexed log frame: stream, 0, 0, 0, size (big-endian), payload. */
function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  halfClosed: () => boolean,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://peer');
  const route = url.pathname;
  if (route === '/json') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ ApiVersion: '1.45', Text: 'é ünïcode ✓' }));
  } else if (route === '/echo') {
    // Answer late: a client that closed its side early would be seen doing so meanwhile.
    await sleep(150);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
        halfClosedEarly: halfClosed(),
      }),
    );
  } else if (route === '/pull') {
    // Like the engine's POST /images/create: chunked JSON lines, some split across writes.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const events = [
      { status: 'Pulling from test/worker', id: '1' },
      { status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[=>   ]', id: 'abc' },
      { status: 'Download complete', id: 'abc' },
      url.searchParams.get('fail') === '1'
        ? { errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }
        : { status: 'Status: Downloaded newer image for test/worker:1' },
    ];
    for (const event of events) {
      const line = `${JSON.stringify(event)}\r\n`;
      const cut = Math.floor(line.length / 2);
      res.write(line.slice(0, cut));
      await sleep(20);
      res.write(line.slice(cut));
      await sleep(20);
    }
    res.end();
  } else if (route === '/big') {
    const size = Number(url.searchParams.get('bytes') ?? '1048576');
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    const block = Buffer.alloc(65536);
    for (let i = 0; i < block.length; i++) block[i] = i % 251;
    let sent = 0;
    while (sent < size) {
      const n = Math.min(block.length, size - sent);
      if (!res.write(block.subarray(0, n))) await new Promise((r) => res.once('drain', r));
      sent += n;
    }
    res.end();
  } else if (route === '/logs') {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    const data = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two é\n')]);
    // Pieces that cut through headers and payloads.
    let from = 0;
    for (const cut of [3, 11, 20, 29, data.length]) {
      res.write(data.subarray(from, cut));
      from = cut;
      await sleep(15);
    }
    res.end();
  } else if (route.startsWith('/status/')) {
    const status = Number(route.slice('/status/'.length));
    if (status === 204 || status === 304) {
      res.writeHead(status);
      res.end();
    } else {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `status ${status} from the peer` }));
    }
  } else if (route === '/stall') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('first');
    await sleep(Number(url.searchParams.get('ms') ?? '3000'));
    res.end('late');
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message: `page not found: ${req.method} ${route}` }));
  }
}

const servers: Server[] = [];

await servePeer(
  {
    listen: (socketPath: string) =>
      new Promise<void>((resolve) => {
        const server = createHttpServer((req, res) => {
          let halfClosed = false;
          req.socket.once('end', () => {
            halfClosed = true;
          });
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            const record = {
              method: req.method ?? '',
              url: req.url ?? '',
              headers: req.headers,
              body,
              halfClosedEarly: false,
            };
            requests.push(record);
            handle(req, res, body, () => halfClosed).catch((error: unknown) => res.destroy(error as Error));
          });
        });
        servers.push(server);
        server.listen(socketPath, resolve);
      }),
    /** A server that answers every connection with exactly these bytes, then closes it. */
    listenRaw: (socketPath: string, base64: string) =>
      new Promise<void>((resolve) => {
        const server = createNetServer((socket) => {
          socket.once('data', () => {
            socket.end(Buffer.from(base64, 'base64'));
          });
        });
        servers.push(server);
        server.listen(socketPath, resolve);
      }),
    requests: () => requests,
  },
  () => ({}),
);
