/**
 * The HTTP client against a real HTTP/1.1 server on a unix socket (Node's http module, in a peer
 * process), through trixie's socat, on trixie's qjs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Peer, startPeer } from '../../test-runner/peer.ts';
import { base64Encode, concatBytes, utf8Decode, utf8Encode } from './bytes.ts';
import { makeTempDir, removeTree } from './fs.ts';
import { type UnixHttpOptions, unixHttpRequest } from './unix-http.ts';

async function withServer(fn: (socket: string, peer: Peer, dir: string) => Promise<void>): Promise<void> {
  const dir = makeTempDir('hook-http-');
  const peer = await startPeer('http-server');
  try {
    await peer.call('listen', `${dir}/engine.sock`);
    await fn(`${dir}/engine.sock`, peer, dir);
  } finally {
    await peer.close();
    removeTree(dir);
  }
}

const get = (socketPath: string, path: string, extra: Partial<UnixHttpOptions> = {}) =>
  unixHttpRequest({ socketPath, method: 'GET', path, ...extra });

test('a JSON body with Content-Length, headers in lower case, UTF-8 intact', async () => {
  await withServer(async (socket) => {
    const response = await get(socket, '/json');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(JSON.parse(utf8Decode(response.body)), { ApiVersion: '1.45', Text: 'é ünïcode ✓' });
  });
});

test('a POST body and headers reach the server as sent; the request stays open until the answer', async () => {
  await withServer(async (socket) => {
    const body = JSON.stringify({ Image: 'reg:5000/tink-worker:latest', Env: ['A=é'] });
    const response = await unixHttpRequest({
      socketPath: socket,
      method: 'POST',
      path: '/echo?name=tink-worker',
      headers: { 'Content-Type': 'application/json', 'X-Registry-Auth': 'e30' },
      body,
    });
    const echo = JSON.parse(utf8Decode(response.body)) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string;
      halfClosedEarly: boolean;
    };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.url, '/echo?name=tink-worker');
    assert.equal(echo.body, body);
    assert.equal(echo.headers['x-registry-auth'], 'e30');
    assert.equal(echo.headers.connection, 'close');
    assert.equal(echo.headers['content-length'], String(utf8Encode(body).length));
    // Go's server (the engine) would cancel a request whose client shut its side down.
    assert.equal(echo.halfClosedEarly, false, 'the client did not shut down its side before the answer');
  });
});

test('a chunked progress stream is delivered piece by piece, before the response ends', async () => {
  await withServer(async (socket) => {
    const arrivals: { at: number; text: string }[] = [];
    const started = Date.now();
    const response = await unixHttpRequest({
      socketPath: socket,
      method: 'POST',
      path: '/pull',
      onData: (chunk) => arrivals.push({ at: Date.now() - started, text: utf8Decode(chunk) }),
    });
    const ended = Date.now() - started;
    assert.equal(response.status, 200);
    assert.equal(response.body.length, 0, 'streamed, not collected');
    const lines = arrivals
      .map((a) => a.text)
      .join('')
      .split('\r\n')
      .filter((l) => l !== '');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { status?: string }).status),
      [
        'Pulling from test/worker',
        'Downloading',
        'Download complete',
        'Status: Downloaded newer image for test/worker:1',
      ],
    );
    assert.ok(arrivals.length >= 4, `${arrivals.length} pieces`);
    assert.ok(
      (arrivals[0]?.at ?? ended) < ended - 80,
      `first piece at ${arrivals[0]?.at} ms, end at ${ended} ms`,
    );
  });
});

test('a 4 MiB body arrives whole and in order', async () => {
  await withServer(async (socket) => {
    const size = 4 * 1024 * 1024;
    const response = await get(socket, `/big?bytes=${size}`);
    assert.equal(response.body.length, size);
    for (let i = 0; i < size; i += 65536 + 17) assert.equal(response.body[i], (i % 65536) % 251, `byte ${i}`);
  });
});

test('error statuses come back with their body; 204 and 304 have none', async () => {
  await withServer(async (socket) => {
    const missing = await get(socket, '/status/404');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(utf8Decode(missing.body)), { message: 'status 404 from the peer' });
    assert.equal((await get(socket, '/status/500')).status, 500);
    for (const status of [204, 304]) {
      const empty = await unixHttpRequest({ socketPath: socket, method: 'POST', path: `/status/${status}` });
      assert.equal(empty.status, status);
      assert.equal(empty.body.length, 0);
    }
  });
});

test('a stalled response is abandoned after the idle timeout', async () => {
  await withServer(async (socket) => {
    const started = Date.now();
    await assert.rejects(get(socket, '/stall?ms=5000', { idleTimeoutMs: 300 }), /no data for 300 ms/);
    assert.ok(Date.now() - started < 3000);
  });
});

test('no server at the path: the reason socat gives', async () => {
  const dir = makeTempDir('hook-http-');
  try {
    await assert.rejects(
      get(`${dir}/nothing.sock`, '/_ping'),
      (error: Error) => error.message === `cannot connect to ${dir}/nothing.sock: No such file or directory`,
    );
    await assert.rejects(get(`${dir}/a,b:c.sock`, '/_ping'), /characters socat cannot take/);
  } finally {
    removeTree(dir);
  }
});

test('a body delimited by the end of the connection, and a server that does not speak HTTP', async () => {
  await withServer(async (_socket, peer, dir) => {
    const raw = utf8Encode('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection ends');
    await peer.call('listenRaw', `${dir}/raw.sock`, base64Encode(raw));
    const response = await get(`${dir}/raw.sock`, '/');
    assert.equal(utf8Decode(response.body), 'until the connection ends');
    await peer.call('listenRaw', `${dir}/ssh.sock`, base64Encode(utf8Encode('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    await assert.rejects(get(`${dir}/ssh.sock`, '/'), /malformed HTTP response: bad status line/);
    const cut = concatBytes([utf8Encode('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort')]);
    await peer.call('listenRaw', `${dir}/cut.sock`, base64Encode(cut));
    await assert.rejects(get(`${dir}/cut.sock`, '/'), /closed before the response was complete/);
  });
});
