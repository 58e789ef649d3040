import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  cachedPath,
  casPath,
  defaultCacheDir,
  putBuffer,
  readCached,
  readSealed,
  sha256File,
  writeSealed,
} from '../src/debian/cache.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function freshCache(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hook-cache-'));
  dirs.push(dir);
  return dir;
}
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Rewrites a file in place and puts its mtime back with `touch -r`, as someone hiding an edit would. */
function tamper(path: string, data: Buffer): void {
  const reference = `${path}.reference`;
  execFileSync('touch', ['-r', path, reference]);
  writeFileSync(path, data);
  execFileSync('touch', ['-r', reference, path]);
  rmSync(reference);
}

function repairs(): { messages: string[]; onRepair: (m: string) => void } {
  const messages: string[] = [];
  return { messages, onRepair: (m) => messages.push(m) };
}

describe('defaultCacheDir', () => {
  it('honours HOOK_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    assert.equal(defaultCacheDir({ HOOK_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }), '/c');
    assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/hook');
    assert.equal(defaultCacheDir({}), join(homedir(), '.cache', 'hook'));
  });
});

describe('content-addressed cache', () => {
  const data = Buffer.from('hello, cache\n'.repeat(1000));
  const digest = sha(data);

  it('lays entries out by digest and finds them again', async () => {
    const cache = freshCache();
    assert.equal(casPath(cache, digest), join(cache, 'sha256', digest.slice(0, 2), digest));
    assert.equal(await cachedPath(cache, digest), undefined);
    const stored = await putBuffer(cache, data);
    assert.equal(stored.sha256, digest);
    assert.equal(await cachedPath(cache, digest, data.length), stored.path);
    assert.deepEqual(readFileSync(stored.path), data);
    assert.equal(await sha256File(stored.path), digest);
    assert.deepEqual(await readCached(cache, digest, data.length), data);
    assert.deepEqual(
      readdirSync(join(cache, 'sha256', digest.slice(0, 2))).filter((n) => n.includes('.tmp-')),
      [],
    );
  });

  it('deletes a truncated entry, says so, and reports it missing', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    tamper(path, data.subarray(0, 100));
    const { messages, onRepair } = repairs();
    assert.equal(
      await cachedPath(cache, digest, undefined, { onRepair, label: 'package file x.deb' }),
      undefined,
    );
    assert.equal(existsSync(path), false);
    assert.equal(messages.length, 1);
    assert.match(messages[0] ?? '', /package file x\.deb .* is damaged: SHA-256 is [0-9a-f]{64}, expected/);
  });

  it('finds a same-size edit whose mtime was put back (touch -r), and ignores old side records', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    const before = statSync(path, { bigint: true });
    const corrupt = Buffer.from(data);
    corrupt[5] = 0x58;
    tamper(path, corrupt);
    assert.equal(statSync(path).size, data.length);
    assert.equal(statSync(path, { bigint: true }).mtimeNs, before.mtimeNs, 'touch -r put the mtime back');
    // The side record an older version kept, vouching for exactly this size and mtime.
    const info = statSync(path, { bigint: true });
    writeFileSync(
      `${path}.verified`,
      JSON.stringify({ size: Number(info.size), mtimeNs: info.mtimeNs.toString(), sha256: digest }),
    );
    const { messages, onRepair } = repairs();
    assert.equal(await cachedPath(cache, digest, data.length, { onRepair }), undefined);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.verified`), false);
    assert.equal(messages.length, 1);
  });

  it('refuses an entry whose size differs from the expected size', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    const { messages, onRepair } = repairs();
    assert.equal(await cachedPath(cache, digest, data.length + 1, { onRepair }), undefined);
    assert.equal(existsSync(path), false);
    assert.match(messages[0] ?? '', new RegExp(`${data.length} bytes, expected ${data.length + 1}`));
  });

  it('readCached hands out the bytes it checked, and deletes a tampered entry', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    const corrupt = Buffer.from(data);
    corrupt[data.length - 1] = (corrupt[data.length - 1] as number) ^ 0x20;
    tamper(path, corrupt);
    const { messages, onRepair } = repairs();
    assert.equal(await readCached(cache, digest, data.length, { onRepair }), undefined);
    assert.equal(existsSync(path), false);
    assert.equal(messages.length, 1);
    assert.equal(await readCached(cache, digest, data.length, { onRepair }), undefined);
    assert.equal(messages.length, 1, 'a missing entry is not a repair');
  });
});

describe('sealed entries', () => {
  const meta = { deb: 'a'.repeat(64), controlBytes: 5 };
  const parts = [Buffer.from('12345'), Buffer.from('the data tar'.repeat(50))];
  const payload = Buffer.concat(parts);

  it('round-trips metadata and payload, written atomically', async () => {
    const dir = freshCache();
    const path = join(dir, 'x', 'entry.tars');
    await writeSealed(path, meta, parts);
    const read = await readSealed<typeof meta>(path, { label: 'test' });
    assert.ok(read);
    assert.deepEqual(read.meta, meta);
    assert.ok(read.payload.equals(payload));
    // The payload is a view into a buffer of its own, so content origins stay exact.
    assert.equal(read.payload.buffer.byteLength, statSync(path).size);
    assert.deepEqual(
      readdirSync(join(dir, 'x')).filter((n) => n !== 'entry.tars'),
      [],
    );
  });

  it('is missing without a repair when there is no file', async () => {
    const { messages, onRepair } = repairs();
    assert.equal(await readSealed(join(freshCache(), 'none'), { label: 'test', onRepair }), undefined);
    assert.deepEqual(messages, []);
  });

  it('finds any changed byte, any truncation and any extension, and deletes the entry', async () => {
    const dir = freshCache();
    const path = join(dir, 'entry');
    await writeSealed(path, meta, parts);
    const clean = readFileSync(path);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            kind: fc.constant('flip' as const),
            at: fc.nat(clean.length - 1),
            xor: fc.integer({ min: 1, max: 255 }),
          }),
          fc.record({
            kind: fc.constant('truncate' as const),
            at: fc.nat(clean.length - 1),
            xor: fc.constant(0),
          }),
          fc.record({
            kind: fc.constant('extend' as const),
            at: fc.integer({ min: 1, max: 64 }),
            xor: fc.constant(0),
          }),
        ),
        async ({ kind, at, xor }) => {
          let bad: Buffer;
          if (kind === 'flip') {
            bad = Buffer.from(clean);
            bad[at] = (bad[at] as number) ^ xor;
          } else if (kind === 'truncate') {
            bad = clean.subarray(0, at);
          } else {
            bad = Buffer.concat([clean, Buffer.alloc(at, 0x41)]);
          }
          writeFileSync(path, bad);
          const { messages, onRepair } = repairs();
          assert.equal(await readSealed(path, { label: 'unpacked x.deb', onRepair }), undefined);
          assert.equal(existsSync(path), false, 'the damaged entry is deleted');
          assert.equal(messages.length, 1);
          assert.match(messages[0] ?? '', /unpacked x\.deb .* is damaged: .*; deleted, rebuilding it/);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts metadata that does not fit the content as damage', async () => {
    const path = join(freshCache(), 'entry');
    await writeSealed(path, { controlBytes: payload.length + 1 }, parts);
    const { messages, onRepair } = repairs();
    const read = await readSealed<{ controlBytes: number }>(path, {
      label: 'test',
      onRepair,
      checkMeta: (m, p): m is { controlBytes: number } =>
        (m as { controlBytes: number }).controlBytes <= p.length,
    });
    assert.equal(read, undefined);
    assert.match(messages[0] ?? '', /metadata does not fit/);
  });

  it('reports an unreadable entry (a directory in its place) and removes it', async () => {
    const dir = freshCache();
    const path = join(dir, 'entry');
    mkdirSync(path);
    const { messages, onRepair } = repairs();
    assert.equal(await readSealed(path, { label: 'test', onRepair }), undefined);
    assert.match(messages[0] ?? '', /unreadable \(EISDIR\)/);
  });
});
