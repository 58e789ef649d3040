import assert from 'node:assert/strict';
import { test } from 'node:test';
import { archOption, debianArch, parseArch } from './arch.ts';
import { isHookError } from './errors.ts';

test('--arch takes either naming; anything else is one usage error with one hint', () => {
  assert.equal(archOption('x86_64'), 'x86_64');
  assert.equal(archOption('arm64'), 'aarch64');
  assert.equal(debianArch(archOption('amd64')), 'amd64');
  assert.equal(parseArch('riscv64'), undefined);
  assert.throws(
    () => archOption('riscv64'),
    (e) => isHookError(e) && e.code === 'E_USAGE' && /x86_64 or aarch64/.test(e.hint ?? ''),
  );
});
