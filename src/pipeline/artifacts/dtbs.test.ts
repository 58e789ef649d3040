import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { readTar } from '../../formats/tar-read.ts';
import { Tree } from '../../tree/tree.ts';
import type { LockFile } from '../lockfile.ts';
import { bundleArtifact } from './bundle.ts';
import { dtbsArtifact } from './dtbs.ts';
import type { ArtifactInput, DtbFile } from './input.ts';

const lock: LockFile = {
  lockfileVersion: 1,
  arch: 'arm64',
  requestHash: 'x',
  sourceDateEpoch: 1,
  packages: [],
};

function input(dtbs: DtbFile[] | undefined, arch: 'aarch64' | 'x86_64' = 'aarch64'): ArtifactInput {
  return {
    arch,
    vmlinuz: new Uint8Array([1, 2, 3]),
    initramfs: [new Uint8Array([4, 5])],
    segments: [],
    lock,
    tree: new Tree(),
    ownership: new Map(),
    sourceDateEpoch: 1_700_000_000,
    specName: 'hookos',
    specVersion: '0',
    kernelVersion: '6.12',
    cmdline: '',
    dtbs,
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

test('dtbs-<arch>.tar.gz: every entry under dtbs-<arch>/, folders first in byte order, root-owned, one mtime', () => {
  const dtbs: DtbFile[] = [
    { path: 'rockchip/rk3399-rock-pi-4b.dtb', data: bytes('rock') },
    { path: 'arm/juno.dtb', data: bytes('juno') },
    { path: 'rockchip/overlay/rk3399-x.dtbo', data: bytes('overlay') },
  ];
  const artifact = dtbsArtifact(input(dtbs));
  assert.ok(artifact);
  const [name, pieces] = artifact;
  assert.equal(name, 'dtbs-aarch64.tar.gz');
  const entries = readTar(gunzipSync(Buffer.concat(pieces)));
  assert.deepEqual(
    entries.map((e) => `${e.type} ${e.path}`),
    [
      'dir dtbs-aarch64/',
      'dir dtbs-aarch64/arm/',
      'file dtbs-aarch64/arm/juno.dtb',
      'dir dtbs-aarch64/rockchip/',
      'dir dtbs-aarch64/rockchip/overlay/',
      'file dtbs-aarch64/rockchip/overlay/rk3399-x.dtbo',
      'file dtbs-aarch64/rockchip/rk3399-rock-pi-4b.dtb',
    ],
  );
  for (const entry of entries) {
    assert.equal(entry.uid, 0);
    assert.equal(entry.uname, 'root');
    assert.equal(entry.mtime, 1_700_000_000);
    assert.equal(entry.mode & 0o777, entry.type === 'dir' ? 0o755 : 0o644);
  }
  const juno = entries.find((e) => e.path.endsWith('juno.dtb'));
  assert.equal(new TextDecoder().decode(juno?.data), 'juno');
});

test('the same device trees in any order give the same bytes; none (amd64) gives no archive', () => {
  const a: DtbFile[] = [
    { path: 'b/y.dtb', data: bytes('y') },
    { path: 'a/x.dtb', data: bytes('x') },
  ];
  const first = dtbsArtifact(input(a));
  const second = dtbsArtifact(input([...a].reverse()));
  assert.ok(first && second);
  assert.deepEqual(Buffer.concat(first[1]), Buffer.concat(second[1]));
  assert.equal(dtbsArtifact(input(undefined, 'x86_64')), undefined);
  assert.equal(dtbsArtifact(input([], 'x86_64')), undefined);
});

test('hook_<arch>.tar.gz holds vmlinuz, initramfs, then the same dtbs archive (Hook’s order)', () => {
  const dtbs: DtbFile[] = [{ path: 'arm/juno.dtb', data: bytes('juno') }];
  const withDtbs = input(dtbs);
  const [, bundle] = bundleArtifact(withDtbs);
  const entries = readTar(gunzipSync(Buffer.concat(bundle)));
  assert.deepEqual(
    entries.map((e) => e.path),
    ['vmlinuz-aarch64', 'initramfs-aarch64', 'dtbs-aarch64.tar.gz'],
  );
  const standalone = dtbsArtifact(withDtbs);
  assert.ok(standalone);
  assert.deepEqual(Buffer.from(entries[2]?.data ?? []), Buffer.concat(standalone[1]));
  const [, plain] = bundleArtifact(input(undefined, 'x86_64'));
  assert.deepEqual(
    readTar(gunzipSync(Buffer.concat(plain))).map((e) => e.path),
    ['vmlinuz-x86_64', 'initramfs-x86_64'],
  );
});
