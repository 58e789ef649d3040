/**
 * The ISO's boot loaders, from the real Debian archive through the verified client: the files
 * are where boot-loaders.ts expects them (dpkg-deb as the oracle of the .deb reader), they are
 * what the ISO layout assumes (signed PE images for the right machine, shim's default loader
 * name, ISOLINUX's hybrid signature), and xorriso recognises the ISO's MBR as isohybrid.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Arch } from '../src/arch.ts';
import { fetchPackages } from '../src/debian/fetch.ts';
import { mirrorForSuite } from '../src/debian/load-indexes.ts';
import {
  BOOT_LOADER_SOURCES,
  type BootLoaderRole,
  bootLoaderPackageNames,
  fetchBootLoaders,
} from '../src/pipeline/artifacts/boot-loaders.ts';
import { buildIso } from '../src/pipeline/artifacts/iso.ts';
import { createContext } from '../src/pipeline/context.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';

const MACHINE = { x86_64: 0x8664, aarch64: 0xaa64 };
const DEFAULT_LOADER = { x86_64: '\\grubx64.efi', aarch64: '\\grubaa64.efi' };

/** Machine type and Authenticode certificate table size of a PE32+ image. */
function peInfo(image: Uint8Array): { machine: number; certificateBytes: number } {
  const b = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  assert.equal(b.toString('latin1', 0, 2), 'MZ');
  const pe = b.readUInt32LE(0x3c);
  assert.equal(b.toString('latin1', pe, pe + 4), 'PE\0\0');
  const optional = pe + 24;
  assert.equal(b.readUInt16LE(optional), 0x20b, 'PE32+');
  // Data directory 4 (certificate table) of a PE32+ optional header: offset 112 + 4 × 8.
  return { machine: b.readUInt16LE(pe + 4), certificateBytes: b.readUInt32LE(optional + 144 + 4) };
}

for (const arch of ['x86_64', 'aarch64'] as const satisfies readonly Arch[]) {
  test(`${arch}: boot loaders from Debian packages, as the ISO needs them`, {
    timeout: 5 * 60_000,
  }, async (t) => {
    const ctx = createContext({ arch, reporter: silentReporter });
    const { files, packages } = await fetchBootLoaders({
      arch,
      settings: ctx.settings,
      cacheDir: ctx.cacheDir,
    });
    assert.deepEqual(packages.map((p) => p.name).sort(), bootLoaderPackageNames(arch));

    // The .deb reader took the same bytes dpkg-deb extracts.
    const paths = await fetchPackages(
      packages.map((p) => ({ ...p, origin: { mirror: mirrorForSuite(ctx.settings, p.suite) } })),
      { cacheDir: ctx.cacheDir },
    );
    const byRole: Partial<Record<BootLoaderRole, Uint8Array | undefined>> = {
      grub: files.grub,
      shim: files.shim,
      isolinux: files.bios?.isolinux,
      isohdpfx: files.bios?.isohdpfx,
      ldlinux: files.bios?.ldlinux,
    };
    for (const [role, source] of Object.entries(BOOT_LOADER_SOURCES[arch])) {
      const pkg = packages.find((p) => p.name === source.package);
      assert.ok(pkg, source.package);
      const deb = paths.get(pkg.sha256) as string;
      const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', deb], { maxBuffer: 64 * 1024 * 1024 });
      const fromDpkg = execFileSync('tar', ['-xO', `./${source.path}`], {
        input: tar,
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.ok(
        fromDpkg.equals(Buffer.from(byRole[role as BootLoaderRole] ?? [])),
        `${role}: /${source.path}`,
      );
    }

    // Signed PE images for this machine; shim loads GRUB by the name the FAT image gives it.
    for (const image of [files.grub, files.shim]) {
      assert.ok(image);
      const pe = peInfo(image);
      assert.equal(pe.machine, MACHINE[arch]);
      assert.ok(pe.certificateBytes > 0, 'signed (Authenticode certificate table)');
    }
    assert.ok(Buffer.from(files.shim ?? []).includes(Buffer.from(DEFAULT_LOADER[arch], 'utf16le')));
    if (arch === 'x86_64') {
      assert.ok(files.bios);
      assert.deepEqual([...files.bios.isolinux.subarray(0x40, 0x44)], [0xfb, 0xc0, 0x78, 0x70]);
      assert.equal(files.bios.isohdpfx.byteLength, 432);
      assert.equal(Buffer.from(files.bios.ldlinux.subarray(0, 4)).toString('latin1'), '\x7fELF');
    } else {
      assert.equal(files.bios, undefined);
    }

    // With the real isohdpfx.bin, xorriso recognises the MBR as isohybrid's.
    const iso = buildIso({
      arch,
      vmlinuz: Buffer.from('not a kernel'),
      initramfs: [Buffer.from('not an initramfs')],
      bootLoaders: files,
      sourceDateEpoch: 1_750_000_000,
    });
    const dir = await mkdtemp(join(tmpdir(), 'hook-iso-image-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, iso.name);
    const out = await open(path, 'w');
    for (const piece of iso.pieces) await out.write(piece);
    await out.close();
    const report = execFileSync('xorriso', ['-indev', path, '-report_system_area', 'plain'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(
      report,
      arch === 'x86_64'
        ? /System area summary: MBR isohybrid cyl-align-on/
        : /MBR partition\s+:\s+1\s+0x00\s+0xef/,
    );
  });
}
