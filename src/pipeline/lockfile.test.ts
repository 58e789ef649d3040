/** The lock's images section: written sorted, read back, and refused when malformed. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDirSync } from '../../test/helpers/temp-dir.ts';
import { type LockFile, readLock, serializeLock } from './lockfile.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const lock: LockFile = {
  lockfileVersion: 1,
  arch: 'amd64',
  requestHash: 'h',
  sourceDateEpoch: 1,
  packages: [],
  images: [
    { ref: 'quay.io/b/worker:1', digest: digest('a'), manifest: digest('b'), platform: 'linux/amd64' },
    { ref: 'docker.io/library/a:1', digest: digest('c'), manifest: digest('c'), platform: 'linux/amd64' },
  ],
};

test('images are written sorted by reference and read back; a lock without images has no such key', async () => {
  const dir = tempDirSync('hook-lock-');
  writeFileSync(join(dir, 'hook-x86_64.lock'), serializeLock(lock));
  const read = await readLock(join(dir, 'hook-x86_64.lock'));
  assert.deepEqual(
    read?.images?.map((i) => i.ref),
    ['docker.io/library/a:1', 'quay.io/b/worker:1'],
  );
  const { images: _, ...withoutImages } = lock;
  assert.ok(!serializeLock(withoutImages).includes('"images"'));
});

test('a malformed images section is refused like any broken lock', async () => {
  const dir = tempDirSync('hook-lock-');
  const path = join(dir, 'hook-x86_64.lock');
  for (const images of [
    {},
    [{ ref: 'a', digest: 'sha256:short', manifest: digest('b'), platform: 'linux/amd64' }],
    [{ ref: 'a' }],
  ]) {
    writeFileSync(path, JSON.stringify({ ...lock, images }));
    await assert.rejects(readLock(path), /is not a HookOS lock of version 1/);
  }
});
