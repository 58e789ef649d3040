/**
 * `hook-<arch>-efi-initrd.iso` (Hook's name for its default ISO flavour, the one Smee's
 * `isoUpstreamURL` points at): a bootable ISO 9660 image holding the kernel and the initramfs,
 * written in TypeScript from the build's artifacts and Debian's boot loaders (boot-loaders.ts),
 * without host tools, root or Docker.
 *
 * - UEFI (x86_64, aarch64), from CD: El Torito EFI entry → FAT image `BOOT/EFI.IMG` with
 *   `EFI/BOOT/BOOTX64.EFI` (shim) + `GRUBX64.EFI` (Debian's signed CD GRUB), resp. AA64.
 *   That GRUB has `/boot/grub` as prefix on the device it was loaded from; when the firmware
 *   hands it the CD, it reads `/boot/grub/grub.cfg` of the ISO 9660 file system.
 * - UEFI from a USB stick (the same bytes written to a disk): MBR partition 2 (type 0xEF) is the
 *   FAT image; GRUB then finds `/boot/grub/grub.cfg` inside the FAT, which searches the disk
 *   for this image's marker file and reads the ISO's grub.cfg.
 * - BIOS (x86_64): El Torito no-emulation entry → ISOLINUX (boot info table patched in), and
 *   the isohybrid MBR (`isohdpfx.bin`) for USB sticks; ISOLINUX reads `/isolinux/isolinux.cfg`.
 *
 * Smee: both boot loader configurations carry, as the kernel command line, Smee's 1024-byte
 * placeholder (`isoMagicString`). Smee proxies the ISO and, in each read buffer that contains
 * the placeholder, overwrites it with spaces and copies its patch over the start. Upstream
 * Hook leaves the placeholder wherever the boot loader configuration happens to fall, so a
 * buffer boundary can split it and that copy goes unpatched. Here each placeholder starts on a
 * 2048-byte boundary of the ISO and the two configurations lie in different 32 KiB windows, so
 * buffers of any power-of-two size from 2 KiB to 32 KiB that start at multiples of their size
 * never split a placeholder nor hold two. After each placeholder the rest of its line is
 * spaces: a patch longer than 1024 bytes (Smee copies it whole) still ends on the same line.
 */
import { createHash } from 'node:crypto';
import type { Arch } from '../../arch.ts';
import { HookError } from '../../errors.ts';
import { writeFat } from '../../formats/fat.ts';
import { type IsoFile, type IsoLayout, SECTOR, writeIso } from '../../formats/iso9660.ts';
import { ISOLINUX_HYBRID_SIGNATURE, isohybridMbr, writeMbr } from '../../formats/mbr.ts';
import type { BootLoaderFiles } from './boot-loaders.ts';

/**
 * Smee's `isoMagicString` (smee/internal/iso, also the `kernel.cmdline` of Hook's
 * linuxkit-templates/hook.template.yaml): 1024 characters Smee replaces with its kernel
 * command line.
 */
export const ISO_MAGIC_STRING =
  '464vn90e7rbj08xbwdjejmdf4it17c5zfzjyfhthbh19eij201hjgit021bmpdb9ctrc87x2ymc8e7icu4ffi15x1hah9iyaiz38ckyap8hwx2vt5rm44ixv4hau8iw718q5yd019um5dt2xpqqa2rjtdypzr5v1gun8un110hhwp8cex7pqrh2ivh0ynpm4zkkwc8wcn367zyethzy7q8hzudyeyzx3cgmxqbkh825gcak7kxzjbgjajwizryv7ec1xm2h0hh7pz29qmvtgfjj1vphpgq1zcbiiehv52wrjy9yq473d9t1rvryy6929nk435hfx55du3ih05kn5tju3vijreru1p6knc988d4gfdz28eragvryq5x8aibe5trxd0t6t7jwxkde34v6pj1khmp50k6qqj3nzgcfzabtgqkmeqhdedbvwf3byfdma4nkv3rcxugaj2d0ru30pa2fqadjqrtjnv8bu52xzxv7irbhyvygygxu1nt5z4fh9w1vwbdcmagep26d298zknykf2e88kumt59ab7nq79d8amnhhvbexgh48e8qc61vq2e9qkihzt1twk1ijfgw70nwizai15iqyted2dt9gfmf2gg7amzufre79hwqkddc1cd935ywacnkrnak6r7xzcz7zbmq3kt04u2hg1iuupid8rt4nyrju51e6uejb2ruu36g9aibmz3hnmvazptu8x5tyxk820g2cdpxjdij766bt2n3djur7v623a2v44juyfgz80ekgfb9hkibpxh3zgknw8a34t4jifhf116x15cei9hwch0fye3xyq0acuym8uhitu5evc4rag3ui0fny3qg4kju7zkfyy8hwh537urd5uixkzwu5bdvafz4jmv7imypj543xg5em8jk8cgk7c4504xdd5e4e71ihaumt6u5u2t1w7um92fepzae8p0vq93wdrd1756npu1pziiur1payc7kmdwyxg3hj5n4phxbc29x0tcddamjrwt260b0w';

