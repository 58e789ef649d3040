import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isHookError } from '../src/errors.ts';
import { ElfFile } from '../src/formats/elf.ts';
import { isModulePath, moduleNameFromPath, parseModinfo, readModuleInfo } from '../src/kernel/modinfo.ts';

const work = mkdtempSync(join(tmpdir(), 'hook-modinfo-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** `struct modversion_info`: 8-byte CRC, 56-byte NUL-padded name. */
function versionEntry(crc: number, name: string): string {
  return `  .quad ${crc}\n  .ascii "${name}"\n  .zero ${56 - name.length}\n`;
}

/** A module-shaped object file assembled by GNU as (an oracle for the ELF layout). */
function assemble(name: string, source: string): Uint8Array {
  const asm = join(work, `${name}.s`);
  const obj = join(work, `${name}.ko`);
  writeFileSync(asm, source);
  execFileSync('as', ['--64', '-o', obj, asm]);
  return readFileSync(obj);
}

const DEMO = `
  .section .modinfo,"a"
  .asciz "license=GPL"
  .asciz "alias=pci:v00008086d000010D3sv*sd*bc*sc*i*"
  .asciz "alias=net-pf-17"
  .asciz "softdep=pre: crc32c post: other"
  .asciz "firmware=e1000e/fw-1.bin"
  .asciz "firmware=e1000e/fw-2.bin"
  .byte 0, 0, 0
  .asciz "depends=mii,i2c-algo-bit"
  .asciz "weakdep=helper"
  .asciz "flag"
  .asciz "vermagic=6.12.0-test SMP preempt mod_unload modversions "
  .section __versions,"a"
  .balign 8
${versionEntry(0x1111, 'module_layout')}${versionEntry(0x2222, 'mii_read')}${versionEntry(0x3333, 'i2c_bit_add_bus')}
  .text
  .globl demo_export
demo_export:
  call mii_read
  call i2c_bit_add_bus
  call mii_read
  ret
  .globl __crc_demo_export
  .set __crc_demo_export, 0x12345678
`;

test('reads .modinfo, exports and imports of an assembled module as libkmod does', () => {
  const info = readModuleInfo('kernel/drivers/net/demo-net.ko', assemble('demo', DEMO));
  assert.equal(info.name, 'demo_net');
  assert.deepEqual(info.aliases, ['pci:v00008086d000010D3sv*sd*bc*sc*i*', 'net-pf-17']);
  assert.deepEqual(info.depends, ['mii', 'i2c-algo-bit']);
  assert.deepEqual(info.softdeps, ['pre: crc32c post: other']);
  assert.deepEqual(info.weakdeps, ['helper']);
  assert.deepEqual(info.firmware, ['e1000e/fw-1.bin', 'e1000e/fw-2.bin']);
  assert.equal(info.vermagic, '6.12.0-test SMP preempt mod_unload modversions ');
  assert.deepEqual(info.modinfo.at(-2), ['flag', '']);
  assert.deepEqual(info.exportedSymbols, ['demo_export']);
  // Undefined symbols in symbol-table order, then __versions entries nothing referenced.
  const undefinedByReadelf = execFileSync('readelf', ['-sW', join(work, 'demo.ko')], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => / UND \S/.test(line))
    .map((line) => line.trim().split(/\s+/).at(-1));
  assert.deepEqual(info.importedSymbols, [...undefinedByReadelf, 'module_layout']);
  assert.deepEqual(new Set(undefinedByReadelf), new Set(['mii_read', 'i2c_bit_add_bus']));
});

test('falls back to __ksymtab_strings when no __crc_ symbol exists', () => {
  const source = `
  .section __ksymtab_strings,"a"
  .byte 0
  .asciz "first_export"
  .asciz "second_export"
  .section .modinfo,"a"
  .asciz "name=plain"
`;
  const info = readModuleInfo('kernel/plain.ko', assemble('plain', source));
  assert.deepEqual(info.exportedSymbols, ['first_export', 'second_export']);
  assert.deepEqual(info.importedSymbols, []);
  assert.deepEqual(info.depends, []);
  assert.equal(info.vermagic, undefined);
});

test('section names agree with readelf', () => {
  const bytes = assemble('demo', DEMO);
  const ours = new ElfFile(bytes, 'demo.ko').sections.map((s) => s.name).filter((n) => n !== '');
  const theirs = execFileSync('readelf', ['-SW', join(work, 'demo.ko')], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*\[\s*\d+\]\s+(\S+)/.exec(line)?.[1])
    .filter((n): n is string => n !== undefined && n !== 'NULL');
  assert.deepEqual(ours, theirs);
});

test('rejects what is not a 64-bit little-endian ELF file', () => {
  const notElf = new TextEncoder().encode('hello, this is not a kernel module at all, not even close to one');
  assert.throws(
    () => readModuleInfo('kernel/x.ko', notElf),
    (e) => isHookError(e) && e.code === 'E_KERNEL',
  );
  const elf32 = Uint8Array.from(assemble('demo', DEMO));
  elf32[4] = 1;
  assert.throws(() => readModuleInfo('kernel/x.ko', elf32), /not a 64-bit ELF/);
  const bigEndian = Uint8Array.from(assemble('demo', DEMO));
  bigEndian[5] = 2;
  assert.throws(() => readModuleInfo('kernel/x.ko', bigEndian), /not a little-endian/);
});

test('module names and file names follow kmod', () => {
  assert.equal(moduleNameFromPath('kernel/sound/pci/hda/snd-hda-intel.ko.xz'), 'snd_hda_intel');
  assert.equal(moduleNameFromPath('8021q.ko'), '8021q');
  assert.ok(isModulePath('kernel/fs/ext4/ext4.ko.xz'));
  assert.ok(isModulePath('kernel/fs/ext4/ext4.ko.zst'));
  assert.ok(!isModulePath('modules.order'));
});

test('parseModinfo skips padding and keeps values with = intact', () => {
  const bytes = new TextEncoder().encode('\0\0a=1\0\0\0b=x=y\0c\0');
  assert.deepEqual(parseModinfo(bytes), [
    ['a', '1'],
    ['b', 'x=y'],
    ['c', ''],
  ]);
});
