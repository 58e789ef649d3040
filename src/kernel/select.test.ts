import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isHookError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import { type ModuleInfo, moduleInfoFor } from './modinfo.ts';
import { selectModules, softdepPre } from './select.ts';

function mod(path: string, fields: Partial<ModuleInfo> = {}): ModuleInfo {
  return moduleInfoFor(path, fields);
}

const ALL = [
  mod('kernel/net/8021q/8021q.ko.xz', { depends: ['garp', 'mrp'] }),
  mod('kernel/net/802/garp.ko.xz', { depends: ['stp', 'llc'] }),
  mod('kernel/net/802/mrp.ko.xz'),
  mod('kernel/net/802/stp.ko.xz', { depends: ['llc'] }),
  mod('kernel/net/llc/llc.ko.xz'),
  mod('kernel/fs/ext4/ext4.ko.xz', { depends: ['jbd2', 'mbcache', 'crc16'], softdeps: ['pre: crc32c'] }),
  mod('kernel/fs/jbd2/jbd2.ko.xz'),
  mod('kernel/fs/mbcache.ko.xz'),
  mod('kernel/lib/crc16.ko.xz'),
  mod('kernel/crypto/crc32c_generic.ko.xz', { aliases: ['crypto-crc32c', 'crc32c'] }),
  mod('kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz'),
  mod('kernel/drivers/net/ethernet/intel/igb/igb.ko.xz', { depends: ['i2c-algo-bit', 'dca'] }),
  mod('kernel/drivers/i2c/algos/i2c-algo-bit.ko.xz'),
  mod('kernel/drivers/dca/dca.ko.xz'),
  mod('kernel/net/netfilter/xt_nat.ko.xz'),
  mod('kernel/net/netfilter/xt_mark.ko.xz'),
];

const names = (mods: ModuleInfo[]) => mods.map((m) => m.name).sort();

test('bare names pull in their depends, transitively', () => {
  assert.deepEqual(names(selectModules(ALL, ['8021q'])), ['8021q', 'garp', 'llc', 'mrp', 'stp']);
});

test('path globs, name globs, - and _ alike', () => {
  assert.deepEqual(names(selectModules(ALL, ['kernel/drivers/net/ethernet/intel/**'])), [
    'dca',
    'e1000e',
    'i2c_algo_bit',
    'igb',
  ]);
  assert.deepEqual(names(selectModules(ALL, ['xt_*'])), ['xt_mark', 'xt_nat']);
  assert.deepEqual(names(selectModules(ALL, ['i2c-algo-bit'])), ['i2c_algo_bit']);
  assert.deepEqual(names(selectModules(ALL, ['kernel/fs/jbd2/*'])), ['jbd2']);
});

test('softdep pre: modules are taken, by name or by alias', () => {
  assert.deepEqual(names(selectModules(ALL, ['ext4'])), [
    'crc16',
    'crc32c_generic',
    'ext4',
    'jbd2',
    'mbcache',
  ]);
  assert.deepEqual(softdepPre(mod('x.ko', { softdeps: ['pre: a b post: c', 'post: d pre: e'] })), [
    'a',
    'b',
    'e',
  ]);
});

test('! excludes what earlier patterns matched, but never a dependency of a selected module', () => {
  assert.deepEqual(names(selectModules(ALL, ['kernel/drivers/net/ethernet/intel/**', '!igb'])), ['e1000e']);
  // The last pattern matching a module decides: an include after the exclusion selects again.
  assert.deepEqual(names(selectModules(ALL, ['!e1000e', 'kernel/drivers/net/ethernet/intel/**'])), [
    'dca',
    'e1000e',
    'i2c_algo_bit',
    'igb',
  ]);
  assert.deepEqual(
    names(
      selectModules(ALL, [
        'kernel/drivers/net/ethernet/intel/**',
        '!kernel/drivers/net/ethernet/intel/**',
        'igb',
      ]),
    ),
    ['dca', 'i2c_algo_bit', 'igb'],
  );
  assert.deepEqual(names(selectModules(ALL, ['igb', '!dca'])), ['dca', 'i2c_algo_bit', 'igb']);
  assert.deepEqual(names(selectModules(ALL, ['xt_*', '!no_such_module'])), ['xt_mark', 'xt_nat']);
});

test('the result keeps the input order', () => {
  const chosen = selectModules(ALL, ['8021q']);
  assert.deepEqual(
    chosen.map((m) => m.path),
    ALL.filter((m) => chosen.includes(m)).map((m) => m.path),
  );
});

test('an unknown name is E_KERNEL with near matches', () => {
  assert.throws(
    () => selectModules(ALL, ['8021', 'ext4']),
    (e) => isHookError(e) && e.code === 'E_KERNEL' && /"8021"/.test(e.message) && /8021q/.test(e.hint ?? ''),
  );
  assert.throws(
    () => selectModules(ALL, ['ext5']),
    (e) => isHookError(e) && /Did you mean ext4/.test(e.hint ?? ''),
  );
  assert.throws(() => selectModules(ALL, ['']), /Empty kernel module pattern/);
  assert.deepEqual(suggest('igbb', ['e1000e', 'ixgbe', 'igc', 'igb']), ['igb', 'igc', 'ixgbe']);
});

test('a depends= naming a module that is not there is an error', () => {
  const broken = [mod('kernel/a.ko', { depends: ['missing'] })];
  assert.throws(() => selectModules(broken, ['a']), /a depends on missing/);
});