/** Where each placeholder starts: a multiple of this many bytes of the ISO. */
export const MAGIC_ALIGNMENT = 2048;
/** Smee's read buffer (`make([]byte, 32*1024)` in its Copy): placeholders never share one. */
export const SMEE_BUFFER_BYTES = 32 * 1024;
/** Debian's x86 and arm64 kernels keep at most this many bytes of command line (COMMAND_LINE_SIZE - 1). */
const KERNEL_CMDLINE_MAX = 2047;
/**
 * ISOLINUX keeps one byte less: its loader cuts the line at the kernel's `cmdline_size` (2047)
 * counting the terminating NUL (measured: a 2047-byte line reached /proc/cmdline without its
 * last character).
 */
const ISOLINUX_CMDLINE_MAX = KERNEL_CMDLINE_MAX - 1;
/** isohybrid pads the image to whole cylinders of its geometry (64 heads × 32 sectors × 512 bytes). */
const HYBRID_PAD = 1024 * 1024;
const WINDOW_SECTORS = SMEE_BUFFER_BYTES / SECTOR;

export interface IsoInput {
  arch: Arch;
  vmlinuz: Uint8Array;
  /** The bytes of initramfs-<arch>, in order (not copied). */
  initramfs: readonly Uint8Array[];
  bootLoaders: BootLoaderFiles;
  /** Kernel arguments before the placeholder (e.g. the spec's kernel.cmdline); Smee's patch follows them. */
  cmdline?: string;
  /** Every date in the image. */
  sourceDateEpoch: number;
}

export interface BuiltIso {
  /** `hook-<arch>-efi-initrd.iso` */
  name: string;
  pieces: Uint8Array[];
  size: number;
  /** Byte offsets of every placeholder in the image. */
  magicOffsets: number[];
  /** 16 hex digits naming this image's contents: the marker file GRUB searches for. */
  id: string;
  layout: IsoLayout;
}

export function isoFileName(arch: Arch): string {
  return `hook-${arch}-efi-initrd.iso`;
}

const PATHS = {
  vmlinuz: 'VMLINUZ',
  initramfs: 'INITRAMFS',
  grubCfg: 'BOOT/GRUB/GRUB.CFG',
  efiImage: 'BOOT/EFI.IMG',
  catalog: 'BOOT/BOOT.CAT',
  isolinuxBin: 'ISOLINUX/ISOLINUX.BIN',
  ldlinux: 'ISOLINUX/LDLINUX.C32',
  isolinuxCfg: 'ISOLINUX/ISOLINUX.CFG',
} as const;

const EFI_NAMES: Record<Arch, { boot: string; grub: string }> = {
  x86_64: { boot: 'BOOTX64.EFI', grub: 'GRUBX64.EFI' },
  aarch64: { boot: 'BOOTAA64.EFI', grub: 'GRUBAA64.EFI' },
};

const encoder = new TextEncoder();

/** The kernel command line does not fit the ISO's boot loaders. */
function isoError(message: string, hint?: string): HookError {
  return new HookError('E_KERNEL', `Cannot build the ISO: ${message}`, hint ? { hint } : {});
}

