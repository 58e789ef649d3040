import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findQemuBinary } from '../src/qemu/host.ts';

test('findQemuBinary finds the installed emulators', () => {
  assert.match(findQemuBinary('x86_64'), /\/qemu-system-x86_64$/);
  assert.match(findQemuBinary('aarch64'), /\/qemu-system-aarch64$/);
});
