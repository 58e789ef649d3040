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
