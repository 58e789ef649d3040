import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { isHookError } from '../src/errors.ts';
import { startVm } from './helpers/qemu/vm.ts';

function qemuTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('hook-qemu-') && !name.includes('test'));
}

test('startVm refuses invalid options synchronously and leaves no temp dir behind', () => {
  const before = qemuTempDirs().length;
  assert.throws(
    () => startVm({ arch: 'x86_64', kernel: 'k', memoryMiB: 0 }),
    (error: unknown) => isHookError(error) && error.code === 'E_QEMU' && /Invalid memory/.test(error.message),
  );
  assert.ok(qemuTempDirs().length <= before);
});

test('an emulator that cannot be executed: exited resolves non-zero and waitFor rejects', async () => {
  const vm = startVm({ arch: 'x86_64', kernel: 'k', binary: '/nonexistent/qemu-system-x86_64' });
  await assert.rejects(vm.waitFor('anything', { timeoutMs: 10_000 }), /QEMU exited with code \d+ before/);
  assert.notEqual(await vm.exited, 0);
  assert.equal(vm.running, false);
  assert.throws(() => vm.sendLine('x'), /no longer running/);
});
