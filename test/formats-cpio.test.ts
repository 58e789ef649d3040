import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compress } from '../src/formats/compress.ts';
import { cpioTrailer, readCpio, writeCpio } from '../src/formats/cpio.ts';
import { fileNode, symlinkNode, Tree, type TreeNode, type TreePath, treePath } from '../src/tree/tree.ts';

const MTIME = 1_700_000_000; // 2023-11-14 22:13:20 UTC
const UTC = { ...process.env, TZ: 'UTC' };
const work = mkdtempSync(join(tmpdir(), 'cpio-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A tree with every node kind, odd modes, a hard-link pair and non-root owners. */
function sampleTree(): Tree {
  const tree = new Tree();
  const p = treePath;
  tree.set(p('etc'), { kind: 'dir', mode: 0o755, uid: 0, gid: 0 });
  tree.set(p('etc/hostname'), fileNode('hook\n', 0o644));
  tree.set(p('home/user'), { kind: 'dir', mode: 0o700, uid: 1000, gid: 1000 });
  tree.set(p('home/user/.profile'), fileNode('export A=1\n', 0o600, 1000, 1000));
  tree.set(p('tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  tree.set(p('usr/bin/su'), fileNode('setuid binary, odd length', 0o4755));
  tree.set(p('usr/bin/wall'), fileNode('setgid', 0o2755, 0, 5));
  const shared = fileNode('hard linked content\n', 0o755);
  tree.set(p('usr/bin/pigz'), shared);
  tree.set(p('usr/bin/unpigz'), { ...shared }); // same content object → hard link
  tree.set(p('usr/bin/empty'), fileNode('', 0o644));
  tree.set(p('bin'), symlinkNode('usr/bin'));
  tree.set(p('usr/bin/iptables'), symlinkNode('/etc/alternatives/iptables'));
  tree.set(p('dev/console'), { kind: 'char', mode: 0o600, major: 5, minor: 1, uid: 0, gid: 5 });
  tree.set(p('dev/sda'), { kind: 'block', mode: 0o660, major: 8, minor: 0, uid: 0, gid: 6 });
  tree.set(p('run/initctl'), { kind: 'fifo', mode: 0o600, uid: 0, gid: 0 });
  tree.set(p('srv/ünïcødé name'), fileNode('x', 0o640, 33, 33));
  return tree;
}

function archive(entries: Iterable<[TreePath, TreeNode]>, inodeBase?: number): Buffer {
  return Buffer.concat([...writeCpio(entries, { mtime: MTIME, inodeBase }), cpioTrailer()]);
}

function modeString(node: TreeNode): string {
  const typeChar = { dir: 'd', file: '-', symlink: 'l', char: 'c', block: 'b', fifo: 'p' }[node.kind];
  const m = node.kind === 'symlink' ? 0o777 : node.mode;
  const triple = (shift: number, special: number, s: string) => {
    const x = m & (1 << shift);
    const xChar = m & special ? (x ? s : s.toUpperCase()) : x ? 'x' : '-';
    return (m & (4 << shift) ? 'r' : '-') + (m & (2 << shift) ? 'w' : '-') + xChar;
  };
  return typeChar + triple(6, 0o4000, 's') + triple(3, 0o2000, 's') + triple(0, 0o1000, 't');
}

function cpioList(buf: Buffer): string[] {
  return execFileSync('cpio', ['-t', '-v', '-n', '--quiet'], { input: buf, env: UTC, encoding: 'utf8' })
    .trimEnd()
    .split('\n');
}

test('GNU cpio -t -v lists exactly our names, modes, owners, link counts and sizes', () => {
  const tree = sampleTree();
  const lines = cpioList(archive(tree.entries()));
  const entries = tree.entries();
  assert.equal(lines.length, entries.length);
  const lastPigz = 'usr/bin/unpigz'; // hard-link data rides on the last link
  entries.forEach(([path, node], i) => {
    const m = /^(\S{10})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|\d+,\s+\d+) (Nov 14\s+2023) (.*)$/.exec(
      lines[i] ?? '',
    );
    assert.ok(m, `line ${i}: ${lines[i]}`);
    const [, mode, nlink, uid, gid, size, , name] = m;
    assert.equal(mode, modeString(node), path);
    assert.equal(`${uid}/${gid}`, `${node.uid}/${node.gid}`, path);
    let expectedSize = '0';
    let expectedName: string = path === '' ? '.' : path;
    if (node.kind === 'file')
      expectedSize = path === 'usr/bin/pigz' ? '0' : String(node.content.data.byteLength);
    if (node.kind === 'symlink') {
      expectedSize = String(Buffer.byteLength(node.target));
      expectedName += ` -> ${node.target}`;
    }
    if (node.kind === 'char' || node.kind === 'block')
      expectedSize = `${node.major},   ${node.minor}`.replace(/,\s+/, ',');
    assert.equal(size?.replace(/,\s+/, ','), expectedSize, path);
    assert.equal(name, expectedName);
    if (path === 'usr/bin/pigz' || path === lastPigz) assert.equal(nlink, '2');
    if (path === 'usr') assert.equal(nlink, '3', 'usr has one subdirectory');
  });
});

test('cpio -i extracts the same content, owners, modes, devices and one inode for the hard link', () => {
  const tree = sampleTree();
  const dest = join(work, 'extract');
  mkdirSync(dest);
  execFileSync('cpio', ['-i', '-d', '-m', '--no-absolute-filenames', '--quiet'], {
    input: archive(tree.entries()),
    cwd: dest,
  });
  for (const [path, node] of tree.entries()) {
    const onDisk = join(dest, path);
    const st = lstatSync(onDisk);
    assert.equal(st.uid, node.uid, path);
    assert.equal(st.gid, node.gid, path);
    if (node.kind !== 'symlink') {
      assert.equal(st.mode & 0o7777, node.mode, path);
      // Directory times move as GNU cpio fills them (the kernel defers them; cpio does not).
      if (node.kind !== 'dir') assert.equal(st.mtimeMs / 1000, MTIME, path);
    }
    switch (node.kind) {
      case 'dir':
        assert.ok(st.isDirectory(), path);
        break;
      case 'file':
        assert.ok(st.isFile(), path);
        assert.ok(readFileSync(onDisk).equals(Buffer.from(node.content.data)), path);
        break;
      case 'symlink':
        assert.equal(readlinkSync(onDisk), node.target, path);
        break;
      case 'char':
      case 'block':
        assert.ok(node.kind === 'char' ? st.isCharacterDevice() : st.isBlockDevice(), path);
        assert.deepEqual([Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff], [node.major, node.minor], path);
        break;
      case 'fifo':
        assert.ok(st.isFIFO(), path);
        break;
    }
  }
  const a = lstatSync(join(dest, 'usr/bin/pigz'));
  const b = lstatSync(join(dest, 'usr/bin/unpigz'));
  assert.equal(a.ino, b.ino);
  assert.equal(a.nlink, 2);
  assert.notEqual(lstatSync(join(dest, 'usr/bin/su')).ino, a.ino);

  // readCpio against an archive GNU cpio wrote from that directory.
  const names = execFileSync('find', ['.', '-mindepth', '1'], { cwd: dest, encoding: 'utf8' });
  const gnu = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], {
    cwd: dest,
    input: names,
    maxBuffer: 1 << 26,
  });
  const read = readCpio(gnu);
  assert.deepEqual(
    read.map((e) => e.name).sort(),
    names
      .trim()
      .split('\n')
      .map((n) => n.slice(2))
      .sort(),
  );
  const console = read.find((e) => e.name === 'dev/console');
  assert.deepEqual([console?.rdevMajor, console?.rdevMinor, console?.mode], [5, 1, 0o020600]);
  const su = read.find((e) => e.name === 'usr/bin/su');
  assert.equal(Buffer.from(su?.data ?? []).toString(), 'setuid binary, odd length');
});

test('writeCpio is deterministic: two independently built equal trees give identical bytes', () => {
  const first = archive(sampleTree().entries());
  const second = archive(sampleTree().entries());
  assert.ok(first.equals(second));
  assert.equal(first.byteLength % 4, 0);
  const entries = readCpio(first);
  assert.ok(entries.every((e) => e.mtime === MTIME));
  const pigz = entries.findIndex((e) => e.name === 'usr/bin/pigz') + 1;
  assert.deepEqual(
    entries.map((e) => e.ino),
    entries.map((e, i) => (e.name === 'usr/bin/unpigz' ? pigz : i < pigz + 1 ? i + 1 : i)),
    'inodes in order; the hard-link pair (usr/bin/pigz, usr/bin/unpigz) shares one',
  );
  assert.deepEqual(
    entries.filter((e) => e.ino === pigz).map((e) => [e.name, e.nlink, e.data.byteLength]),
    [
      ['usr/bin/pigz', 2, 0],
      ['usr/bin/unpigz', 2, 20],
    ],
  );
});

test('concatenated zstd segments: each reads back with zstd -dc | cpio -t, the whole with readCpio', async () => {
  const entries = sampleTree().entries();
  const segments = [entries.slice(0, 8), entries.slice(8)];
  const compressed = await Promise.all(
    segments.map(async (segment, i) => compress(archive(segment, 1 + i * 1000), 'zstd', 19)),
  );
  compressed.forEach((blob, i) => {
    const file = join(work, `segment-${i}.cpio.zst`);
    writeFileSync(file, blob);
    const listed = execFileSync('sh', ['-c', 'zstd -dc "$1" | cpio -t --quiet', 'sh', file], {
      encoding: 'utf8',
    });
    assert.deepEqual(
      listed.trimEnd().split('\n'),
      (segments[i] ?? []).map(([path]) => (path === '' ? '.' : path)),
    );
  });
  const all = join(work, 'initramfs.zst');
  writeFileSync(all, Buffer.concat(compressed));
  const whole = readCpio(execFileSync('zstd', ['-dc', all], { maxBuffer: 1 << 26 }));
  assert.deepEqual(
    whole.map((e) => e.name),
    entries.map(([path]) => (path === '' ? '.' : path)),
  );
  const inodes = whole.map((e) => e.ino);
  assert.equal(new Set(inodes).size, inodes.length - 1, 'only the hard-link pair shares an inode');
});

test('readCpio skips zero padding between archives and refuses garbage', () => {
  const one = archive([[treePath('a'), fileNode('1')]]);
  const two = archive([[treePath('b'), fileNode('22')]], 100);
  const padded = Buffer.concat([one, Buffer.alloc(512 - (one.byteLength % 512)), two]);
  assert.deepEqual(
    readCpio(padded).map((e) => [e.name, e.ino, Buffer.from(e.data).toString()]),
    [
      ['a', 1, '1'],
      ['b', 100, '22'],
    ],
  );
  assert.throws(() => readCpio(Buffer.from('070707xxxx')), {
    code: 'E_ARCHIVE_FORMAT',
    message: /bad magic/,
  });
  assert.throws(() => readCpio(one.subarray(0, 120)), { code: 'E_ARCHIVE_FORMAT' });
});

test('writeCpio refuses values that do not fit the newc header', () => {
  assert.throws(() => writeCpio([[treePath('x'), fileNode('', 0o644, 2 ** 32)]], { mtime: MTIME }), {
    code: 'E_ARCHIVE_FORMAT',
    message: /"x": uid 4294967296 does not fit/,
  });
});
