import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Arch } from '../src/arch.ts';
import { isHookError } from '../src/errors.ts';
import type { BootLoaderFiles } from '../src/pipeline/artifacts/boot-loaders.ts';
import {
  type BuiltIso,
  buildIso,
  findAll,
  ISO_MAGIC_STRING,
  type IsoInput,
} from '../src/pipeline/artifacts/iso.ts';
import { fullReads, SMEE_BUFFER, smeeCopy, smeePatch, smeePatchBuffer } from './helpers/smee.ts';

// Synthetic boot loaders and OS (the real ones: test/iso-image.test.ts and test/iso-boot.test.ts);
// oracles: xorriso (El Torito, system area, files), mtools (the FAT image), partx (the MBR).
const work = mkdtempSync(join(tmpdir(), 'hook-iso-'));
after(() => rmSync(work, { recursive: true, force: true }));
let counter = 0;

const isolinux = randomBytes(38_912);
isolinux.set([0xfb, 0xc0, 0x78, 0x70], 0x40);
const loaders: Record<Arch, BootLoaderFiles> = {
  x86_64: {
    arch: 'x86_64',
    grub: randomBytes(300_000),
    shim: randomBytes(100_000),
    bios: { isolinux, isohdpfx: randomBytes(432), ldlinux: randomBytes(1500) },
  },
  aarch64: { arch: 'aarch64', grub: randomBytes(310_000), shim: randomBytes(90_000) },
};
const vmlinuz = randomBytes(1_000_000);
const initramfs = [randomBytes(700_000), randomBytes(3), randomBytes(1_300_000)];
const CMDLINE = 'console=tty0 console=ttyS0,115200';

function input(arch: Arch, overrides: Partial<IsoInput> = {}): IsoInput {
  return {
    arch,
    vmlinuz,
    initramfs,
    bootLoaders: loaders[arch],
    cmdline: CMDLINE,
    sourceDateEpoch: 1_750_000_000,
    ...overrides,
  };
}

const built = { x86_64: buildIso(input('x86_64')), aarch64: buildIso(input('aarch64')) };

function save(pieces: readonly Uint8Array[]): string {
  const path = join(work, `image${counter++}.iso`);
  writeFileSync(path, Buffer.concat(pieces));
  return path;
}

