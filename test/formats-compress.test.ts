import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  compress,
  decompress,
  decompressXzBatch,
  decompressXzWith,
  detectCompression,
  xzUncompressedSize,
} from '../src/formats/compress.ts';

/** Compressible but not trivial: text with some randomness (about 1.5 MB). */
const sample = Buffer.from(
  Array.from(
    { length: 20_000 },
    (_, i) => `line ${i} ${randomBytes(8).toString('hex')} the quick brown fox\n`,
  ).join(''),
);

function tool(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
}

test('detectCompression recognizes what xz, zstd and gzip write; anything else is none', () => {
  assert.equal(detectCompression(tool('xz', ['-c'], sample)), 'xz');
  assert.equal(detectCompression(tool('zstd', ['-c', '-q'], sample)), 'zstd');
  assert.equal(detectCompression(tool('gzip', ['-c'], sample)), 'gzip');
  assert.equal(detectCompression(sample), 'none');
  assert.equal(detectCompression(new Uint8Array(0)), 'none');
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a])), 'none', 'truncated magic');
});

test('decompress reads what the reference tools write, including streamed and concatenated data', async () => {
  const half = sample.subarray(0, 700_000);
  const rest = sample.subarray(700_000);
  const cases: Array<[string, Buffer]> = [
    ['xz', tool('xz', ['-c'], sample)],
    ['xz -9e', tool('xz', ['-c', '-9e'], sample)],
    ['xz --check=crc32 multi-block', tool('xz', ['-c', '--check=crc32', '--block-size=100KiB'], sample)],
    ['xz two streams', Buffer.concat([tool('xz', ['-c'], half), tool('xz', ['-c'], rest)])],
    ['zstd (stdin: no content size)', tool('zstd', ['-c', '-q'], sample)],
    [
      'zstd two frames',
      Buffer.concat([tool('zstd', ['-c', '-q'], half), tool('zstd', ['-c', '-q', '-19'], rest)]),
    ],
    ['gzip', tool('gzip', ['-c'], sample)],
    ['gzip two members', Buffer.concat([tool('gzip', ['-c'], half), tool('gzip', ['-c'], rest)])],
  ];
  for (const [label, compressed] of cases) {
    assert.ok(Buffer.from(await decompress(compressed)).equals(sample), label);
  }
  assert.equal(await decompress(sample), sample, 'none returns the input');
});

test('compress output is read by the reference tools; levels take effect', async () => {
  for (const [kind, cmd] of [
    ['zstd', 'zstd'],
    ['gzip', 'gzip'],
  ] as const) {
    const out = await compress(sample, kind);
    assert.equal(detectCompression(out), kind);
    assert.ok(tool(cmd, ['-d', '-c'], out).equals(sample), kind);
  }
  const fast = await compress(sample, 'zstd', 1);
  const strong = await compress(sample, 'zstd', 19);
  assert.ok(
    strong.byteLength < fast.byteLength * 0.95,
    `zstd -19 (${strong.byteLength}) < -1 (${fast.byteLength})`,
  );
  const gzFast = await compress(sample, 'gzip', 1);
  const gzStrong = await compress(sample, 'gzip', 9);
  assert.ok(gzStrong.byteLength < gzFast.byteLength, 'gzip -9 < -1');
  assert.equal(await compress(sample, 'none'), sample);
});

test('compress is deterministic: same input and level give the same bytes; gzip header has mtime 0 and OS Unix', async () => {
  for (const kind of ['zstd', 'gzip'] as const) {
    const a = await compress(Buffer.from(sample), kind);
    const b = await compress(Buffer.from(sample), kind);
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), kind);
  }
  const gz = Buffer.from(await compress(sample, 'gzip'));
  assert.equal(gz.readUInt32LE(4), 0, 'MTIME');
  assert.equal(gz[9], 3, 'OS');
});

test('decompress refuses data that does not match the kind or is corrupt (E_ARCHIVE_FORMAT)', async () => {
  const zst = Buffer.from(await compress(sample, 'zstd'));
  await assert.rejects(decompress(zst, 'xz'), {
    code: 'E_ARCHIVE_FORMAT',
    message: /not xz \(its magic says zstd\)/,
  });
  const xz = tool('xz', ['-c'], sample);
  const corrupt = Buffer.from(xz);
  const middle = corrupt.byteLength >> 1;
  corrupt[middle] = (corrupt[middle] as number) ^ 0xff;
  await assert.rejects(decompress(corrupt), {
    code: 'E_ARCHIVE_FORMAT',
    message: /Cannot decompress xz data/,
  });
  await assert.rejects(decompress(xz.subarray(0, xz.byteLength >> 1)), { code: 'E_ARCHIVE_FORMAT' });
  // xz-embedded cannot verify SHA-256 integrity checks: refused up front, with the reason.
  await assert.rejects(decompress(tool('xz', ['-c', '--check=sha256'], sample)), {
    code: 'E_ARCHIVE_FORMAT',
    message: /SHA-256 integrity check/,
  });
  await assert.rejects(decompress(zst.subarray(0, zst.byteLength >> 1)), { code: 'E_ARCHIVE_FORMAT' });
  const gz = Buffer.from(await compress(sample, 'gzip'));
  await assert.rejects(decompress(gz.subarray(0, gz.byteLength - 4)), { code: 'E_ARCHIVE_FORMAT' });
});

test('the host xz and the wasm decoder give the same bytes; sizes match xz --list; batches keep order', async () => {
  const half = sample.subarray(0, 700_000);
  const cases = [
    tool('xz', ['-c'], sample),
    tool('xz', ['-c', '--check=crc32', '--block-size=100KiB'], sample),
    Buffer.concat([tool('xz', ['-c'], half), Buffer.alloc(8), tool('xz', ['-c'], sample.subarray(700_000))]),
  ];
  for (const xz of cases) {
    assert.equal(xzUncompressedSize(xz), sample.byteLength);
    assert.ok(Buffer.from(await decompressXzWith(xz, 'host')).equals(sample), 'host');
    assert.ok(Buffer.from(await decompressXzWith(xz, 'wasm')).equals(sample), 'wasm');
  }
  const parts = Array.from({ length: 7 }, (_, i) => sample.subarray(i * 1000, i * 1000 + 500 + i * 3000));
  const batch = await decompressXzBatch(parts.map((p) => tool('xz', ['-c'], p)));
  assert.equal(batch.length, parts.length);
  batch.forEach((out, i) => {
    assert.ok(Buffer.from(out).equals(parts[i] as Buffer), `part ${i}`);
  });
  const corrupt = Buffer.from(cases[0] as Buffer);
  corrupt[corrupt.byteLength >> 1] = (corrupt[corrupt.byteLength >> 1] as number) ^ 0xff;
  await assert.rejects(decompressXzWith(corrupt, 'host'), { code: 'E_ARCHIVE_FORMAT' });
  await assert.rejects(decompressXzBatch([cases[0] as Buffer, corrupt]), { code: 'E_ARCHIVE_FORMAT' });
  assert.throws(() => xzUncompressedSize(sample), /bad xz/);
});
