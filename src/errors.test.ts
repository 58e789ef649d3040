import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HookError, redactSecrets, registerSecret } from './errors.ts';

// The registry is process-wide: each test registers values no other test uses.

test('a short registered secret is masked as a whole token, whatever its length', () => {
  registerSecret('q');
  registerSecret('zk');
  assert.equal(redactSecrets('login q failed: "zk" rejected'), 'login *** failed: "***" rejected');
  assert.equal(redactSecrets('user:zk@reg.lan'), 'user:***@reg.lan');
  const error = new HookError('E_OCI', 'push to reg.lan with password zk failed', { hint: 'check q' });
  assert.equal(error.message, 'push to reg.lan with password *** failed');
  assert.equal(error.hint, 'check ***');
});

test('a short secret inside a longer word is left alone (no *** every few letters)', () => {
  registerSecret('qu');
  assert.equal(redactSecrets('quay.io/quux requires a quota'), 'quay.io/quux requires a quota');
});

test('long secrets are masked even inside words; URL userinfo and password= are masked without registering', () => {
  registerSecret('s3cr3t-value');
  assert.equal(redactSecrets('xs3cr3t-valuey'), 'x***y');
  assert.equal(redactSecrets('https://u:p@reg.lan/v2/'), 'https://***@reg.lan/v2/');
  assert.equal(redactSecrets('GET /token?password=x1&scope=pull'), 'GET /token?password=***&scope=pull');
  assert.equal(redactSecrets('registry_password=ab next'), 'registry_password=*** next');
});