function xorriso(args: string[]): string {
  return execFileSync('xorriso', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function extract(iso: string): string {
  const dir = join(work, `x${counter++}`);
  xorriso(['-osirrox', 'on', '-indev', iso, '-extract', '/', dir]);
  return dir;
}

/** A Smee patch as its ISO handler builds it for a machine with static IPAM. */
function patchFor(extra: string[] = []): string {
  return smeePatch(
    {
      extraKernelParams: ['tink_worker_image=10.0.2.2:5000/tink-worker:latest', ...extra],
      syslog: '10.0.2.2',
      tinkServerTLS: false,
      tinkServerGRPCAddr: '10.0.2.2:42113',
      staticIPAMEnabled: true,
    },
    '',
    '52:54:00:12:34:56',
    {
      macAddress: '52:54:00:12:34:56',
      ipAddress: '10.0.2.50',
      subnetMask: '255.255.255.0',
      defaultGateway: '10.0.2.2',
      hostname: 'hook-iso',
      nameServers: ['10.0.2.2'],
    },
  );
}

describe('buildIso', () => {
  test('x86_64: El Torito BIOS + UEFI entries and an isohybrid MBR, as xorriso reads them', () => {
    const iso = built.x86_64;
    assert.equal(iso.name, 'hook-x86_64-efi-initrd.iso');
    assert.equal(iso.size % (1024 * 1024), 0, 'padded to whole isohybrid cylinders');
    const path = save(iso.pieces);
    const report = xorriso(['-indev', path, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
    const lba = (p: string) => iso.layout.files.get(p)?.lba;
    assert.match(
      report,
      new RegExp(
        `boot img :\\s+1\\s+BIOS\\s+y\\s+none\\s+0x0000\\s+0x00\\s+4\\s+${lba('ISOLINUX/ISOLINUX.BIN')}\\b`,
      ),
    );
    assert.match(report, /img opts :\s+1\s+boot-info-table isohybrid-suitable/);
    assert.match(
      report,
      new RegExp(
        `boot img :\\s+2\\s+UEFI\\s+y\\s+none\\s+0x0000\\s+0x00\\s+\\d+\\s+${lba('BOOT/EFI.IMG')}\\b`,
      ),
    );
    // Cylinder-aligned MBR (xorriso adds "isohybrid" when it recognises the real isohdpfx.bin code).
    assert.match(report, /System area summary: MBR cyl-align-on/);
    assert.match(report, new RegExp(`MBR partition\\s+:\\s+1\\s+0x80\\s+0x00\\s+0\\s+${iso.size / 512}\\b`));
    assert.match(
      report,
      new RegExp(`MBR partition\\s+:\\s+2\\s+0x00\\s+0xef\\s+${(lba('BOOT/EFI.IMG') ?? 0) * 4}\\b`),
    );
    assert.match(report, /MBR partition path :\s+2\s+\/BOOT\/EFI\.IMG/);

    const dir = extract(path);
    assert.deepEqual(readFileSync(join(dir, 'VMLINUZ')), vmlinuz);
    assert.deepEqual(readFileSync(join(dir, 'INITRAMFS')), Buffer.concat(initramfs));
    assert.deepEqual(readFileSync(join(dir, 'ISOLINUX/LDLINUX.C32')), loaders.x86_64.bios?.ldlinux);
    assert.equal(readFileSync(join(dir, `HOOK/ID_${iso.id}`), 'utf8'), `HookOS x86_64 ${iso.id}\n`);
    const isolinuxCfg = readFileSync(join(dir, 'ISOLINUX/ISOLINUX.CFG'), 'utf8');
    assert.match(isolinuxCfg, /^DEFAULT hook$/m);
    assert.match(isolinuxCfg, /^ {2}KERNEL \/VMLINUZ$/m);
    assert.match(isolinuxCfg, /^ {2}INITRD \/INITRAMFS$/m);
    assert.match(isolinuxCfg, new RegExp(`^  APPEND ${CMDLINE} ${ISO_MAGIC_STRING} +$`, 'm'));

    // The FAT image: shim as the removable-media boot file, GRUB beside it, the redirect.
    const fat = join(dir, 'BOOT/EFI.IMG');
    const copy = (from: string) => {
      const out = join(work, `f${counter++}`);
      execFileSync('mcopy', ['-n', '-i', fat, `::/${from}`, out]);
      return readFileSync(out);
    };
    assert.deepEqual(copy('EFI/BOOT/BOOTX64.EFI'), loaders.x86_64.shim);
    assert.deepEqual(copy('EFI/BOOT/GRUBX64.EFI'), loaders.x86_64.grub);
    assert.match(
      copy('BOOT/GRUB/GRUB.CFG').toString(),
      new RegExp(`search --no-floppy --file --set=root /HOOK/ID_${iso.id}\\n`),
    );
    // The same FAT is reachable through MBR partition 2, as firmware sees it on a USB stick.
    const mdir = execFileSync(
      'mdir',
      ['-/', '-b', '-i', `${path}@@${(lba('BOOT/EFI.IMG') ?? 0) * 2048}`, '::'],
      {
        encoding: 'utf8',
      },
    );
    assert.match(mdir, /::\/EFI\/BOOT\/BOOTX64\.EFI/);
  });

  test('aarch64: one UEFI entry, BOOTAA64.EFI, and an MBR whose only partition is the EFI image', () => {
    const iso = built.aarch64;
    assert.equal(iso.name, 'hook-aarch64-efi-initrd.iso');
    const path = save(iso.pieces);
    const report = xorriso(['-indev', path, '-report_el_torito', 'plain']);
    assert.match(report, /boot img :\s+1\s+UEFI\s+y\s+none/);
    assert.doesNotMatch(report, /BIOS/);
    const efiLba = iso.layout.files.get('BOOT/EFI.IMG')?.lba ?? 0;
    const parts = execFileSync('partx', ['--show', '--noheadings', '-o', 'NR,START,TYPE', path], {
      encoding: 'utf8',
    });
    assert.deepEqual(parts.trim().split(/\s+/), ['1', String(efiLba * 4), '0xef']);
    const dir = extract(path);
    assert.equal(readdirSync(dir).includes('ISOLINUX'), false);
    const out = join(work, `f${counter++}`);
    execFileSync('mcopy', ['-n', '-i', join(dir, 'BOOT/EFI.IMG'), '::/EFI/BOOT/BOOTAA64.EFI', out]);
    assert.deepEqual(readFileSync(out), loaders.aarch64.shim);
  });

  test("Smee's placeholders: each on a 2048-byte boundary, each in its own 32 KiB window, nowhere else", () => {
    for (const [arch, count] of [
      ['x86_64', 2],
      ['aarch64', 1],
    ] as const) {
      const iso = built[arch];
      assert.equal(iso.magicOffsets.length, count, arch);
      assert.deepEqual(findAll(iso.pieces, Buffer.from(ISO_MAGIC_STRING)), iso.magicOffsets);
      for (const offset of iso.magicOffsets) assert.equal(offset % 2048, 0, `${arch} ${offset}`);
      const windows = new Set(iso.magicOffsets.map((o) => Math.floor(o / SMEE_BUFFER)));
      assert.equal(windows.size, count, `${arch}: placeholders share a 32 KiB window`);
    }
  });

  test('Smee patches the image byte for byte: only the placeholders change, each to patch + spaces', () => {
    const iso = built.x86_64;
    const patch = patchFor();
    const original = Buffer.concat(iso.pieces);
    const patched = Buffer.concat(smeeCopy(fullReads(iso.pieces), ISO_MAGIC_STRING, patch));
    assert.equal(patched.byteLength, original.byteLength);
    const expected = Buffer.from(original);
    for (const offset of iso.magicOffsets)
      expected.write(patch.padEnd(ISO_MAGIC_STRING.length, ' '), offset, 'latin1');
    assert.ok(patched.equals(expected), 'bytes outside the placeholders are untouched');
    assert.equal(
      findAll([patched], Buffer.from(ISO_MAGIC_STRING)).length,
      0,
      'no placeholder left unpatched',
    );

    // The boot loaders read the patch as the kernel command line, trailing spaces and all.
    const dir = extract(save([patched]));
    const grub = readFileSync(join(dir, 'BOOT/GRUB/GRUB.CFG'), 'utf8');
    const linux = grub.split('\n').find((l) => l.startsWith('\tlinux '));
    assert.equal(linux, `\tlinux /VMLINUZ ${CMDLINE} ${patch}${' '.repeat(2047 - patch.length)}`);
    assert.match(grub, /\n\tinitrd \/INITRAMFS\n\}\n$/);
    const isolinuxCfg = readFileSync(join(dir, 'ISOLINUX/ISOLINUX.CFG'), 'utf8');
    const append = isolinuxCfg.split('\n').find((l) => l.startsWith('  APPEND '));
    assert.ok(append?.startsWith(`  APPEND ${CMDLINE} ${patch}   `));
    assert.match(
      patch,
      / ipam=52-54-00-12-34-56::10\.0\.2\.50:255\.255\.255\.0:10\.0\.2\.2:hook-iso:10\.0\.2\.2::$/,
    );
  });

  test('any power-of-two buffer from 2 to 32 KiB, and 32 KiB reads from any sector (range requests), patch every placeholder', () => {
    const iso = built.x86_64;
    const patch = patchFor();
    for (let size = 2048; size <= SMEE_BUFFER; size *= 2) {
      const out = smeeCopy(fullReads(iso.pieces, size), ISO_MAGIC_STRING, patch);
      assert.equal(findAll(out, Buffer.from(ISO_MAGIC_STRING)).length, 0, `${size}-byte buffers`);
      assert.equal(findAll(out, Buffer.from(patch)).length, 2, `${size}-byte buffers`);
    }
    // A virtual-media client asks for ranges starting at any 2048-byte sector before a placeholder.
    for (const offset of iso.magicOffsets) {
      for (let k = 0; k < 20; k++) {
        const from = offset - k * 2048;
        const reads = [...fullReads(iso.pieces, SMEE_BUFFER, from)].slice(0, 3);
        const out = Buffer.concat(smeeCopy(reads, ISO_MAGIC_STRING, patch));
        assert.equal(out.indexOf(ISO_MAGIC_STRING), -1, `range from ${from}`);
        assert.equal(out.indexOf(patch), offset - from, `range from ${from}`);
      }
    }
  });

  test('the helper is faithful to Smee where alignment cannot help: a read boundary inside the placeholder leaves it as it is', () => {
    const iso = built.x86_64;
    const offset = iso.magicOffsets[0] as number;
    const whole = Buffer.concat(iso.pieces);
    const reads = [whole.subarray(offset - 100, offset + 10), whole.subarray(offset + 10, offset + 2000)];
    const out = Buffer.concat(smeeCopy(reads, ISO_MAGIC_STRING, patchFor()));
    assert.equal(out.indexOf(ISO_MAGIC_STRING), 100);
    // And only the first placeholder of a buffer is patched (bytes.Index finds one).
    const two = Buffer.concat([Buffer.from(ISO_MAGIC_STRING), Buffer.from(ISO_MAGIC_STRING)]);
    const once = smeePatchBuffer(two, Buffer.from(ISO_MAGIC_STRING), Buffer.from('x=1'));
    assert.equal(Buffer.from(once).indexOf(ISO_MAGIC_STRING), 1024);
  });

  test('a patch longer than the placeholder (Smee copies it whole) stays on its line', () => {
    const iso = built.x86_64;
    const long = patchFor(Array.from({ length: 40 }, (_, i) => `hook.extra${i}=${'v'.repeat(20)}`));
    assert.ok(long.length > 1400, `${long.length}`);
    const patched = smeeCopy(fullReads(iso.pieces), ISO_MAGIC_STRING, long);
    const dir = extract(save(patched));
    const grub = readFileSync(join(dir, 'BOOT/GRUB/GRUB.CFG'), 'utf8').split('\n');
    const at = grub.findIndex((l) => l.startsWith('\tlinux '));
    assert.equal(grub[at]?.trimEnd(), `\tlinux /VMLINUZ ${CMDLINE} ${long}`);
    assert.equal(grub[at + 1], '\tinitrd /INITRAMFS');
    // ISOLINUX hands the APPEND line over with its spaces: it must stay within the 2046 bytes it
    // passes (the boot test compares /proc/cmdline with this line byte for byte).
    const cfg = readFileSync(join(dir, 'ISOLINUX/ISOLINUX.CFG'), 'utf8').split('\n');
    const append = cfg.find((l) => l.startsWith('  APPEND ')) ?? '';
    assert.ok(append.startsWith(`  APPEND ${CMDLINE} ${long}`), 'the whole patch is on the APPEND line');
    const kernelLine = `BOOT_IMAGE=/VMLINUZ ${append.slice('  APPEND '.length)} initrd=/INITRAMFS`;
    assert.ok(kernelLine.length <= 2046, `${kernelLine.length} bytes`);
  });

  test('the same input gives the same bytes; other content gives another id', () => {
    const hash = (iso: BuiltIso) => {
      const h = createHash('sha256');
      for (const p of iso.pieces) h.update(p);
      return h.digest('hex');
    };
    const again = buildIso(input('x86_64'));
    assert.equal(hash(again), hash(built.x86_64));
    assert.equal(again.id, built.x86_64.id);
    const other = buildIso(input('x86_64', { initramfs: [randomBytes(1000)] }));
    assert.notEqual(other.id, built.x86_64.id);
  });

  test('refuses what would not boot or not keep the command line intact', () => {
    const noSignature = {
      ...loaders.x86_64,
      bios: {
        ...(loaders.x86_64.bios as NonNullable<BootLoaderFiles['bios']>),
        isolinux: randomBytes(38_912),
      },
    };
    noSignature.bios.isolinux.fill(0, 0x40, 0x44);
    const bad: IsoInput[] = [
      input('x86_64', { cmdline: 'password=$secret' }),
      input('x86_64', { cmdline: 'a "quoted" arg' }),
      input('x86_64', { cmdline: 'x'.repeat(1100) }),
      input('x86_64', { cmdline: 'two\nlines' }),
      input('x86_64', { cmdline: 'hostname=café' }),
    ];
    for (const options of bad) {
      assert.throws(
        () => buildIso(options),
        (e: unknown) => isHookError(e) && e.code === 'E_KERNEL',
        String(options.cmdline).slice(0, 40),
      );
    }
    for (const options of [
      input('x86_64', { bootLoaders: noSignature }),
      input('aarch64', { bootLoaders: loaders.x86_64 }),
    ]) {
      assert.throws(
        () => buildIso(options),
        (e: unknown) => isHookError(e) && e.code === 'E_ARCHIVE_FORMAT',
      );
    }
  });

  test('findAll finds matches inside pieces and across piece boundaries', () => {
    const needle = Buffer.from('abcdef');
    const pieces = [Buffer.from('xxabc'), Buffer.from('d'), Buffer.from('efabcdefyabcde'), Buffer.from('f')];
    assert.deepEqual(findAll(pieces, needle), [2, 8, 15]);
    assert.deepEqual(findAll([Buffer.from('nothing here')], needle), []);
  });
});
