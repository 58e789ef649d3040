import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isHookError } from '../errors.ts';
import { chooseAccel, findExecutable, findQemuBinary, kvmUsable, qemuInstallHint } from './host.ts';

test('findQemuBinary: missing emulator is E_QEMU with an apt-get hint', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'hook-path-'));
  try {
    for (const [arch, pkg] of [
      ['x86_64', 'qemu-system-x86'],
      ['aarch64', 'qemu-system-arm'],
    ] as const) {
      assert.throws(
        () => findQemuBinary(arch, empty),
        (error: unknown) =>
          isHookError(error) &&
          error.code === 'E_QEMU' &&
          error.message.includes('not on PATH') &&
          error.hint === `Install QEMU: apt-get install ${pkg}`,
      );
      assert.equal(qemuInstallHint(arch), `Install QEMU: apt-get install ${pkg}`);
    }
  } finally {
    await rm(empty, { recursive: true });
  }
});

test('findExecutable honours the executable bit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hook-path-'));
  try {
    await writeFile(join(dir, 'plain'), 'x', { mode: 0o644 });
    await writeFile(join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    assert.equal(findExecutable('plain', dir), undefined);
    assert.equal(findExecutable('tool', `/nonexistent:${dir}`), join(dir, 'tool'));
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('kvmUsable is false for a foreign architecture or a missing device', () => {
  assert.equal(kvmUsable(process.arch === 'arm64' ? 'x86_64' : 'aarch64'), false);
  assert.equal(kvmUsable(process.arch === 'arm64' ? 'aarch64' : 'x86_64', '/nonexistent/kvm'), false);
});

test('chooseAccel: TCG by default, HOOK_QEMU_ACCEL selects, invalid values are refused', () => {
  assert.equal(chooseAccel('x86_64', {}), 'tcg');
  assert.equal(chooseAccel('x86_64', { HOOK_QEMU_ACCEL: 'tcg' }), 'tcg');
  assert.equal(chooseAccel('x86_64', { HOOK_QEMU_ACCEL: 'kvm' }), 'kvm');
  const foreign = process.arch === 'arm64' ? 'x86_64' : 'aarch64';
  assert.equal(chooseAccel(foreign, { HOOK_QEMU_ACCEL: 'auto' }), 'tcg');
  assert.throws(() => chooseAccel('x86_64', { HOOK_QEMU_ACCEL: 'hvf' }), /must be "tcg", "kvm" or "auto"/);
});
