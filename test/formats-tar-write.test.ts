/** The tar writer against GNU tar: every entry kind, long names and link targets (pax), owners. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type TarEntry, writeTar } from '../src/formats/tar-write.ts';
import { tempDir } from './helpers/temp-dir.ts';

const long = `${'deep/'.repeat(30)}file-with-a-long-name.txt`;
const entries: TarEntry[] = [
  { kind: 'dir', path: 'etc', mode: 0o755, uid: 0, gid: 0 },
  { kind: 'file', path: 'etc/hostname', mode: 0o644, uid: 0, gid: 0, data: Buffer.from('hook\n') },
  {
    kind: 'file',
    path: 'etc/split',
    mode: 0o600,
    uid: 1000,
    gid: 50,
    data: [Buffer.from('two '), Buffer.from('pieces')],
  },
  { kind: 'hardlink', path: 'etc/hostname.link', mode: 0o644, uid: 0, gid: 0, target: 'etc/hostname' },
  { kind: 'symlink', path: 'etc/long-link', uid: 0, gid: 0, target: `/${long}` },
  { kind: 'char', path: 'dev-null', mode: 0o666, uid: 0, gid: 0, major: 1, minor: 3 },
  { kind: 'fifo', path: 'fifo', mode: 0o644, uid: 0, gid: 0 },
  { kind: 'file', path: long, mode: 0o755, uid: 0, gid: 0, data: Buffer.from('x'.repeat(1000)) },
];

test('GNU tar lists and extracts what writeTar writes', async () => {
  const tar = Buffer.concat(writeTar(entries, { mtime: 1_700_000_000 }));
  assert.equal(tar.byteLength % 512, 0);
  const listing = execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: tar }).toString();
  for (const line of [
    /^drwxr-xr-x 0\/0 +0 2023-11-14 \d\d:\d\d etc\/$/m,
    /^-rw------- 1000\/50 +10 .* etc\/split$/m,
    /^hrw-r--r-- 0\/0 +0 .* etc\/hostname\.link link to etc\/hostname$/m,
    new RegExp(`^lrwxrwxrwx 0/0 .* etc/long-link -> /${long.replaceAll('.', '\\.')}$`, 'm'),
    /^crw-rw-rw- 0\/0 +1,3 .* dev-null$/m,
    /^prw-r--r-- 0\/0 .* fifo$/m,
    new RegExp(`^-rwxr-xr-x 0/0 +1000 .* ${long.replaceAll('.', '\\.')}$`, 'm'),
  ]) {
    assert.match(listing, line);
  }
  const dir = await tempDir('hook-tar-write-');
  execFileSync('tar', ['-x', '-f', '-', '-C', dir, '--exclude', 'dev-null', '--exclude', 'fifo'], {
    input: tar,
  });
  assert.equal(await readFile(join(dir, 'etc/split'), 'utf8'), 'two pieces');
  assert.equal((await readFile(join(dir, long), 'utf8')).length, 1000);
  assert.equal(await readlink(join(dir, 'etc/long-link')), `/${long}`);
  assert.deepEqual(
    writeTar(entries, { mtime: 1_700_000_000 })
      .map((p) => Buffer.from(p).toString('hex'))
      .join(''),
    tar.toString('hex'),
    'deterministic',
  );
});
