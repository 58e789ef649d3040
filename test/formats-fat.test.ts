import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isHookError } from '../src/errors.ts';
import { type FatOptions, shortName, writeFat } from '../src/formats/fat.ts';

// Oracles: mtools (mdir, mcopy, minfo read the BPB, FAT chains and directories) and
// util-linux's blkid (decides FAT12/FAT16 from the cluster count, as Linux's vfat does).
const work = mkdtempSync(join(tmpdir(), 'hook-fat-'));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

function save(image: Uint8Array): string {
  const path = join(work, `fat${counter++}.img`);
  writeFileSync(path, image);
  return path;
}

function mtools(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '0' } });
}

function blkid(path: string): Record<string, string> {
  const out = execFileSync('blkid', ['-p', '-o', 'export', path], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => l.split('=', 2) as [string, string]),
  );
}

const DATE = 1_750_000_000; // 2025-06-15 15:06:40 UTC

describe('writeFat', () => {
  const shim = randomBytes(1_036_152);
  const grub = randomBytes(2_328_000);
  const cfg = new TextEncoder().encode('search --file /HOOK/ID\n');
  const files: FatOptions['files'] = [
    { path: 'EFI/BOOT/BOOTX64.EFI', data: shim },
    { path: 'EFI/BOOT/GRUBX64.EFI', data: [grub.subarray(0, 7), grub.subarray(7)] },
    { path: 'BOOT/GRUB/GRUB.CFG', data: cfg },
    { path: 'EMPTY', data: [] },
  ];

  for (const [type, freeBytes] of [
    ['FAT12', 0],
    ['FAT16', 20 * 1024 * 1024],
  ] as const) {
    test(`${type}: mtools lists and copies every file, blkid agrees on the type`, () => {
      const fat = writeFat({ files, label: 'HOOK_EFI', volumeId: 0x1234abcd, date: DATE, freeBytes });
      assert.equal(fat.type, type);
      const img = save(fat.image);
      const probe = blkid(img);
      assert.equal(probe.TYPE, 'vfat');
      assert.equal(probe.VERSION, type);
      assert.equal(probe.LABEL, 'HOOK_EFI');
      assert.equal(probe.UUID, '1234-ABCD');
      for (const [path, data] of [
        ['EFI/BOOT/BOOTX64.EFI', shim],
        ['EFI/BOOT/GRUBX64.EFI', grub],
        ['BOOT/GRUB/GRUB.CFG', cfg],
      ] as const) {
        const out = join(work, `out${counter++}`);
        mtools('mcopy', ['-n', '-i', img, `::/${path}`, out]);
        assert.deepEqual(readFileSync(out), Buffer.from(data), path);
      }
      const listing = mtools('mdir', ['-/', '-a', '-i', img, '::']);
      assert.match(listing, /BOOTX64 {2}EFI {3}1036152 2025-06-15 {2}15:06/);
      assert.match(listing, /EMPTY {16}0 2025-06-15/);
      // Free space as mtools computes it from the FAT: exactly the clusters we left free.
      const free = Number(/([\d ]+) bytes free/.exec(listing)?.[1]?.replaceAll(' ', ''));
      const usedClusters = Math.ceil(shim.byteLength / 2048) + Math.ceil(grub.byteLength / 2048) + 1 + 4;
      assert.equal(free, (fat.clusters - usedClusters) * 2048);
      const info = mtools('minfo', ['-i', img, '::']);
      assert.match(info, /sector size: 512 bytes/);
      assert.match(info, /cluster size: 4 sectors/);
      assert.match(info, /fats: 2/);
      assert.match(info, /media descriptor byte: 0xf8/);
    });
  }

  test('cluster counts near 4085 are moved out of the band where drivers guess the type', () => {
    // 4080 clusters of data would be FAT12 by the letter, but within 16 of the boundary.
    const fat = writeFat({ files: [{ path: 'DATA.BIN', data: new Uint8Array(4080 * 2048) }], date: DATE });
    assert.equal(fat.type, 'FAT16');
    assert.ok(fat.clusters >= 4085 + 16);
    assert.equal(blkid(save(fat.image)).VERSION, 'FAT16');
    const small = writeFat({ files: [{ path: 'DATA.BIN', data: new Uint8Array(4000 * 2048) }], date: DATE });
    assert.equal(small.type, 'FAT12');
    assert.equal(blkid(save(small.image)).VERSION, 'FAT12');
  });

  test('the same input gives the same bytes', () => {
    const a = writeFat({ files, date: DATE }).image;
    const b = writeFat({ files, date: DATE }).image;
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
  });

  test('short names: upper-case 8.3 only', () => {
    assert.equal(Buffer.from(shortName('BOOTX64.EFI')).toString(), 'BOOTX64 EFI');
    assert.equal(Buffer.from(shortName('EFI')).toString(), 'EFI        ');
    for (const bad of ['bootx64.efi', 'TOOLONGNAME.EFI', 'A.EFIX', '.EFI', 'A B', 'A.B.C']) {
      assert.throws(
        () => shortName(bad),
        (e: unknown) => isHookError(e) && e.code === 'E_ARCHIVE_FORMAT',
        bad,
      );
    }
  });

  test('refuses duplicates, file/directory clashes, bad labels and cluster sizes', () => {
    const bad: FatOptions[] = [
      {
        files: [
          { path: 'A', data: [] },
          { path: 'A', data: [] },
        ],
        date: DATE,
      },
      {
        files: [
          { path: 'A', data: [] },
          { path: 'A/B', data: [] },
        ],
        date: DATE,
      },
      { files: [], label: 'lower', date: DATE },
      { files: [], clusterBytes: 3000, date: DATE },
      { files: [{ path: 'BIG', data: new Uint8Array(40 * 1024 * 1024) }], clusterBytes: 512, date: DATE },
    ];
    for (const options of bad) {
      assert.throws(
        () => writeFat(options),
        (e: unknown) => isHookError(e) && e.code === 'E_ARCHIVE_FORMAT',
        JSON.stringify(options.files.map((f) => f.path)),
      );
    }
  });
});
