/**
 * The checks that need a package's file list: kernel module patterns against the kernel's
 * module files, matched exactly as the kernel stage matches them, and near matches as hints.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import fc from 'fast-check';
import { moduleInfoFor } from '../kernel/modinfo.ts';
import { selectModules } from '../kernel/select.ts';
import { checkModulePatterns, modulePathsOf, modulePatternProblems } from './checks.ts';
import { parseSpec, SpecError } from './load.ts';

const MODULES = [
  'kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz',
  'kernel/drivers/net/ethernet/intel/igb/igb.ko.xz',
  'kernel/drivers/net/virtio_net.ko.xz',
  'kernel/drivers/nvme/host/nvme.ko.xz',
  'kernel/drivers/nvme/host/nvme-core.ko.xz',
  'kernel/drivers/scsi/sd_mod.ko.xz',
  'kernel/net/8021q/8021q.ko.xz',
  'kernel/net/bridge/br_netfilter.ko.xz',
  'kernel/net/netfilter/xt_conntrack.ko.xz',
  'kernel/fs/ext4/ext4.ko.xz',
];

function specWith(modules: string[]) {
  const text = `packages: [systemd]\nkernel:\n  modules:\n${modules.map((m) => `    - ${JSON.stringify(m)}\n`).join('')}`;
  return parseSpec(text, 'hook.yaml', tmpdir());
}

function failure(modules: string[]): SpecError {
  try {
    checkModulePatterns(specWith(modules), MODULES);
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return error;
  }
  assert.fail('no problem reported');
}

test('patterns that match modules pass, by path, by name (- and _ alike) and by name glob', () => {
  assert.doesNotThrow(() =>
    checkModulePatterns(
      specWith([
        'kernel/drivers/net/ethernet/**',
        'nvme-core',
        'nvme_core',
        'xt_*',
        '!kernel/drivers/scsi/**',
        '8021q',
      ]),
      MODULES,
    ),
  );
});

test('a pattern that matches nothing is E_SPEC at kernel.modules[i], with near matches; an exclusion may match nothing', () => {
  const error = failure([
    'kernel/drivers/nvme/**',
    'kernel/driver/net/**',
    'kernel/drivers/nvme/*.ko',
    'e1000',
    'virtio-nt',
    'zz_*',
    '!kernel/fs/btrfs/**',
  ]);
  assert.deepEqual(error.message.split('\n'), [
    'hook.yaml:5:7: kernel.modules[1]: "kernel/driver/net/**" matches no module of the kernel package',
    'hook.yaml:6:7: kernel.modules[2]: "kernel/drivers/nvme/*.ko" matches no module of the kernel package',
    'hook.yaml:7:7: kernel.modules[3]: no kernel module named "e1000" in the kernel package',
    'hook.yaml:8:7: kernel.modules[4]: no kernel module named "virtio-nt" in the kernel package',
    'hook.yaml:9:7: kernel.modules[5]: "zz_*" matches no module name of the kernel package',
  ]);
  assert.equal(
    error.hint,
    [
      'There is no kernel/driver/ in the kernel package; did you mean "kernel/drivers/net/**"?',
      '2 modules under kernel/drivers/nvme/, e.g. kernel/drivers/nvme/host/nvme.ko.xz, kernel/drivers/nvme/host/nvme-core.ko.xz; module files end in .ko, .ko.xz or .ko.zst',
      'Did you mean e1000e? (It may also be built into the kernel.)',
      'Did you mean virtio_net? (It may also be built into the kernel.)',
      'Module names are file names without .ko*, with "_" for "-"',
    ].join('\n'),
  );
});

test('modulePathsOf takes the module files of a kernel package, relative to lib/modules/<version>/', () => {
  assert.deepEqual(
    modulePathsOf([
      { path: 'boot/vmlinuz-6.12.0-amd64', type: 'file' },
      { path: 'usr/lib/modules/6.12.0-amd64/kernel/fs/ext4/ext4.ko.xz', type: 'file' },
      { path: './lib/modules/6.12.0-amd64/kernel/net/8021q/8021q.ko', type: 'file' },
      { path: 'usr/lib/modules/6.12.0-amd64/modules.builtin', type: 'file' },
      { path: 'usr/lib/modules/6.12.0-amd64/kernel', type: 'dir' },
    ]),
    ['kernel/fs/ext4/ext4.ko.xz', 'kernel/net/8021q/8021q.ko'],
  );
});

test('a pattern is reported exactly when the kernel stage would select nothing for it', () => {
  const all = MODULES.map((path) => moduleInfoFor(path));
  const segment = fc.constantFrom(
    'kernel',
    'drivers',
    'net',
    'nvme',
    'host',
    'fs',
    'ext4',
    'intel',
    '*',
    '**',
    'x',
  );
  const pattern = fc.oneof(
    fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/')),
    fc.constantFrom(
      'nvme',
      'nvme-core',
      'e1000e',
      'e1000',
      'xt_*',
      'x*',
      '8021q',
      'br-netfilter',
      'ext*',
      'sd_mod',
    ),
  );
  const located = {
    place: (docPath: readonly (string | number)[]) => ({ file: 'hook.yaml', line: 1, col: 1, docPath }),
  };
  fc.assert(
    fc.property(pattern, (p) => {
      const reported = modulePatternProblems(located, [p], MODULES).length > 0;
      let selected: number;
      try {
        selected = selectModules(all, [p]).length;
      } catch {
        selected = 0; // an unknown module name
      }
      assert.equal(reported, selected === 0, p);
    }),
    { numRuns: 500 },
  );
});