/** A boot loader is not what the ISO layout relies on. */
function loaderError(message: string, hint: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot build the ISO: ${message}`, { hint });
}

/** The content id: the kernel, the initramfs, the boot loaders and the command line. */
function contentId(input: IsoInput): string {
  const hash = createHash('sha256');
  hash.update(`${input.arch}\0${input.cmdline ?? ''}\0`);
  hash.update(input.vmlinuz);
  for (const piece of input.initramfs) hash.update(piece);
  hash.update(input.bootLoaders.grub);
  if (input.bootLoaders.shim) hash.update(input.bootLoaders.shim);
  return hash.digest('hex').slice(0, 16).toUpperCase();
}

/**
 * A configuration file whose placeholder starts at byte 2048 × k of the file: `head`, then a
 * comment line that fills up to the boundary, then `before` + placeholder + `margin` spaces,
 * then `tail`.
 */
export function withAlignedPlaceholder(
  head: string,
  before: string,
  margin: number,
  tail: string,
  comment: string,
): { text: string; offset: number } {
  const fixed = head.length + before.length;
  // The filler line is `<comment> ` + dashes + `\n`: at least comment.length + 2 bytes.
  const minFiller = comment.length + 2;
  const offset = Math.ceil((fixed + minFiller) / MAGIC_ALIGNMENT) * MAGIC_ALIGNMENT;
  const filler = `${comment} ${'-'.repeat(offset - fixed - minFiller)}\n`;
  const text = `${head}${filler}${before}${ISO_MAGIC_STRING}${' '.repeat(margin)}\n${tail}`;
  if (text.indexOf(ISO_MAGIC_STRING) !== offset) throw new Error('placeholder misplaced');
  return { text, offset };
}

function kernelArgs(cmdline: string | undefined): string {
  const args = (cmdline ?? '').trim();
  // Printable ASCII: one character is one byte, so the placeholder lands where it is counted.
  if (!/^[\x20-\x7e]*$/.test(args)) {
    throw isoError(`the kernel command line "${args}" has characters other than printable ASCII`);
  }
  return args === '' ? '' : `${args} `;
}

/** GRUB's configuration on the ISO 9660 file system (`/boot/grub/grub.cfg`). */
export function grubConfig(id: string, cmdline: string | undefined): { text: string; offset: number } {
  const args = kernelArgs(cmdline);
  if (/["'$\\;|&<>{}#]/.test(args)) {
    throw isoError(
      `GRUB would change the kernel arguments "${args.trim()}"`,
      'Leave out quotes, $, \\, ;, |, &, <, >, {, } and #',
    );
  }
  // GRUB joins arguments with single spaces and prepends `BOOT_IMAGE=/VMLINUZ `: the margin
  // (trailing spaces) costs nothing on the kernel's side.
  const boot = `BOOT_IMAGE=/${PATHS.vmlinuz} `;
  if (boot.length + args.length + ISO_MAGIC_STRING.length > KERNEL_CMDLINE_MAX) {
    throw isoError(`the kernel command line "${args}" leaves no room for Smee's 1024-byte patch`);
  }
  const head =
    '# HookOS: GRUB configuration of the ISO. Smee overwrites the 1024-character string on the\n' +
    '# linux line below with its kernel command line, padded with spaces.\n' +
    `search --no-floppy --file --set=root /HOOK/ID_${id}\n` +
    'set default=0\n' +
    'set timeout=0\n' +
    'menuentry "HookOS" {\n';
  const before = `\tlinux /${PATHS.vmlinuz} ${args}`;
  const margin = MAGIC_ALIGNMENT - ISO_MAGIC_STRING.length - 1;
  return withAlignedPlaceholder(head, before, margin, `\tinitrd /${PATHS.initramfs}\n}\n`, '#');
}

