import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decompress } from '../../formats/compress.ts';
import { cpioTrailer, writeCpio } from '../../formats/cpio.ts';
import { fileNode, type TreeNode, type TreePath } from '../../tree/tree.ts';
import { recordOrigin } from '../cache/content-origin.ts';
import { buildSegments, type Segment } from './segments.ts';

let cacheDir: string;
before(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hook-segments-'));
});
after(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

/** A stand-in for a package's unpacked data tar, registered as its origin. */
function packageTar(id: string, text: string): Uint8Array {
  const buf = new Uint8Array(Buffer.from(text));
  recordOrigin(buf, `deb:${id}`);
  return buf;
}

function segment(entries: Array<[string, TreeNode]>): Segment {
  return { name: 'test', entries: entries.map(([p, n]) => [p as TreePath, n]) };
}

async function buildOne(s: Segment) {
  const [built] = await buildSegments([s], { mtime: 1700000000, compression: 'zstd', cacheDir });
  assert.ok(built);
  const expected = Buffer.concat([...writeCpio(s.entries, { mtime: 1700000000 }), cpioTrailer()]);
  assert.ok(Buffer.from(await decompress(built.data)).equals(expected), 'segment bytes are the cpio');
  return built;
}

test('an unchanged segment is reused; any change to a file rebuilds it', async () => {
  const tar = packageTar('a'.repeat(64), 'hello world, package bytes');
  const base = (config: string, mode = 0o644): Segment =>
    segment([
      ['usr/bin/tool', fileNode(tar.subarray(0, 5))],
      ['etc/config', fileNode(config, mode)],
    ]);
  assert.equal((await buildOne(base('one'))).cached, false);
  assert.equal((await buildOne(base('one'))).cached, true, 'same content from new buffers');
  assert.equal((await buildOne(base('two'))).cached, false, 'generated file changed, same length');
  assert.equal((await buildOne(base('two', 0o600))).cached, false, 'mode changed');
});

test('package contents are told apart by origin, not by their (unread) bytes', async () => {
  const tar = packageTar('b'.repeat(64), 'hello world');
  const other = packageTar('c'.repeat(64), 'hello world');
  const at = (data: Uint8Array) => segment([['usr/share/x', fileNode(data)]]);
  assert.equal((await buildOne(at(tar.subarray(0, 5)))).cached, false);
  assert.equal((await buildOne(at(tar.subarray(0, 5)))).cached, true);
  assert.equal((await buildOne(at(tar.subarray(6, 11)))).cached, false, 'other offset');
  assert.equal((await buildOne(at(other.subarray(0, 5)))).cached, false, 'other package');
  // The same bytes without an origin are hashed: a new key, still the right archive.
  const plain = new Uint8Array(Buffer.from('hello'));
  assert.equal((await buildOne(at(plain))).cached, false);
  assert.equal((await buildOne(at(new Uint8Array(Buffer.from('hellO'))))).cached, false);
});

test('a damaged cached segment is reported, deleted and compressed again to the same bytes', async () => {
  const s = segment([['etc/damage-me', fileNode('some configuration\n'.repeat(2000))]]);
  const first = await buildOne(s);
  assert.equal(first.cached, false);
  const dir = join(cacheDir, 'segments');
  const [name] = (await readdir(dir)).filter((n) => n.startsWith(first.cacheKey));
  if (!name?.endsWith('.sealed')) assert.fail(`expected a sealed entry, found ${name}`);
  const path = join(dir, name);
  const sealed = await readFile(path);
  const flip = (at: number) => {
    const copy = Buffer.from(sealed);
    copy[at] = (copy[at] as number) ^ 0x01;
    return copy;
  };
  const damages: Array<[string, Buffer]> = [
    ['a flipped byte in the compressed data', flip(sealed.length - 10)],
    ['a flipped byte in the metadata', flip(sealed.indexOf('uncompressedBytes'))],
    ['truncated', sealed.subarray(0, sealed.length - 1)],
    ['extended', Buffer.concat([sealed, Buffer.from([0])])],
    [
      'the unsealed form of older versions',
      sealed.subarray(sealed.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))),
    ],
  ];
  for (const [what, bytes] of damages) {
    const { mtime } = await stat(path);
    await writeFile(path, bytes);
    await utimes(path, mtime, mtime);
    const repairs: string[] = [];
    const [built] = await buildSegments([s], {
      mtime: 1700000000,
      compression: 'zstd',
      cacheDir,
      onRepair: (m) => repairs.push(m),
    });
    assert.ok(built);
    assert.equal(built.cached, false, what);
    assert.ok(Buffer.from(built.data).equals(Buffer.from(first.data)), `${what}: same compressed bytes`);
    assert.equal(repairs.length, 1, what);
    assert.match(repairs[0] ?? '', /compressed segment test .* is damaged/, what);
    assert.ok((await readFile(path)).equals(sealed), `${what}: the entry is rebuilt byte for byte`);
  }
  const again = await buildOne(s);
  assert.equal(again.cached, true);
});
