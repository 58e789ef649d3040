import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editDistance } from './suggest.ts';

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

test('suggest: one ranker for every "did you mean"', async () => {
  const { suggest, didYouMean } = await import('./suggest.ts');
  // A typo, a missing suffix (shared prefix), a name that contains the word, case ignored.
  assert.deepEqual(suggest('systemdd', ['systemd', 'systemd-sysv', 'udev']), ['systemd', 'systemd-sysv']);
  assert.deepEqual(suggest('linux-image', ['linux-image-amd64', 'linux-headers-amd64']), [
    'linux-image-amd64',
  ]);
  assert.deepEqual(suggest('8021', ['8021q', 'e1000e']), ['8021q']);
  assert.equal(didYouMean('Docker', ['docker', 'podman']), 'docker');
  assert.deepEqual(suggest('zzzzzz', ['docker', 'podman']), [], 'nothing close: no suggestion');
  assert.equal(
    suggest(
      'a',
      Array.from({ length: 20 }, (_, i) => `a${i}`),
      3,
    ).length,
    3,
    'at most max',
  );
});