/** What GRUB finds in the FAT image when started from a disk: find this image, read its grub.cfg. */
export function grubRedirect(id: string): string {
  return (
    '# HookOS: started from the EFI system partition of a disk; find the ISO file system.\n' +
    `search --no-floppy --file --set=root /HOOK/ID_${id}\n` +
    'set prefix=($root)/boot/grub\n' +
    'source $prefix/grub.cfg\n'
  );
}

/** ISOLINUX's configuration (`/isolinux/isolinux.cfg`). */
export function isolinuxConfig(cmdline: string | undefined): { text: string; offset: number } {
  const args = kernelArgs(cmdline);
  // ISOLINUX passes the APPEND line as it is, trailing spaces included, after
  // `BOOT_IMAGE=/VMLINUZ ` and before ` initrd=/INITRAMFS`: the whole must fit its limit.
  const fixed =
    `BOOT_IMAGE=/${PATHS.vmlinuz} `.length +
    args.length +
    ISO_MAGIC_STRING.length +
    ` initrd=/${PATHS.initramfs}`.length;
  const margin = Math.min(MAGIC_ALIGNMENT - ISO_MAGIC_STRING.length - 1, ISOLINUX_CMDLINE_MAX - fixed);
  if (margin < 0)
    throw isoError(`the kernel command line "${args}" leaves no room for Smee's 1024-byte patch`);
  const head =
    '# HookOS: ISOLINUX configuration. Smee overwrites the 1024-character string on the APPEND\n' +
    '# line below with its kernel command line, padded with spaces.\n' +
    'SERIAL 0 115200\n' +
    'DEFAULT hook\n' +
    'PROMPT 0\n' +
    'TIMEOUT 0\n' +
    'LABEL hook\n' +
    `  KERNEL /${PATHS.vmlinuz}\n` +
    `  INITRD /${PATHS.initramfs}\n`;
  return withAlignedPlaceholder(head, `  APPEND ${args}`, margin, '', '#');
}

/** Every offset of `needle` in the concatenated pieces, which are searched in place (not joined). */
export function findAll(pieces: readonly Uint8Array[], needle: Uint8Array): number[] {
  const found: number[] = [];
  const n = needle.byteLength;
  let base = 0;
  // The last n - 1 bytes of the stream so far: a match straddling pieces starts there.
  let tail = Buffer.alloc(0);
  for (const piece of pieces) {
    const buf = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (tail.byteLength > 0) {
      const window = Buffer.concat([tail, buf.subarray(0, n - 1)]);
      for (
        let at = window.indexOf(needle);
        at >= 0 && at < tail.byteLength;
        at = window.indexOf(needle, at + 1)
      ) {
        found.push(base - tail.byteLength + at);
      }
    }
    for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + 1)) found.push(base + at);
    tail =
      buf.byteLength >= n - 1
        ? Buffer.from(buf.subarray(buf.byteLength - (n - 1)))
        : Buffer.concat([tail, buf]).subarray(Math.max(0, tail.byteLength + buf.byteLength - (n - 1)));
    base += buf.byteLength;
  }
  return found.sort((a, b) => a - b);
}

