import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { isHookError } from '../src/errors.ts';
import {
  type IsoFile,
  type IsoOptions,
  SECTOR,
  withBootInfoTable,
  writeIso,
} from '../src/formats/iso9660.ts';

// Oracles: xorriso (libisofs reads our volume descriptors, path tables, directories and El
// Torito catalog) and util-linux's blkid (probes the ISO 9660 superblock).
const work = mkdtempSync(join(tmpdir(), 'hook-iso9660-'));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

function save(pieces: readonly Uint8Array[]): string {
  const path = join(work, `img${counter++}.iso`);
  writeFileSync(path, Buffer.concat(pieces));
  return path;
}

function xorriso(args: string[]): string {
  // xorriso writes its reports on stdout and its notes on stderr; both are wanted here.
  return execFileSync('xorriso', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `report_lba` lines: path → [lba, size]. */
function reportLba(iso: string): Map<string, [number, number]> {
  const out = xorriso(['-indev', iso, '-find', '/', '-exec', 'report_lba', '--']);
  const files = new Map<string, [number, number]>();
  for (const m of out.matchAll(/^File data lba:\s+0 ,\s+(\d+) ,\s+\d+ ,\s+(\d+) , '(.*)'$/gm)) {
    files.set((m[3] as string).slice(1), [Number(m[1]), Number(m[2])]);
  }
  return files;
}

function extract(iso: string): string {
  const dir = join(work, `x${counter++}`);
  xorriso(['-osirrox', 'on', '-indev', iso, '-extract', '/', dir]);
  return dir;
}

const enc = new TextEncoder();
const DATE = 1_750_000_000; // 2025-06-15T15:06:40Z

describe('writeIso', () => {
  test('files in pieces, nested and many-entry directories, alignment, an empty file: xorriso reads them back', () => {
    const big = randomBytes(100_000);
    const middle = big.subarray(3, 40_000);
    const files: IsoFile[] = [
      { path: 'A/B/C/DEEP.TXT', data: [enc.encode('deep\n')] },
      { path: 'KERNEL', data: [big.subarray(0, 3), middle, big.subarray(40_000)] },
      { path: 'ALIGNED.CFG', data: [enc.encode('x'.repeat(3000))], alignSectors: 16 },
      { path: 'EMPTY', data: [] },
      // 90 records of 48 bytes (`FILE_000.DAT;1`) after `.` and `..` (34 each): 43 + 42 + 7 per
      // sector, as no record may cross a sector boundary.
      ...Array.from({ length: 90 }, (_, i) => ({
        path: `MANY/FILE_${String(i).padStart(3, '0')}.DAT`,
        data: [enc.encode(`file ${i}\n`)],
      })),
    ];
    const image = writeIso({ volumeId: 'HOOK_TEST', applicationId: 'HOOK', date: DATE, files });
    assert.equal(
      image.size,
      image.pieces.reduce((n, p) => n + p.byteLength, 0),
    );
    assert.equal(image.size % SECTOR, 0);
    assert.ok(image.pieces.includes(middle), 'pieces are referenced, not copied');
    assert.equal((image.layout.files.get('ALIGNED.CFG')?.lba ?? 1) % 16, 0);
    assert.equal(image.layout.directories.get('MANY')?.size, 3 * SECTOR);

    const iso = save(image.pieces);
    const lbas = reportLba(iso);
    for (const file of files) {
      const extent = image.layout.files.get(file.path);
      assert.deepEqual(lbas.get(file.path), [extent?.lba, extent?.size], file.path);
    }
    const dir = extract(iso);
    for (const file of files) {
      assert.deepEqual(readFileSync(join(dir, file.path)), Buffer.concat(file.data), file.path);
    }
    const pvd = xorriso(['-indev', iso, '-pvd_info']);
    assert.match(pvd, /Volume Id\s+: HOOK_TEST/);
    assert.match(pvd, /App Id\s+: HOOK/);
    assert.match(pvd, /Creation Time: 2025061515064000/);
    assert.match(pvd, /Expir\. Time\s+: 0000000000000000/);
    const blkid = execFileSync('blkid', ['-p', '-o', 'export', iso], { encoding: 'utf8' });
    assert.match(blkid, /^TYPE=iso9660$/m);
    assert.match(blkid, /^LABEL=HOOK_TEST$/m);
    assert.match(blkid, /^UUID=2025-06-15-15-06-40-00$/m, 'blkid reads the PVD dates');
  });

  test('El Torito: BIOS no-emulation entry with a boot info table, then an EFI entry; padding', () => {
    const loader = randomBytes(6000);
    const efi = randomBytes(10 * 1024);
    const original = Buffer.from(loader);
    const image = writeIso({
      volumeId: 'BOOT_TEST',
      date: DATE,
      files: [
        { path: 'ISOLINUX/ISOLINUX.BIN', data: [loader] },
        { path: 'BOOT/EFI.IMG', data: [efi] },
      ],
      boot: {
        catalogPath: 'BOOT/BOOT.CAT',
        entries: [
          { platform: 'bios', path: 'ISOLINUX/ISOLINUX.BIN', loadSectors: 4, bootInfoTable: true },
          { platform: 'efi', path: 'BOOT/EFI.IMG' },
        ],
      },
      padToBytes: 1024 * 1024,
    });
    assert.equal(image.size, 1024 * 1024);
    const iso = save(image.pieces);
    const report = xorriso(['-indev', iso, '-report_el_torito', 'plain']);
    const bin = image.layout.files.get('ISOLINUX/ISOLINUX.BIN')?.lba;
    const img = image.layout.files.get('BOOT/EFI.IMG')?.lba;
    assert.match(report, new RegExp(`El Torito catalog\\s+:\\s+${image.layout.bootCatalogLba}\\s+1`));
    assert.match(report, /El Torito cat path : \/BOOT\/BOOT\.CAT/);
    assert.match(
      report,
      new RegExp(`boot img :\\s+1\\s+BIOS\\s+y\\s+none\\s+0x0000\\s+0x00\\s+4\\s+${bin}\\b`),
    );
    assert.match(
      report,
      new RegExp(`boot img :\\s+2\\s+UEFI\\s+y\\s+none\\s+0x0000\\s+0x00\\s+20\\s+${img}\\b`),
    );
    assert.match(report, /img opts :\s+1\s+boot-info-table/);
    // The boot info table as mkisofs writes it: PVD LBA, own LBA, length, sum of words from 64.
    const patched = readFileSync(join(extract(iso), 'ISOLINUX/ISOLINUX.BIN'));
    assert.deepEqual(patched.subarray(64), loader.subarray(64));
    assert.equal(patched.readUInt32LE(8), 16);
    assert.equal(patched.readUInt32LE(12), bin);
    assert.equal(patched.readUInt32LE(16), loader.byteLength);
    let sum = 0;
    for (let i = 64; i < loader.byteLength; i += 4) sum = (sum + loader.readUInt32LE(i)) >>> 0;
    assert.equal(patched.readUInt32LE(20), sum);
    assert.ok(patched.subarray(24, 64).every((b) => b === 0));
    assert.deepEqual(loader, original, 'the input is not modified');
  });

  test('the system area callback sees the final layout and fills sectors 0-15', () => {
    const image = writeIso({
      volumeId: 'SA',
      date: DATE,
      files: [{ path: 'F', data: [enc.encode('f')] }],
      systemArea: (layout) => {
        const area = new Uint8Array(512);
        new DataView(area.buffer).setUint32(0, layout.files.get('F')?.lba ?? 0, true);
        new DataView(area.buffer).setUint32(4, layout.totalSectors, true);
        return area;
      },
    });
    const head = image.pieces[0] as Uint8Array;
    const view = new DataView(head.buffer, head.byteOffset);
    assert.equal(view.getUint32(0, true), image.layout.files.get('F')?.lba);
    assert.equal(view.getUint32(4, true), image.size / SECTOR);
  });

  test('the same input gives the same bytes', () => {
    const options = (): IsoOptions => ({
      volumeId: 'SAME',
      date: DATE,
      files: [
        { path: 'Z/B', data: [enc.encode('b')] },
        { path: 'Z/A', data: [enc.encode('a')] },
        { path: 'BOOT.IMG', data: [new Uint8Array(4096).fill(1)] },
      ],
      boot: { catalogPath: 'BOOT.CAT', entries: [{ platform: 'efi', path: 'BOOT.IMG' }] },
    });
    const hash = (pieces: Uint8Array[]) => {
      const h = createHash('sha256');
      for (const p of pieces) h.update(p);
      return h.digest('hex');
    };
    assert.equal(hash(writeIso(options()).pieces), hash(writeIso(options()).pieces));
  });

  test('random trees: every file is where the layout says, with its bytes (xorriso as oracle)', () => {
    const name = fc.stringMatching(/^[A-Z0-9_]{1,8}$/);
    const file = fc.record({
      dir: fc.array(name, { maxLength: 3 }),
      base: name,
      ext: fc.option(fc.stringMatching(/^[A-Z0-9]{1,3}$/), { nil: undefined }),
      size: fc.integer({ min: 0, max: 9000 }),
      align: fc.constantFrom(1, 1, 2, 16),
    });
    fc.assert(
      fc.property(fc.array(file, { minLength: 1, maxLength: 12 }), (specs) => {
        const seen = new Set<string>();
        const files: IsoFile[] = [];
        for (const spec of specs) {
          const path = [...spec.dir, spec.ext === undefined ? spec.base : `${spec.base}.${spec.ext}`].join(
            '/',
          );
          // Skip clashes (same path, or a file where another file needs a directory).
          const prefixes = spec.dir.map((_, i) => spec.dir.slice(0, i + 1).join('/'));
          if (seen.has(path) || prefixes.some((p) => seen.has(`f:${p}`)) || seen.has(`d:${path}`)) continue;
          seen.add(path);
          seen.add(`f:${path}`);
          for (const p of prefixes) seen.add(`d:${p}`);
          files.push({ path, data: [randomBytes(spec.size)], alignSectors: spec.align });
        }
        const image = writeIso({ volumeId: 'PROP', date: DATE, files });
        const iso = save(image.pieces);
        const lbas = reportLba(iso);
        const dir = extract(iso);
        for (const f of files) {
          const extent = image.layout.files.get(f.path);
          assert.deepEqual(lbas.get(f.path), [extent?.lba, extent?.size], f.path);
          assert.deepEqual(readFileSync(join(dir, f.path)), Buffer.concat(f.data), f.path);
        }
      }),
      { numRuns: 12 },
    );
  });

  test('refuses what ISO 9660 cannot hold, with E_ARCHIVE_FORMAT', () => {
    const bad: IsoOptions[] = [
      { volumeId: 'X', date: DATE, files: [{ path: 'lower.txt', data: [] }] },
      { volumeId: 'X', date: DATE, files: [{ path: 'TWO.DOTS.TXT', data: [] }] },
      { volumeId: 'X', date: DATE, files: [{ path: `${'A'.repeat(31)}`, data: [] }] },
      {
        volumeId: 'X',
        date: DATE,
        files: [
          { path: 'D/F', data: [] },
          { path: 'D', data: [] },
        ],
      },
      {
        volumeId: 'X',
        date: DATE,
        files: [
          { path: 'F', data: [] },
          { path: 'F', data: [] },
        ],
      },
      { volumeId: 'X', date: DATE, files: [{ path: 'A/B/C/D/E/F/G/H/I', data: [] }] },
      { volumeId: 'lower', date: DATE, files: [] },
      { volumeId: 'X', date: -1e12, files: [] },
      {
        volumeId: 'X',
        date: DATE,
        files: [{ path: 'BIG.IMG', data: [new Uint8Array(32 * 1024 * 1024)] }],
        boot: { catalogPath: 'BOOT.CAT', entries: [{ platform: 'efi', path: 'BIG.IMG' }] },
      },
      {
        volumeId: 'X',
        date: DATE,
        files: [],
        boot: { catalogPath: 'BOOT.CAT', entries: [{ platform: 'efi', path: 'MISSING.IMG' }] },
      },
    ];
    for (const options of bad) {
      assert.throws(
        () => writeIso(options),
        (error: unknown) => isHookError(error) && error.code === 'E_ARCHIVE_FORMAT',
        JSON.stringify(options.files.map((f) => f.path)),
      );
    }
  });

  test('withBootInfoTable leaves the input alone and keeps its length', () => {
    const image = randomBytes(2050);
    const copy = Buffer.from(image);
    const out = withBootInfoTable(image, 99);
    assert.deepEqual(image, copy);
    assert.equal(out.byteLength, 2050);
    assert.equal(Buffer.from(out).readUInt32LE(12), 99);
  });
});
