import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { gzipDeterministic } from '../src/formats/gzip.ts';
import { writeTar } from '../src/formats/tar-write.ts';
import type { ArtifactInput } from '../src/pipeline/artifacts/input.ts';
import type { BuiltSegment } from '../src/pipeline/initramfs/segments.ts';
import type { LockFile } from '../src/pipeline/lockfile.ts';
import { type PublishedFile, publishSet } from '../src/pipeline/publish.ts';
import { CHECKSUMMED, stageArtifacts } from '../src/pipeline/stages/artifacts.ts';
import { fileNode, Tree, treePath } from '../src/tree/tree.ts';

/** Stages the artifacts and publishes them into outDir, as the build does. */
async function writeOutputs(input: ArtifactInput & { outDir: string }) {
  const staged = stageArtifacts(input);
  const files: Record<string, PublishedFile> = await publishSet(input.outDir, staged.pieces, {
    checksummed: CHECKSUMMED,
  });
  return { files, report: staged.report };
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hook-outputs-'));
  dirs.push(dir);
  return dir;
}

function segment(name: string, data: Uint8Array, uncompressedBytes: number): BuiltSegment {
  return {
    name,
    entries: 1,
    uncompressedBytes,
    compressedBytes: data.byteLength,
    cacheKey: '0'.repeat(64),
    cached: false,
    data,
  };
}

const lock: LockFile = {
  lockfileVersion: 1,
  arch: 'amd64',
  requestHash: 'x',
  sourceDateEpoch: 1700000000,
  packages: [],
};

function input(outDir: string, segments: BuiltSegment[]): ArtifactInput & { outDir: string } {
  const tree = new Tree();
  tree.set(treePath('etc/hostname'), fileNode('hook\n'));
  return {
    outDir,
    arch: 'x86_64',
    vmlinuz: randomBytes(70_000),
    initramfs: segments.map((s) => s.data),
    segments,
    lock,
    tree,
    ownership: new Map(),
    sourceDateEpoch: 1700000000,
    specName: 'hookos',
    specVersion: '0.1.0',
    kernelVersion: '6.12.0',
    cmdline: 'console=ttyS0',
  };
}

describe('writeOutputs', () => {
  it('writes a bundle that gzip and tar read back, and checksums sha512sum agrees with', () => {
    return (async () => {
      const outDir = tempDir();
      // Incompressible segments (so the bundle is stored), crossing 64 KiB block boundaries.
      const segments = [
        segment('base', randomBytes(200_001), 600_000),
        segment('kernel-modules', randomBytes(65_535), 200_000),
        segment('config', randomBytes(3), 10),
      ];
      const result = await writeOutputs(input(outDir, segments));
      const initramfs = Buffer.concat(segments.map((s) => s.data));
      assert.deepEqual(readFileSync(join(outDir, 'initramfs-x86_64')), initramfs);
      execFileSync('gzip', ['-t', join(outDir, 'hook_x86_64.tar.gz')]);
      const extract = tempDir();
      execFileSync('tar', ['-xzf', join(outDir, 'hook_x86_64.tar.gz'), '-C', extract]);
      assert.deepEqual(readFileSync(join(extract, 'initramfs-x86_64')), initramfs);
      assert.deepEqual(
        readFileSync(join(extract, 'vmlinuz-x86_64')),
        readFileSync(join(outDir, 'vmlinuz-x86_64')),
      );
      execFileSync('sha512sum', ['--check', '--strict', 'checksum.txt'], { cwd: outDir });
      const sums = execFileSync('sha512sum', ['hook_x86_64.tar.gz', 'hook-x86_64.lock'], {
        cwd: outDir,
      }).toString();
      assert.match(
        sums,
        new RegExp(`^${result.files['hook_x86_64.tar.gz']?.sha512}  hook_x86_64.tar.gz$`, 'm'),
      );
      assert.match(sums, new RegExp(`^${result.files['hook-x86_64.lock']?.sha512}  hook-x86_64.lock$`, 'm'));
      assert.equal(result.files['initramfs-x86_64']?.bytes, initramfs.byteLength);
      assert.equal(result.report.initramfsBytes, initramfs.byteLength);
    })();
  });

  it('gives the same bytes for the same input', async () => {
    const data = randomBytes(150_000);
    const a = tempDir();
    const b = tempDir();
    const base = input(a, [segment('base', data, 1_000_000)]);
    await writeOutputs(base);
    await writeOutputs({ ...base, outDir: b });
    for (const name of ['hook_x86_64.tar.gz', 'checksum.txt', 'hook-x86_64.report.json']) {
      assert.deepEqual(readFileSync(join(a, name)), readFileSync(join(b, name)), name);
    }
  });

  it('deflates the bundle when the initramfs is not compressed', async () => {
    const outDir = tempDir();
    const text = Buffer.from('hook '.repeat(100_000));
    const uncompressed = input(outDir, [segment('base', text, text.byteLength)]);
    await writeOutputs(uncompressed);
    const bundle = readFileSync(join(outDir, 'hook_x86_64.tar.gz'));
    // The random vmlinuz does not shrink; the repetitive initramfs must.
    const limit = uncompressed.vmlinuz.byteLength + text.byteLength / 10;
    assert.ok(bundle.byteLength < limit, `${bundle.byteLength} bytes`);
    execFileSync('gzip', ['-t', join(outDir, 'hook_x86_64.tar.gz')]);
  });
});

describe('writeTar + gzipDeterministic', () => {
  it('is a gzip (OS Unix, mtime 0) of a ustar archive that tar lists', () => {
    const tar = writeTar(
      [{ kind: 'file', path: 'a', mode: 0o644, uid: 0, gid: 0, data: Buffer.from('hello') }],
      {
        mtime: 1700000000,
      },
    );
    const gz = gzipDeterministic(Buffer.concat(tar));
    assert.equal(gz[9], 3);
    assert.deepEqual([...gz.subarray(4, 8)], [0, 0, 0, 0]);
    assert.equal(gunzipSync(gz).byteLength, 512 * 2 + 1024);
    const dir = tempDir();
    execFileSync('tar', ['-xzf', '-', '-C', dir], { input: gz });
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'hello');
  });
});
