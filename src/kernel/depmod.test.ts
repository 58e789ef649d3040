import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHookError } from '../errors.ts';
import { DEPMOD_FILES, generateDepmod, kmodHashOrder, normalizeAlias, superFastHash } from './depmod.ts';
import { readKmodIndex } from './kmod-index.ts';
import { type ModuleInfo, moduleInfoFor, moduleNameFromPath } from './modinfo.ts';

const VERSION = '6.12.0-test';

function mod(path: string, fields: Partial<ModuleInfo> = {}): { path: string; info: ModuleInfo } {
  return { path, info: moduleInfoFor(path, { vermagic: `${VERSION} SMP mod_unload`, ...fields }) };
}

const NO_BUILTIN = { modulesBuiltin: '', modulesBuiltinModinfo: new Uint8Array() };

function text(files: Map<string, Uint8Array>, name: string): string {
  return Buffer.from(files.get(name) as Uint8Array).toString('latin1');
}

// bridge <- br_netfilter, llc <- stp <- bridge, llc <- bridge (as in Linux's net/).
const NET = [
  mod('kernel/net/bridge/br_netfilter.ko.xz', {
    importedSymbols: ['br_fdb_find', 'printk', 'module_layout'],
  }),
  mod('kernel/net/bridge/bridge.ko.xz', {
    exportedSymbols: ['br_fdb_find'],
    importedSymbols: ['stp_proto_register', 'llc_sap_open'],
    aliases: ['rtnl-link-bridge'],
    softdeps: ['pre: stp'],
  }),
  mod('kernel/net/802/stp.ko.xz', {
    exportedSymbols: ['stp_proto_register'],
    importedSymbols: ['llc_sap_open'],
  }),
  mod('kernel/net/llc/llc.ko.xz', { exportedSymbols: ['llc_sap_open', 'llc_sap_close'] }),
];
const NET_ORDER =
  'kernel/net/llc/llc.ko\nkernel/net/802/stp.ko\nkernel/net/bridge/bridge.ko\nkernel/net/bridge/br_netfilter.ko\n';

test('modules.dep lists modules in modules.order order with all dependencies, depmod-sorted', () => {
  const files = generateDepmod(NET, { ...NO_BUILTIN, modulesOrder: NET_ORDER }, VERSION);
  assert.equal(
    text(files, 'modules.dep'),
    [
      'kernel/net/llc/llc.ko.xz:',
      'kernel/net/802/stp.ko.xz: kernel/net/llc/llc.ko.xz',
      'kernel/net/bridge/bridge.ko.xz: kernel/net/802/stp.ko.xz kernel/net/llc/llc.ko.xz',
      'kernel/net/bridge/br_netfilter.ko.xz: kernel/net/bridge/bridge.ko.xz kernel/net/802/stp.ko.xz kernel/net/llc/llc.ko.xz',
      '',
    ].join('\n'),
  );
  const depBin = readKmodIndex(files.get('modules.dep.bin') as Uint8Array);
  assert.deepEqual(depBin.get('stp'), [
    { value: 'kernel/net/802/stp.ko.xz: kernel/net/llc/llc.ko.xz', priority: 1 },
  ]);
  assert.equal(
    text(files, 'modules.alias'),
    '# Aliases extracted from modules themselves.\nalias rtnl-link-bridge bridge\n',
  );
  assert.deepEqual(readKmodIndex(files.get('modules.alias.bin') as Uint8Array).get('rtnl_link_bridge'), [
    { value: 'bridge', priority: 2 },
  ]);
  assert.equal(
    text(files, 'modules.softdep'),
    '# Soft dependencies extracted from modules themselves.\nsoftdep bridge pre: stp\n',
  );
  const symbols = text(files, 'modules.symbols').split('\n');
  assert.equal(symbols[0], '# Aliases for symbols, used by symbol_request().');
  assert.deepEqual(symbols.slice(1, -1).sort(), [
    'alias symbol:br_fdb_find bridge',
    'alias symbol:llc_sap_close llc',
    'alias symbol:llc_sap_open llc',
    'alias symbol:stp_proto_register stp',
  ]);
  assert.deepEqual(readKmodIndex(files.get('modules.symbols.bin') as Uint8Array).get('symbol:llc_sap_open'), [
    { value: 'llc', priority: 0 },
  ]);
  assert.deepEqual([...files.keys()].sort(), [...DEPMOD_FILES].sort());
  assert.equal(text(files, 'modules.order'), NET_ORDER);
});

