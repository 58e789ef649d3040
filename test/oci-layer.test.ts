import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { treeToLayer } from '../src/oci/layer.ts';
import { fileNode, symlinkNode, Tree, treePath } from '../src/tree/tree.ts';

const EPOCH = 1_700_000_000;

function sampleTree(): Tree {
  const tree = new Tree();
  tree.set(treePath('etc/hostname'), fileNode('hook\n'));
  tree.set(treePath('usr/bin/tool'), fileNode('#!/bin/sh\necho hi\n', 0o4755, 0, 0));
  const shared = fileNode('same inode\n', 0o644, 1000, 1000);
  tree.set(treePath('usr/lib/a'), shared);
  tree.set(treePath('usr/lib/b'), { ...shared }); // same content object: a hard link
  tree.set(treePath('bin'), symlinkNode('usr/bin'));
  tree.set(treePath('dev/console'), { kind: 'char', mode: 0o600, major: 5, minor: 1, uid: 0, gid: 5 });
  tree.set(treePath('dev/sda'), { kind: 'block', mode: 0o660, major: 8, minor: 0, uid: 0, gid: 6 });
  tree.set(treePath('run/initctl'), { kind: 'fifo', mode: 0o600, uid: 0, gid: 0 });
  tree.set(treePath('secret'), fileNode('x', 0o000));
  tree.set(treePath(`${'d'.repeat(90)}/${'f'.repeat(90)}`), fileNode('long path'));
  tree.set(treePath('usr/share/ünïcode'), fileNode('utf-8 name'));
  tree.set(treePath('long-link'), symlinkNode(`/${'t'.repeat(150)}`));
  tree.mkdirp(treePath('tmp'));
  tree.set(treePath('tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  return tree;
}

/** GNU tar's verbose listing: the oracle for what the archive says. */
function gnuTarList(tar: Uint8Array): string[] {
  const out = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', '-'], {
    input: tar,
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
  });
  return out.toString('utf8').trim().split('\n');
}

describe('treeToLayer', () => {
  it('writes every node kind with exact modes, owners, links and the fixed mtime', async () => {
    const layer = await treeToLayer(sampleTree(), { mtime: EPOCH });
    const lines = gnuTarList(layer.tar).map((line) => line.replace(/\s+/g, ' '));
    const time = '2023-11-14 22:13:20';
    const expect = (line: string) =>
      assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in\n${lines.join('\n')}`);
    expect(`lrwxrwxrwx 0/0 0 ${time} bin -> usr/bin`);
    expect(`drwxr-xr-x 0/0 0 ${time} dev/`);
    expect(`crw------- 0/5 5,1 ${time} dev/console`);
    expect(`brw-rw---- 0/6 8,0 ${time} dev/sda`);
    expect(`-rw-r--r-- 0/0 5 ${time} etc/hostname`);
    expect(`prw------- 0/0 0 ${time} run/initctl`);
    expect(`---------- 0/0 1 ${time} secret`);
    expect(`drwxrwxrwt 0/0 0 ${time} tmp/`);
    expect(`-rwsr-xr-x 0/0 18 ${time} usr/bin/tool`);
    expect(`-rw-r--r-- 1000/1000 11 ${time} usr/lib/a`);
    expect(`hrw-r--r-- 1000/1000 0 ${time} usr/lib/b link to usr/lib/a`);
    expect(`-rw-r--r-- 0/0 10 ${time} usr/share/ünïcode`);
    expect(`-rw-r--r-- 0/0 9 ${time} ${'d'.repeat(90)}/${'f'.repeat(90)}`);
    expect(`lrwxrwxrwx 0/0 0 ${time} long-link -> /${'t'.repeat(150)}`);
    assert.ok(!lines.some((line) => / \.\/?$/.test(line)), 'no entry for the root directory');
    const names = lines.map((line) => line.split(' ').slice(5).join(' '));
    assert.equal(names[0], 'bin -> usr/bin', 'entries are sorted');
  });

  it('extracts hard links sharing one inode and file contents intact (GNU tar)', async () => {
    const layer = await treeToLayer(sampleTree(), { mtime: EPOCH });
    const dir = mkdtempSync(join(tmpdir(), 'hook-layer-'));
    try {
      execFileSync('tar', ['-xf', '-', '-C', dir, 'usr/lib', 'etc'], { input: layer.tar });
      const a = statSync(join(dir, 'usr/lib/a'));
      const b = statSync(join(dir, 'usr/lib/b'));
      assert.equal(a.ino, b.ino);
      assert.equal(a.nlink, 2);
      assert.equal(readFileSync(join(dir, 'usr/lib/b'), 'utf8'), 'same inode\n');
      assert.equal(readFileSync(join(dir, 'etc/hostname'), 'utf8'), 'hook\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is byte-for-byte reproducible, with the digests of its bytes', async () => {
    const a = await treeToLayer(sampleTree(), { mtime: EPOCH });
    const b = await treeToLayer(sampleTree(), { mtime: EPOCH });
    assert.deepEqual(Buffer.from(a.gzip), Buffer.from(b.gzip));
    assert.equal(a.digest, b.digest);
    assert.equal(a.diffId, `sha256:${createHash('sha256').update(a.tar).digest('hex')}`);
    assert.equal(a.digest, `sha256:${createHash('sha256').update(a.gzip).digest('hex')}`);
    assert.equal(a.size, a.gzip.byteLength);
    assert.deepEqual(gunzipSync(a.gzip), Buffer.from(a.tar));
    const c = await treeToLayer(sampleTree(), { mtime: EPOCH + 1 });
    assert.notEqual(c.diffId, a.diffId, 'the mtime is part of the archive');
  });

  it('writes a gzip header with MTIME 0 and no file name (checked with gzip -lv)', async () => {
    const layer = await treeToLayer(sampleTree(), { mtime: EPOCH });
    const header = Buffer.from(layer.gzip.subarray(0, 10));
    assert.equal(header.readUInt16BE(0), 0x1f8b);
    assert.equal(header[3], 0, 'no FNAME/FEXTRA/FCOMMENT flags');
    assert.equal(header.readUInt32LE(4), 0, 'MTIME is 0');
    const tested = execFileSync('gzip', ['-dc'], { input: layer.gzip });
    assert.deepEqual(tested, Buffer.from(layer.tar));
  });

  it('gives an empty tree an archive with only the end marker', async () => {
    const layer = await treeToLayer(new Tree(), { mtime: 0 });
    assert.equal(layer.tar.byteLength, 1024);
    assert.ok(layer.tar.every((byte) => byte === 0));
  });
});
