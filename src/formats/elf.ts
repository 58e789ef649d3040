/**
 * Just enough of ELF64 little-endian (x86_64, aarch64) to read what depmod reads from kernel
 * modules (section contents by name, the symbol table) and what the early boot needs from
 * programs (their interpreter and shared libraries).
 */
import { type ErrorCode, HookError } from '../errors.ts';

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  /** STB_* binding: 0 local, 1 global, 2 weak. */
  bind: number;
  type: number;
  /** Section index; 0 (SHN_UNDEF) for symbols the module imports. */
  shndx: number;
}

export const SHN_UNDEF = 0;
export const STB_WEAK = 2;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const SECTION_HEADER_SIZE = 64;
const SYMBOL_SIZE = 24;
const DYNAMIC_SIZE = 16;
const DT_NULL = 0n;
const DT_NEEDED = 1n;

export class ElfFile {
  readonly bytes: Uint8Array;
  readonly machine: number;
  readonly sections: ElfSection[];
  private readonly view: DataView;
  private readonly source: string;
  private readonly errorCode: ErrorCode;
  private readonly what: string;

  /** `source` names the file in error messages; kernel modules by default. */
  constructor(bytes: Uint8Array, source: string, options: { errorCode?: ErrorCode; what?: string } = {}) {
    this.bytes = bytes;
    this.source = source;
    this.errorCode = options.errorCode ?? 'E_KERNEL';
    this.what = options.what ?? 'kernel module';
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.checkIdent();
    this.machine = this.view.getUint16(18, true);
    this.sections = this.readSections();
  }

  /** The contents of the first section called `name`, or undefined. */
  section(name: string): Uint8Array | undefined {
    const found = this.sections.find((s) => s.name === name);
    return found === undefined ? undefined : this.slice(found.offset, found.size, name);
  }

  /** The program interpreter (`.interp`, e.g. `/lib64/ld-linux-x86-64.so.2`), if any. */
  interpreter(): string | undefined {
    const interp = this.section('.interp');
    return interp === undefined ? undefined : cString(interp, 0);
  }

  /** The shared libraries this file needs (`DT_NEEDED` entries of `.dynamic`), in order. */
  neededLibraries(): string[] {
    const dynamic = this.section('.dynamic');
    const dynstr = this.section('.dynstr');
    if (dynamic === undefined) return [];
    if (dynstr === undefined) this.fail('.dynamic without .dynstr');
    if (dynamic.byteLength % DYNAMIC_SIZE !== 0)
      this.fail(`.dynamic size ${dynamic.byteLength} is not a multiple of ${DYNAMIC_SIZE}`);
    const view = new DataView(dynamic.buffer, dynamic.byteOffset, dynamic.byteLength);
    const needed: string[] = [];
    for (let off = 0; off < dynamic.byteLength; off += DYNAMIC_SIZE) {
      const tag = view.getBigUint64(off, true);
      if (tag === DT_NULL) break;
      if (tag !== DT_NEEDED) continue;
      const nameOff = Number(view.getBigUint64(off + 8, true));
      if (nameOff >= dynstr.byteLength) this.fail(`DT_NEEDED offset ${nameOff} is outside .dynstr`);
      needed.push(cString(dynstr, nameOff));
    }
    return needed;
  }

  /**
   * The `.symtab` entries after the null symbol at index 0, in table order; only those
   * `select` accepts (judged before their names are decoded, which is most of the cost).
   */
  symbols(
    select: (shndx: number, strtab: Uint8Array, nameOffset: number) => boolean = () => true,
  ): ElfSymbol[] {
    const symtab = this.section('.symtab');
    const strtab = this.section('.strtab');
    if (symtab === undefined || strtab === undefined) return [];
    if (symtab.byteLength % SYMBOL_SIZE !== 0)
      this.fail(`.symtab size ${symtab.byteLength} is not a multiple of 24`);
    const view = new DataView(symtab.buffer, symtab.byteOffset, symtab.byteLength);
    const out: ElfSymbol[] = [];
    for (let off = SYMBOL_SIZE; off < symtab.byteLength; off += SYMBOL_SIZE) {
      const nameOff = view.getUint32(off, true);
      if (nameOff >= strtab.byteLength) this.fail(`symbol name offset ${nameOff} is outside .strtab`);
      const shndx = view.getUint16(off + 6, true);
      if (!select(shndx, strtab, nameOff)) continue;
      const info = view.getUint8(off + 4);
      out.push({
        name: cString(strtab, nameOff),
        bind: info >> 4,
        type: info & 0xf,
        shndx,
        value: view.getBigUint64(off + 8, true),
      });
    }
    return out;
  }

  private checkIdent(): void {
    if (this.bytes.byteLength < 64 || !ELF_MAGIC.every((b, i) => this.bytes[i] === b))
      this.fail('not an ELF file');
    if (this.bytes[4] !== ELFCLASS64) this.fail('not a 64-bit ELF file');
    if (this.bytes[5] !== ELFDATA2LSB) this.fail('not a little-endian ELF file');
  }

  private readSections(): ElfSection[] {
    const shoff = Number(this.view.getBigUint64(40, true));
    const shentsize = this.view.getUint16(58, true);
    const shnum = this.view.getUint16(60, true);
    const shstrndx = this.view.getUint16(62, true);
    if (shentsize !== SECTION_HEADER_SIZE) this.fail(`unexpected section header size ${shentsize}`);
    if (shoff + shnum * SECTION_HEADER_SIZE > this.bytes.byteLength)
      this.fail('section headers run past the end');
    const raw: Array<{ nameOff: number; type: number; offset: number; size: number }> = [];
    for (let i = 0; i < shnum; i++) {
      const base = shoff + i * SECTION_HEADER_SIZE;
      raw.push({
        nameOff: this.view.getUint32(base, true),
        type: this.view.getUint32(base + 4, true),
        offset: Number(this.view.getBigUint64(base + 24, true)),
        size: Number(this.view.getBigUint64(base + 32, true)),
      });
    }
    const names = raw[shstrndx];
    if (names === undefined) this.fail(`section name table index ${shstrndx} is out of range`);
    const nameTable = this.slice(names.offset, names.size, '.shstrtab');
    return raw.map((s) => ({
      name: cString(nameTable, s.nameOff),
      type: s.type,
      offset: s.offset,
      size: s.size,
    }));
  }

  private slice(offset: number, size: number, what: string): Uint8Array {
    if (offset + size > this.bytes.byteLength) this.fail(`section ${what} runs past the end of the file`);
    return this.bytes.subarray(offset, offset + size);
  }

  private fail(why: string): never {
    throw new HookError(this.errorCode, `Cannot read ${this.what} ${this.source}: ${why}`);
  }
}

/** The NUL-terminated string at `offset` (the rest of the buffer when unterminated). */
export function cString(buf: Uint8Array, offset: number): string {
  let end = buf.indexOf(0, offset);
  if (end < 0) end = buf.byteLength;
  return latin1String(buf.subarray(offset, end));
}

/**
 * Bytes to a string one code unit per byte (true ISO-8859-1, unlike TextDecoder's 'latin1'),
 * so `Buffer.from(s, 'latin1')` gives the same bytes back whatever the module holds.
 */
export function latin1String(bytes: Uint8Array): string {
  const CHUNK = 8192;
  if (bytes.byteLength <= CHUNK) return String.fromCharCode(...bytes);
  let out = '';
  for (let i = 0; i < bytes.byteLength; i += CHUNK)
    out += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return out;
}