export function buildIso(input: IsoInput): BuiltIso {
  const { arch, bootLoaders } = input;
  if (bootLoaders.arch !== arch) {
    throw loaderError(
      `boot loaders for ${bootLoaders.arch} given for an ${arch} ISO`,
      'Fetch them for the same architecture',
    );
  }
  const id = contentId(input);
  const efiNames = EFI_NAMES[arch];
  const grub = grubConfig(id, input.cmdline);
  const efi = writeFat({
    files: bootLoaders.shim
      ? [
          { path: `EFI/BOOT/${efiNames.boot}`, data: bootLoaders.shim },
          { path: `EFI/BOOT/${efiNames.grub}`, data: bootLoaders.grub },
          { path: 'BOOT/GRUB/GRUB.CFG', data: encoder.encode(grubRedirect(id)) },
        ]
      : [
          { path: `EFI/BOOT/${efiNames.boot}`, data: bootLoaders.grub },
          { path: 'BOOT/GRUB/GRUB.CFG', data: encoder.encode(grubRedirect(id)) },
        ],
    label: 'HOOK_EFI',
    volumeId: Number.parseInt(id.slice(0, 8), 16),
    date: input.sourceDateEpoch,
  });

  // Configuration files first, each on its own 32 KiB window; then the rest.
  const files: IsoFile[] = [];
  const bios = arch === 'x86_64' ? bootLoaders.bios : undefined;
  if (bios) {
    const signature = bios.isolinux.subarray(0x40, 0x44);
    if (!ISOLINUX_HYBRID_SIGNATURE.every((b, i) => signature[i] === b)) {
      throw loaderError(
        'isolinux.bin has no isohybrid signature at offset 0x40',
        'Use isolinux.bin of Debian package isolinux',
      );
    }
    files.push(
      {
        path: PATHS.isolinuxCfg,
        data: [encoder.encode(isolinuxConfig(input.cmdline).text)],
        alignSectors: WINDOW_SECTORS,
      },
      { path: PATHS.isolinuxBin, data: [bios.isolinux] },
      { path: PATHS.ldlinux, data: [bios.ldlinux] },
    );
  }
  files.push(
    { path: PATHS.grubCfg, data: [encoder.encode(grub.text)], alignSectors: WINDOW_SECTORS },
    { path: PATHS.efiImage, data: [efi.image] },
    { path: `HOOK/ID_${id}`, data: [encoder.encode(`HookOS ${arch} ${id}\n`)] },
    { path: PATHS.vmlinuz, data: [input.vmlinuz] },
    { path: PATHS.initramfs, data: input.initramfs },
  );
  const diskSignature = Number.parseInt(id.slice(8, 16), 16);
  const image = writeIso({
    volumeId: `HOOKOS_${arch.toUpperCase()}`,
    applicationId: 'HOOK',
    date: input.sourceDateEpoch,
    files,
    boot: {
      catalogPath: PATHS.catalog,
      entries: [
        ...(bios
          ? [{ platform: 'bios' as const, path: PATHS.isolinuxBin, loadSectors: 4, bootInfoTable: true }]
          : []),
        { platform: 'efi', path: PATHS.efiImage },
      ],
    },
    padToBytes: HYBRID_PAD,
    systemArea: (layout) => {
      const efiExtent = layout.files.get(PATHS.efiImage);
      if (!efiExtent) throw isoError('the EFI image is missing from the layout');
      const imageBytes = layout.totalSectors * SECTOR;
      const efiPart = { lba: efiExtent.lba, bytes: efiExtent.size };
      if (bios) {
        const biosExtent = layout.files.get(PATHS.isolinuxBin);
        if (!biosExtent) throw isoError('isolinux.bin is missing from the layout');
        return isohybridMbr({
          code: bios.isohdpfx,
          bootImageLba: biosExtent.lba,
          imageBytes,
          efi: efiPart,
          diskSignature,
        });
      }
      // UEFI only: one partition, the EFI system image, so that a USB stick boots too.
      return writeMbr({
        diskSignature,
        partitions: [{ type: 0xef, start: efiPart.lba * 4, sectors: Math.ceil(efiPart.bytes / 512) }],
      });
    },
  });
  const magicOffsets = findAll(image.pieces, encoder.encode(ISO_MAGIC_STRING));
  checkPlaceholders(magicOffsets, bios ? 2 : 1);
  return {
    name: isoFileName(arch),
    pieces: image.pieces,
    size: image.size,
    magicOffsets,
    id,
    layout: image.layout,
  };
}

/** The guarantees the module comment promises, checked on the image as written. */
function checkPlaceholders(offsets: readonly number[], expected: number): void {
  if (offsets.length !== expected) {
    throw isoError(`Smee's placeholder occurs ${offsets.length} times in the image, expected ${expected}`);
  }
  const windows = new Set(offsets.map((o) => Math.floor(o / SMEE_BUFFER_BYTES)));
  if (offsets.some((o) => o % MAGIC_ALIGNMENT !== 0) || windows.size !== offsets.length) {
    throw isoError(
      `Smee's placeholders at ${offsets.join(', ')} are not aligned to ${MAGIC_ALIGNMENT} bytes in separate 32 KiB windows`,
    );
  }
}
