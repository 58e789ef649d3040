import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DebEntry } from '../../debian/deb.ts';
import { isHookError } from '../../errors.ts';
import { treePath } from '../../tree/tree.ts';
import { BOOT_LOADER_SOURCES, bootLoaderPackageNames, bootLoadersFromPackages } from './boot-loaders.ts';

// The real packages: test/iso-image.test.ts. Here: how files are picked out of data archives.

function file(path: string, text: string): DebEntry {
  return {
    path: treePath(path),
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime: 0,
    data: Buffer.from(text),
  };
}

function link(path: string, target: string, type: 'symlink' | 'hardlink' = 'symlink'): DebEntry {
  return {
    path: treePath(path),
    type,
    mode: 0o777,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtime: 0,
    linkTarget: target,
  };
}

function packagesFor(arch: 'x86_64' | 'aarch64'): Map<string, DebEntry[]> {
  const data = new Map<string, DebEntry[]>();
  for (const [role, source] of Object.entries(BOOT_LOADER_SOURCES[arch])) {
    const entries = data.get(source.package) ?? [];
    entries.push(file(source.path, `${role} of ${source.package}`));
    data.set(source.package, entries);
  }
  return data;
}

test('package names per architecture: GRUB and shim for both, ISOLINUX for x86_64', () => {
  assert.deepEqual(bootLoaderPackageNames('x86_64'), [
    'grub-efi-amd64-signed',
    'isolinux',
    'shim-signed',
    'syslinux-common',
  ]);
  assert.deepEqual(bootLoaderPackageNames('aarch64'), ['grub-efi-arm64-signed', 'shim-signed']);
});

test('files are taken by path from each package', () => {
  const x86 = bootLoadersFromPackages('x86_64', packagesFor('x86_64'));
  assert.equal(Buffer.from(x86.grub).toString(), 'grub of grub-efi-amd64-signed');
  assert.equal(Buffer.from(x86.shim ?? []).toString(), 'shim of shim-signed');
  assert.equal(Buffer.from(x86.bios?.isohdpfx ?? []).toString(), 'isohdpfx of isolinux');
  assert.equal(Buffer.from(x86.bios?.ldlinux ?? []).toString(), 'ldlinux of syslinux-common');
  const arm = bootLoadersFromPackages('aarch64', packagesFor('aarch64'));
  assert.equal(arm.arch, 'aarch64');
  assert.equal(arm.bios, undefined);
});

test('symbolic and hard links inside a package are followed', () => {
  const data = packagesFor('aarch64');
  const grub = BOOT_LOADER_SOURCES.aarch64.grub?.path as string;
  data.set('grub-efi-arm64-signed', [
    file('usr/lib/grub/arm64-efi-signed/gcdaa64.efi.signed.real', 'the real one'),
    link(grub, 'gcdaa64.efi.signed.hard'),
    link(
      'usr/lib/grub/arm64-efi-signed/gcdaa64.efi.signed.hard',
      'usr/lib/grub/arm64-efi-signed/gcdaa64.efi.signed.real',
      'hardlink',
    ),
  ]);
  assert.equal(Buffer.from(bootLoadersFromPackages('aarch64', data).grub).toString(), 'the real one');
});

test('a missing package or file is an error that names it', () => {
  const noShim = packagesFor('aarch64');
  noShim.delete('shim-signed');
  assert.throws(
    () => bootLoadersFromPackages('aarch64', noShim),
    (e: unknown) => isHookError(e) && e.code === 'E_ARCHIVE_FORMAT' && /shim-signed/.test(e.message),
  );
  const moved = packagesFor('x86_64');
  moved.set('isolinux', [file('usr/lib/ISOLINUX/isolinux.bin', 'x')]);
  assert.throws(
    () => bootLoadersFromPackages('x86_64', moved),
    (e: unknown) =>
      isHookError(e) && /isolinux has no file \/usr\/lib\/ISOLINUX\/isohdpfx\.bin/.test(e.message),
  );
  const loop = packagesFor('aarch64');
  const shim = BOOT_LOADER_SOURCES.aarch64.shim?.path as string;
  loop.set('shim-signed', [link(shim, 'shimaa64.efi.signed')]);
  assert.throws(
    () => bootLoadersFromPackages('aarch64', loop),
    (e: unknown) => isHookError(e),
  );
});
