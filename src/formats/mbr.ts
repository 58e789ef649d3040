/**
 * A DOS master boot record: up to 440 bytes of boot code, the disk signature, four partition
 * entries and the 0x55AA mark. `isohybridMbr` builds the one syslinux's `isohybrid -u` writes
 * into an ISO's system area so that the same image boots from a USB stick:
 *
 * - bytes 0-431: `isohdpfx.bin` (Debian package `isolinux`), which loads the El Torito BIOS
 *   boot image (ISOLINUX) from the 512-byte LBA stored at offset 432 (`isolinux.bin`'s 2048-byte
 *   LBA times 4); 436-439 are the high half of that LBA (zero);
 * - 440: the disk signature; 444-445: zero;
 * - partition 1: active, type 0x00, the whole image from sector 0 (`isohybrid -u` uses type 0
 *   when it adds the EFI partition; Debian's own ISOs are laid out the same way);
 * - partition 2: type 0xEF, the FAT EFI system image inside the ISO, which UEFI firmware boots
 *   from when the medium is a disk (El Torito is read from CDs only).
 *
 * CHS fields use isohybrid's geometry (64 heads, 32 sectors per track) and saturate at
 * cylinder 1023, as firmware reads LBAs anyway.
 */
import { HookError } from '../errors.ts';

export const MBR_SIZE = 512;
export const ISOHYBRID_CODE_SIZE = 432;
const MAX_CODE = 440;
const HEADS = 64;
const SECTORS_PER_TRACK = 32;

export interface MbrPartition {
  bootable?: boolean;
  /** Partition type byte, e.g. 0xEF (EFI system partition). */
  type: number;
  /** First 512-byte sector. */
  start: number;
  /** Length in 512-byte sectors. */
  sectors: number;
}

export interface MbrOptions {
  /** Boot code, at most 440 bytes (432 with an isohybrid LBA field). */
  code?: Uint8Array;
  diskSignature: number;
  partitions: MbrPartition[];
  /** Written at offset 432 (little-endian, 64-bit): the boot image LBA in 512-byte sectors. */
  bootImageLba512?: number;
}

function mbrError(message: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot write the MBR: ${message}`);
}

/** The 3 CHS bytes of an LBA in isohybrid's geometry, saturated at cylinder 1023. */
export function chs(lba: number): [number, number, number] {
  let cylinder = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  let head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  let sector = (lba % SECTORS_PER_TRACK) + 1;
  if (cylinder > 1023) {
    cylinder = 1023;
    head = HEADS - 1;
    sector = SECTORS_PER_TRACK;
  }
  return [head, sector | ((cylinder >> 2) & 0xc0), cylinder & 0xff];
}

export function writeMbr(options: MbrOptions): Uint8Array {
  const mbr = new Uint8Array(MBR_SIZE);
  const view = new DataView(mbr.buffer);
  const code = options.code ?? new Uint8Array(0);
  const codeLimit = options.bootImageLba512 === undefined ? MAX_CODE : ISOHYBRID_CODE_SIZE;
  if (code.byteLength > codeLimit)
    throw mbrError(`boot code of ${code.byteLength} bytes is over ${codeLimit}`);
  mbr.set(code, 0);
  if (options.bootImageLba512 !== undefined) {
    view.setBigUint64(ISOHYBRID_CODE_SIZE, BigInt(options.bootImageLba512), true);
  }
  view.setUint32(440, options.diskSignature >>> 0, true);
  if (options.partitions.length > 4)
    throw mbrError(`${options.partitions.length} partitions; an MBR holds 4`);
  options.partitions.forEach((p, i) => {
    const at = 446 + i * 16;
    if (!Number.isInteger(p.start) || !Number.isInteger(p.sectors) || p.start < 0 || p.sectors < 1) {
      throw mbrError(`partition ${i + 1} has start ${p.start} and ${p.sectors} sectors`);
    }
    if (p.start + p.sectors > 0x100000000) throw mbrError(`partition ${i + 1} ends past 2 TiB`);
    if (!Number.isInteger(p.type) || p.type < 0 || p.type > 0xff) throw mbrError(`partition type ${p.type}`);
    mbr[at] = p.bootable ? 0x80 : 0x00;
    mbr.set(chs(p.start), at + 1);
    mbr[at + 4] = p.type;
    mbr.set(chs(p.start + p.sectors - 1), at + 5);
    view.setUint32(at + 8, p.start, true);
    view.setUint32(at + 12, p.sectors, true);
  });
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  return mbr;
}

export interface IsohybridOptions {
  /** `isohdpfx.bin`: 432 bytes. */
  code: Uint8Array;
  /** LBA (2048-byte sectors) of the El Torito BIOS boot image, `isolinux.bin`. */
  bootImageLba: number;
  /** Size of the whole image in bytes (a multiple of 512). */
  imageBytes: number;
  /** The EFI system image inside the ISO, if any: LBA (2048-byte sectors) and size in bytes. */
  efi?: { lba: number; bytes: number };
  diskSignature: number;
}

/** Signature syslinux's isohybrid checks at offset 0x40 of `isolinux.bin` before patching. */
export const ISOLINUX_HYBRID_SIGNATURE = Uint8Array.of(0xfb, 0xc0, 0x78, 0x70);

export function isohybridMbr(options: IsohybridOptions): Uint8Array {
  if (options.code.byteLength !== ISOHYBRID_CODE_SIZE) {
    throw mbrError(
      `isohybrid boot code is ${options.code.byteLength} bytes, expected ${ISOHYBRID_CODE_SIZE} (isohdpfx.bin)`,
    );
  }
  if (options.imageBytes % 512 !== 0)
    throw mbrError(`image size ${options.imageBytes} is not a multiple of 512`);
  const partitions: MbrPartition[] = [
    { bootable: true, type: 0x00, start: 0, sectors: options.imageBytes / 512 },
  ];
  if (options.efi) {
    partitions.push({ type: 0xef, start: options.efi.lba * 4, sectors: Math.ceil(options.efi.bytes / 512) });
  }
  return writeMbr({
    code: options.code,
    diskSignature: options.diskSignature,
    partitions,
    bootImageLba512: options.bootImageLba * 4,
  });
}
