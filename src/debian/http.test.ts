import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MirrorServer, startMirrorServer } from '../../test/helpers/mirror-server.ts';
import { HookError } from '../errors.ts';
import { downloadToFile, HttpError, httpGet } from './http.ts';

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const fast = { baseDelayMs: 5, maxDelayMs: 20 };

describe('http client', () => {
  let root: string;
  let out: string;
  let server: MirrorServer;
  const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'hook-http-root-'));
    out = mkdtempSync(join(tmpdir(), 'hook-http-out-'));
    mkdirSync(join(root, 'pool'), { recursive: true });
    writeFileSync(join(root, 'pool/file.bin'), payload);
    server = await startMirrorServer(root);
  });
  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });

  const noTempFiles = () =>
    assert.deepEqual(
      readdirSync(out).filter((n) => n.includes('.tmp-')),
      [],
    );

  it('downloads and verifies a file', async () => {
    const dest = join(out, 'ok.bin');
    const result = await downloadToFile(`${server.url}/pool/file.bin`, dest, {
      sha256: sha(payload),
      size: payload.length,
    });
    assert.equal(result.sha256, sha(payload));
    assert.deepEqual(readFileSync(dest), payload);
  });

  for (const fault of ['status500', 'reset', 'truncate'] as const) {
    it(`retries after ${fault} and succeeds`, async () => {
      const dest = join(out, `retry-${fault}.bin`);
      server.inject('/pool/file.bin', fault, 2);
      const before = server.requests.length;
      await downloadToFile(`${server.url}/pool/file.bin`, dest, { ...fast, sha256: sha(payload) });
      assert.equal(server.requests.length - before, 3);
      assert.deepEqual(readFileSync(dest), payload);
      noTempFiles();
    });
  }

  it('retries a truncated in-memory GET', async () => {
    server.inject('/pool/file.bin', 'truncate', 1);
    assert.deepEqual(await httpGet(`${server.url}/pool/file.bin`, fast), payload);
  });

  it('does not retry a 404 and names the URL without credentials', async () => {
    const before = server.requests.length;
    const url = `${server.url.replace('http://', 'http://alice:s3cret@')}/pool/missing.bin`;
    await assert.rejects(downloadToFile(url, join(out, 'missing.bin'), fast), (error: unknown) => {
      assert.ok(error instanceof HttpError);
      assert.equal(error.code, 'E_HTTP');
      assert.equal(error.status, 404);
      assert.match(error.message, /pool\/missing\.bin/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
    assert.equal(server.requests.length - before, 1);
    noTempFiles();
  });

  it('gives up after the attempts on a permanent failure, leaving no file', async () => {
    server.inject('/pool/file.bin', 'truncate', 4);
    const dest = join(out, 'never.bin');
    await assert.rejects(downloadToFile(`${server.url}/pool/file.bin`, dest, fast), (error: unknown) => {
      assert.ok(error instanceof HookError);
      assert.equal(error.code, 'E_HTTP');
      assert.match(error.message, /truncated.*gave up after 4 attempts/);
      return true;
    });
    assert.deepEqual(
      readdirSync(out).filter((n) => n.startsWith('never') || n.includes('never.bin')),
      [],
    );
    noTempFiles();
  });

  it('refuses content whose SHA-256 differs, without retrying, leaving no file', async () => {
    const before = server.requests.length;
    const dest = join(out, 'bad.bin');
    await assert.rejects(
      downloadToFile(`${server.url}/pool/file.bin`, dest, {
        ...fast,
        sha256: sha(Buffer.from('x')),
        label: 'file.bin',
      }),
      (error: unknown) =>
        error instanceof HookError && error.code === 'E_CHECKSUM' && /file\.bin/.test(error.message),
    );
    assert.equal(server.requests.length - before, 1);
    assert.deepEqual(
      readdirSync(out).filter((n) => n.includes('bad.bin')),
      [],
    );
  });

  it('refuses a size that differs from the expected one', async () => {
    await assert.rejects(
      downloadToFile(`${server.url}/pool/file.bin`, join(out, 'size.bin'), { ...fast, size: 5 }),
      (error: unknown) => error instanceof HookError && error.code === 'E_CHECKSUM',
    );
    noTempFiles();
  });

  it('aborts a stalled body within the stall timeout, says it waits, retries, and names the URL without credentials', async () => {
    server.inject('/pool/file.bin', 'stall', 1);
    const waits: string[] = [];
    const url = `${server.url.replace('http://', 'http://alice:s3cret@')}/pool/file.bin`;
    const started = performance.now();
    const body = await httpGet(url, {
      ...fast,
      stallTimeoutMs: 400,
      waitNoticeMs: 100,
      onWait: (m) => waits.push(m),
    });
    assert.deepEqual(body, payload, 'the second attempt got the whole body');
    assert.ok(performance.now() - started < 3000, 'gave up on the stalled attempt after ~0.4 s');
    assert.ok(
      waits.some((m) =>
        /^waiting for http:\/\/\*\*\*@127\.0\.0\.1:\d+\/pool\/file\.bin \(\d+ ms without data\)$/.test(m),
      ),
      waits.join('\n'),
    );
    assert.ok(
      waits.some((m) => /^retrying .*file\.bin \(attempt 2 of 4\): .*stalled: no data for 400 ms/.test(m)),
      waits.join('\n'),
    );
    assert.ok(waits.every((m) => !m.includes('s3cret')));
  });

  for (const fault of ['stall', 'stallHeaders'] as const) {
    it(`fails a download that stays stalled (${fault}) with a clear E_HTTP error, leaving no file`, async () => {
      server.inject('/pool/file.bin', fault, 2);
      const dest = join(out, `stalled-${fault}.bin`);
      const started = performance.now();
      await assert.rejects(
        downloadToFile(`${server.url}/pool/file.bin`, dest, { ...fast, attempts: 2, stallTimeoutMs: 300 }),
        (error: unknown) => {
          assert.ok(error instanceof HttpError, String(error));
          assert.equal(error.code, 'E_HTTP');
          assert.match(
            error.message,
            /GET http:\/\/127\.0\.0\.1:\d+\/pool\/file\.bin stalled: no data for 300 ms \(gave up after 2 attempts\)/,
          );
          return true;
        },
      );
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 600 && elapsed < 3000, `took ${elapsed} ms for two 300 ms stalls`);
      noTempFiles();
    });
  }

  it('refuses a body over maxBytes from its Content-Length, without retrying or reading it', async () => {
    server.generate('/big', 64 * 1024 * 1024);
    try {
      const before = server.requests.length;
      await assert.rejects(
        httpGet(`${server.url}/big`, { ...fast, maxBytes: 1024 * 1024 }),
        (error: unknown) => {
          assert.ok(error instanceof HookError && error.code === 'E_HTTP', String(error));
          assert.match(
            error.message,
            /big: the server announces 67108864 bytes, more than the limit of 1048576 bytes/,
          );
          return true;
        },
      );
      assert.equal(server.requests.length - before, 1, 'not retried');
    } finally {
      server.generate('/big', undefined);
    }
  });

  it('cuts off a body without Content-Length as soon as it passes maxBytes', async () => {
    server.generate('/endless', 256 * 1024 * 1024, { contentLength: false });
    try {
      await assert.rejects(
        httpGet(`${server.url}/endless`, { ...fast, maxBytes: 1024 * 1024 }),
        (error: unknown) => {
          assert.ok(error instanceof HookError && error.code === 'E_HTTP', String(error));
          assert.match(
            error.message,
            /endless: received \d+ bytes so far, more than the limit of 1048576 bytes/,
          );
          return true;
        },
      );
      const sent = server.sent.get('/endless') ?? 0;
      assert.ok(sent < 32 * 1024 * 1024, `the server got to send ${sent} bytes`);
    } finally {
      server.generate('/endless', undefined);
    }
  });

  it('cuts off a download at the expected size when the server sends more (E_CHECKSUM)', async () => {
    server.generate('/pool/longer.bin', 64 * 1024 * 1024, { contentLength: false });
    try {
      await assert.rejects(
        downloadToFile(`${server.url}/pool/longer.bin`, join(out, 'longer.bin'), { ...fast, size: 100_000 }),
        (error: unknown) => {
          assert.ok(error instanceof HookError && error.code === 'E_CHECKSUM', String(error));
          assert.match(error.message, /received \d+ bytes so far, the index says 100000/);
          return true;
        },
      );
      assert.ok((server.sent.get('/pool/longer.bin') ?? 0) < 32 * 1024 * 1024);
      noTempFiles();
    } finally {
      server.generate('/pool/longer.bin', undefined);
    }
  });

  it('reports a refused connection as E_HTTP after retries', async () => {
    const closed = await startMirrorServer(root);
    const url = `${closed.url}/pool/file.bin`;
    await closed.close();
    await assert.rejects(httpGet(url, { ...fast, attempts: 2 }), (error: unknown) => {
      return (
        error instanceof HookError &&
        error.code === 'E_HTTP' &&
        /ECONNREFUSED.*2 attempts/.test(error.message)
      );
    });
  });
});