test("without modules.order, modules come in the order of depmod's name hash table", () => {
  const files = generateDepmod(NET, NO_BUILTIN, VERSION);
  const names = text(files, 'modules.dep')
    .trim()
    .split('\n')
    .map((line) => moduleNameFromPath(line.slice(0, line.indexOf(':'))));
  assert.deepEqual(
    names,
    kmodHashOrder(['br_netfilter', 'bridge', 'stp', 'llc'], (n) => n, 512),
  );
});

test('SuperFastHash and kmod hash order are deterministic and bucket-major', () => {
  assert.equal(superFastHash(''), 0);
  assert.equal(superFastHash('abc'), superFastHash('abc'));
  assert.notEqual(superFastHash('abcd'), superFastHash('abce'));
  const keys = ['a', 'b', 'c', 'llc', 'stp', 'bridge', 'ext4', 'jbd2', 'mbcache', 'crc16'];
  const ordered = kmodHashOrder(keys, (k) => k, 4);
  const buckets = ordered.map((k) => superFastHash(k) & 3);
  assert.deepEqual(
    buckets,
    [...buckets].sort((x, y) => x - y),
  );
});

test('devname, weakdep and builtin indexes', () => {
  const modules = [
    mod('kernel/drivers/block/loop.ko.xz', {
      aliases: ['devname:loop-control', 'char-major-10-237', 'block-major-7-*'],
    }),
    mod('kernel/drivers/fuse.ko.xz', { aliases: ['devname:fuse'] }),
    mod('kernel/drivers/gpu/drm.ko.xz', { weakdeps: ['drm_helper'] }),
  ];
  const builtinModinfo = Buffer.from(
    'ext4.alias=fs-ext4\0ext4.license=GPL\0crc32c_generic.alias=crypto-crc32c\0crc32c_generic.alias=crc32c\0' +
      'odd\0x.alias=pci:v[0-9]*\0y.alias=bad]\0',
    'latin1',
  );
  const files = generateDepmod(
    modules,
    {
      modulesBuiltin: 'kernel/fs/ext4/ext4.ko\nkernel/crypto/crc32c-generic.ko\n\n',
      modulesBuiltinModinfo: builtinModinfo,
    },
    VERSION,
  );
  assert.equal(
    text(files, 'modules.devname'),
    '# Device nodes to trigger on-demand module loading.\nloop loop-control c10:237\n',
  );
  assert.equal(
    text(files, 'modules.weakdep'),
    '# Weak dependencies extracted from modules themselves.\nweakdep drm drm_helper\n',
  );
  const builtin = readKmodIndex(files.get('modules.builtin.bin') as Uint8Array);
  assert.deepEqual([...builtin.keys()].sort(), ['crc32c_generic', 'ext4']);
  const builtinAlias = readKmodIndex(files.get('modules.builtin.alias.bin') as Uint8Array);
  assert.deepEqual(Object.fromEntries([...builtinAlias].map(([k, v]) => [k, v.map((x) => x.value)])), {
    fs_ext4: ['ext4'],
    crypto_crc32c: ['crc32c_generic'],
    crc32c: ['crc32c_generic'],
    // "odd" has no '.', so depmod's reader skips it; "x" follows normally.
    'pci:v[0-9]*': ['x'],
  });
});

test('normalizeAlias turns - into _ outside brackets and rejects unmatched brackets', () => {
  assert.equal(normalizeAlias('pci:v-1[a-z]-x'), 'pci:v_1[a-z]_x');
  assert.equal(normalizeAlias('a]b'), undefined);
  assert.equal(normalizeAlias('a[b'), undefined);
});

test('cycles, duplicate names and foreign modules are errors', () => {
  const cycle = [
    mod('kernel/a.ko', { exportedSymbols: ['fa'], importedSymbols: ['fb'] }),
    mod('kernel/b.ko', { exportedSymbols: ['fb'], importedSymbols: ['fa'] }),
  ];
  assert.throws(
    () => generateDepmod(cycle, NO_BUILTIN, VERSION),
    (e) => isHookError(e) && /cycle: (a, b|b, a)$/.test(e.message),
  );
  assert.throws(
    () => generateDepmod([mod('kernel/x/a.ko'), mod('kernel/y/a.ko')], NO_BUILTIN, VERSION),
    /Two modules are named a/,
  );
  const foreign = mod('kernel/a.ko', { vermagic: '6.1.0-other SMP' });
  assert.throws(
    () => generateDepmod([foreign], NO_BUILTIN, VERSION),
    /built for kernel 6\.1\.0-other, not 6\.12\.0-test/,
  );
});
