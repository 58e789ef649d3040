/**
 * The unpacked-package cache on a real `.deb` (Debian's `hostname`): a damaged entry —
 * flipped bytes, truncated, header changed, each with its mtime put back — is reported,
 * deleted and unpacked again to the same files; a `.deb` changed after it was verified is
 * never unpacked; the two unsealed files of older versions are removed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Deb } from '../src/debian/deb.ts';
import { HookError } from '../src/errors.ts';
import { contentOrigin } from '../src/pipeline/cache/content-origin.ts';
import { prefetchDebs, readDebCached } from '../src/pipeline/cache/deb-cache.ts';
import { testDeb } from './fixtures/formats/test-debs.ts';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let debBytes: Buffer;
let debSha: string;
before(async () => {
  debBytes = readFileSync(await testDeb('hostname'));
  debSha = sha(debBytes);
});

/** A cache of its own with a copy of the .deb (so tests may damage both). */
function setup(): { cacheDir: string; debPath: string; entry: string } {
  const cacheDir = mkdtempSync(join(tmpdir(), 'hook-deb-cache-'));
  dirs.push(cacheDir);
  const debPath = join(cacheDir, 'hostname.deb');
  writeFileSync(debPath, debBytes);
  return { cacheDir, debPath, entry: join(cacheDir, 'unpacked', debSha.slice(0, 2), `${debSha}.tars`) };
}

/** Every entry of the package as path, type and SHA-256 of its data. */
function listing(deb: Deb): string[] {
  return deb.data.map((e) => `${e.path} ${e.type} ${e.data ? sha(e.data) : '-'}`);
}

function flip(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

function touchR(path: string, data: Buffer): void {
  const reference = `${path}.reference`;
  copyFileSync(path, reference);
  execFileSync('touch', ['-r', path, reference]);
  writeFileSync(path, data);
  execFileSync('touch', ['-r', reference, path]);
  rmSync(reference);
}

test('a damaged unpacked entry is reported, deleted and unpacked again to the same files', async () => {
  const { cacheDir, debPath, entry } = setup();
  const clean = await readDebCached(cacheDir, debSha, debPath, 'hostname.deb');
  const expected = listing(clean);
  // trixie ships usr/bin/hostname, older suites bin/hostname (the host's apt lists decide).
  const binary = expected.find((line) => /^(usr\/)?bin\/hostname file /.test(line))?.split(' ')[0];
  assert.ok(binary, expected.join('\n'));
  const sealed = readFileSync(entry);
  const bin = sealed.indexOf(Buffer.from(binary));
  assert.ok(bin > 0);
  const damages: Array<[string, Buffer]> = [
    ['a flipped byte in a file body', flip(sealed, sealed.length - 2000)],
    ['a flipped byte in a tar header', flip(sealed, bin)],
    ['truncated to half', sealed.subarray(0, sealed.length >> 1)],
    ['the header digest changed', flip(sealed, 'hook-sealed-1 '.length)],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [what, bytes] of damages) {
    assert.ok(!bytes.equals(sealed), what);
    touchR(entry, bytes);
    const repairs: string[] = [];
    const deb = await readDebCached(cacheDir, debSha, debPath, 'hostname.deb', {
      onRepair: (m) => repairs.push(m),
    });
    assert.deepEqual(listing(deb), expected, what);
    assert.equal(repairs.length, 1, what);
    assert.match(repairs[0] ?? '', /unpacked hostname\.deb .* is damaged: .*; deleted, rebuilding it/, what);
    assert.ok(readFileSync(entry).equals(sealed), `${what}: the entry is rebuilt byte for byte`);
  }
  // The intact entry is read without a word, and package contents keep their origin.
  const repairs: string[] = [];
  const again = await readDebCached(cacheDir, debSha, debPath, 'hostname.deb', {
    onRepair: (m) => repairs.push(m),
  });
  assert.deepEqual(repairs, []);
  const file = again.data.find((e) => e.path === binary);
  assert.ok(file?.data);
  assert.match(contentOrigin(file.data) ?? '', new RegExp(`^deb:${debSha}@\\d+\\+${file.data.byteLength}$`));
});

test('prefetched reads check the entry too, also after an earlier prefetch that was never taken', async () => {
  const { cacheDir, debPath, entry } = setup();
  const ref = { sha256: debSha, debPath, source: 'hostname.deb', size: debBytes.length };
  const expected = listing(await readDebCached(cacheDir, debSha, debPath, 'hostname.deb'));
  // A build in this process prefetched the package but never read it (a metapackage, say).
  prefetchDebs(cacheDir, [ref]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  touchR(entry, readFileSync(entry).subarray(0, 4000));
  const repairs: string[] = [];
  const onRepair = (m: string) => repairs.push(m);
  prefetchDebs(cacheDir, [ref], { onRepair });
  assert.deepEqual(
    listing(await readDebCached(cacheDir, debSha, debPath, 'hostname.deb', { onRepair })),
    expected,
  );
  assert.equal(repairs.length, 1);
  assert.ok(readFileSync(entry).length > 4000, 'rebuilt');
});

test('a .deb changed after it was verified is never unpacked, and is deleted', async () => {
  const { cacheDir, debPath, entry } = setup();
  touchR(debPath, flip(debBytes, debBytes.length - 100));
  await assert.rejects(readDebCached(cacheDir, debSha, debPath, 'hostname.deb'), (error: unknown) => {
    assert.ok(error instanceof HookError);
    assert.equal(error.code, 'E_CHECKSUM');
    assert.match(error.message, /hostname\.deb in the cache .*: SHA-256 is [0-9a-f]{64}, expected/);
    return true;
  });
  assert.equal(existsSync(debPath), false);
  assert.equal(existsSync(entry), false);
});

test('the unsealed files of older versions are removed when the entry is written', async () => {
  const { cacheDir, debPath, entry } = setup();
  const dir = join(cacheDir, 'unpacked', debSha.slice(0, 2));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${debSha}.control.tar`), 'tampered');
  writeFileSync(join(dir, `${debSha}.data.tar`), 'tampered');
  await readDebCached(cacheDir, debSha, debPath, 'hostname.deb');
  assert.ok(existsSync(entry));
  assert.equal(existsSync(join(dir, `${debSha}.control.tar`)), false);
  assert.equal(existsSync(join(dir, `${debSha}.data.tar`)), false);
});
