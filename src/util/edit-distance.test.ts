import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance } from './edit-distance.ts';

test('edit distance counts insertions, deletions, substitutions and transpositions', () => {
  assert.equal(editDistance('systemd', 'systemd'), 0);
  assert.equal(editDistance('systemdd', 'systemd'), 1);
  assert.equal(editDistance('kernal', 'kernel'), 1);
  assert.equal(editDistance('exlcude', 'exclude'), 1, 'a transposition is one edit');
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('a limit cuts the work short and answers limit + 1', () => {
  assert.equal(editDistance('docker.io', 'linux-image-amd64', 2), 3);
  assert.equal(editDistance('abc', 'abcdefgh', 2), 3);
  assert.equal(editDistance('kitten', 'sitting', 3), 3);
  assert.equal(editDistance('kitten', 'sitting', 2), 3);
});
