import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firmwareNeeded, selectFirmwareFiles } from './firmware.ts';
import { type ModuleInfo, moduleInfoFor } from './modinfo.ts';

function mod(path: string, firmware: string[]): ModuleInfo {
  return moduleInfoFor(path, { firmware });
}

test('firmwareNeeded: every firmware= name, sorted, once', () => {
  const modules = [
    mod('kernel/bnx2.ko', ['bnx2/bnx2-mips-09-6.2.1b.fw', 'bnx2/bnx2-rv2p-09-6.0.17.fw']),
    mod('kernel/tg3.ko', ['tigon/tg3.bin', 'bnx2/bnx2-mips-09-6.2.1b.fw']),
    mod('kernel/e1000e.ko', []),
  ];
  assert.deepEqual(firmwareNeeded(modules), [
    'bnx2/bnx2-mips-09-6.2.1b.fw',
    'bnx2/bnx2-rv2p-09-6.0.17.fw',
    'tigon/tg3.bin',
  ]);
});

test('selectFirmwareFiles: exact names, compressed variants, globs from modules and from the spec', () => {
  const available = [
    'tigon/tg3.bin',
    'tigon/tg3_tso.bin',
    'bnx2/bnx2-mips-09-6.2.1b.fw.xz',
    'rtl_nic/rtl8168g-2.fw',
    'rtl_nic/rtl8125a-3.fw',
    'iwlwifi-cc-a0-77.ucode',
    'intel/ice/ddp/ice.pkg',
    'amdgpu/navi10_sos.bin',
  ];
  const needed = ['tigon/tg3.bin', 'bnx2/bnx2-mips-09-6.2.1b.fw', 'rtl_nic/rtl8168*.fw', 'missing.bin'];
  assert.deepEqual(selectFirmwareFiles(available, needed, ['intel/ice/**']), [
    'bnx2/bnx2-mips-09-6.2.1b.fw.xz',
    'intel/ice/ddp/ice.pkg',
    'rtl_nic/rtl8168g-2.fw',
    'tigon/tg3.bin',
  ]);
  assert.deepEqual(selectFirmwareFiles(available, [], []), []);
  assert.deepEqual(selectFirmwareFiles(available, [], ['*.ucode']), ['iwlwifi-cc-a0-77.ucode']);
});
