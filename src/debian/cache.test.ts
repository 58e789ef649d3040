import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cachedPath, casPath, defaultCacheDir, putBuffer, sha256File } from './cache.ts';

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
    assert.deepEqual(
      readdirSync(join(cache, 'sha256', digest.slice(0, 2))).filter((n) => n.includes('.tmp-')),
      [],
    );
  });

  it('deletes and reports missing a truncated entry', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    writeFileSync(path, data.subarray(0, 100));
    assert.equal(await cachedPath(cache, digest), undefined);
    assert.equal(existsSync(path), false);
  });

  it('deletes an entry of the right size but wrong content', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    const corrupt = Buffer.from(data);
    corrupt[5] = 0x58;
    writeFileSync(path, corrupt);
    assert.equal(await cachedPath(cache, digest, data.length), undefined);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.verified`), false);
  });

  it('rejects an entry whose size differs from the expected size', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    assert.equal(await cachedPath(cache, digest, data.length + 1), undefined);
    assert.equal(existsSync(path), false);
  });

  it('does not re-hash when size and mtime are unchanged (side record), and does when they change', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    const fixed = new Date('2025-01-01T00:00:00Z');
    utimesSync(path, fixed, fixed);
    assert.equal(await cachedPath(cache, digest), path); // re-hashed: mtime changed
    const corrupt = Buffer.from(data);
    corrupt[0] = 0x21;
    writeFileSync(path, corrupt);
    // Same size, mtime put back: the record vouches for it, so no hash is computed.
    utimesSync(path, fixed, fixed);
    assert.equal(await cachedPath(cache, digest), path);
    // Change the mtime: now the file is hashed again and the corruption found.
    utimesSync(path, fixed, new Date(fixed.getTime() + 5000));
    assert.equal(await cachedPath(cache, digest), undefined);
  });

  it('re-verifies an entry that has no side record', async () => {
    const cache = freshCache();
    const { path } = await putBuffer(cache, data);
    rmSync(`${path}.verified`);
    assert.equal(await cachedPath(cache, digest), path);
    assert.equal(existsSync(`${path}.verified`), true);
  });
});
