import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isHookError } from '../src/errors.ts';
import { chs, isohybridMbr, writeMbr } from '../src/formats/mbr.ts';

// Oracle: util-linux's partx reads the partition table as the kernel's msdos parser does.
const work = mkdtempSync(join(tmpdir(), 'hook-mbr-'));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

/** A sparse disk image of `bytes` with `mbr` in its first sector. */
function disk(mbr: Uint8Array, bytes: number): string {
  const path = join(work, `disk${counter++}.img`);
  const fd = openSync(path, 'w');
  writeSync(fd, mbr, 0, mbr.byteLength, 0);
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

function partx(path: string): { nr: number; start: number; sectors: number; type: number; flags: number }[] {
  const out = execFileSync('partx', ['--show', '--noheadings', '-o', 'NR,START,SECTORS,TYPE,FLAGS', path], {
    encoding: 'utf8',
  });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [nr, start, sectors, type, flags] = line.trim().split(/\s+/);
      return {
        nr: Number(nr),
        start: Number(start),
        sectors: Number(sectors),
        type: Number(type),
        flags: Number(flags),
      };
    });
}

/** isohybrid.c's CHS arithmetic for partition 1 (start 0, whole image of `cylinders`). */
function isohybridChs(cylinders: number): { begin: number[]; end: number[] } {
  const cc = Math.min(cylinders, 1024);
  return { begin: [0, 1, 0], end: [63, 32 + (((cc - 1) & 0x300) >> 2), (cc - 1) & 0xff] };
}

describe('MBR', () => {
  test('isohybrid layout: boot code, LBA × 4 at 432, disk signature, active whole-image partition, EFI partition', () => {
    const code = randomBytes(432);
    const imageBytes = 200 * 1024 * 1024;
    const mbr = isohybridMbr({
      code,
      bootImageLba: 34,
      imageBytes,
      efi: { lba: 115, bytes: 3_397_120 },
      diskSignature: 0xd88e99d5,
    });
    const b = Buffer.from(mbr);
    assert.deepEqual(b.subarray(0, 432), code);
    assert.equal(b.readUInt32LE(432), 34 * 4);
    assert.equal(b.readUInt32LE(436), 0);
    assert.equal(b.readUInt32LE(440), 0xd88e99d5);
    assert.equal(b.readUInt16LE(444), 0);
    assert.equal(b.readUInt16LE(510), 0xaa55);
    assert.deepEqual(partx(disk(mbr, imageBytes)), [
      { nr: 1, start: 0, sectors: imageBytes / 512, type: 0x00, flags: 0x80 },
      { nr: 2, start: 460, sectors: 6635, type: 0xef, flags: 0x00 },
    ]);
    // CHS of partition 1 exactly as isohybrid.c computes it (200 cylinders of 1 MiB).
    const expected = isohybridChs(200);
    assert.deepEqual([...b.subarray(447, 450)], expected.begin);
    assert.deepEqual([...b.subarray(451, 454)], expected.end);
  });

  test('CHS: isohybrid geometry, saturated past cylinder 1023 as isohybrid does', () => {
    for (const cylinders of [1, 2, 255, 256, 1023, 1024, 5000]) {
      const end = chs(cylinders * 64 * 32 - 1);
      assert.deepEqual(end, isohybridChs(cylinders).end, `${cylinders} cylinders`);
    }
    assert.deepEqual(chs(0), [0, 1, 0]);
    assert.deepEqual(chs(460), [14, 13, 0]); // 460 = 14 × 32 + 12 → head 14, sector 13
  });

  test('plain MBR: up to four partitions as given, partx agrees', () => {
    const mbr = writeMbr({
      diskSignature: 1,
      partitions: [
        { type: 0xef, start: 2048, sectors: 4096 },
        { type: 0x83, start: 6144, sectors: 10_000, bootable: true },
      ],
    });
    assert.deepEqual(partx(disk(mbr, 16 * 1024 * 1024)), [
      { nr: 1, start: 2048, sectors: 4096, type: 0xef, flags: 0 },
      { nr: 2, start: 6144, sectors: 10_000, type: 0x83, flags: 0x80 },
    ]);
    assert.ok(
      Buffer.from(mbr)
        .subarray(0, 440)
        .every((x) => x === 0),
      'no boot code given, none written',
    );
  });

  test('refuses what an MBR cannot hold', () => {
    const bad = [
      () => writeMbr({ code: new Uint8Array(441), diskSignature: 0, partitions: [] }),
      () => writeMbr({ code: new Uint8Array(433), diskSignature: 0, partitions: [], bootImageLba512: 4 }),
      () => writeMbr({ diskSignature: 0, partitions: Array(5).fill({ type: 1, start: 1, sectors: 1 }) }),
      () => writeMbr({ diskSignature: 0, partitions: [{ type: 1, start: 0, sectors: 0 }] }),
      () => writeMbr({ diskSignature: 0, partitions: [{ type: 256, start: 1, sectors: 1 }] }),
      () => writeMbr({ diskSignature: 0, partitions: [{ type: 1, start: 2 ** 32, sectors: 1 }] }),
      () =>
        isohybridMbr({ code: new Uint8Array(440), bootImageLba: 1, imageBytes: 1 << 20, diskSignature: 0 }),
      () => isohybridMbr({ code: new Uint8Array(432), bootImageLba: 1, imageBytes: 1000, diskSignature: 0 }),
    ];
    for (const make of bad) {
      assert.throws(make, (e: unknown) => isHookError(e) && e.code === 'E_ARCHIVE_FORMAT', make.toString());
    }
  });
});
