import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseImageRef, registryHost } from './image-ref.ts';

test('registryHost follows Docker normalisation', () => {
  const cases: [string, string][] = [
    ['ubuntu', 'docker.io'],
    ['ubuntu:24.04', 'docker.io'],
    ['library/ubuntu', 'docker.io'],
    ['tinkerbell/tink-worker:latest', 'docker.io'],
    ['quay.io/tinkerbell/tink-agent:v0.1', 'quay.io'],
    ['10.0.2.2:5000/tink-worker:latest', '10.0.2.2:5000'],
    ['localhost/tink-worker', 'localhost'],
    ['localhost:5000/a/b', 'localhost:5000'],
    ['Registry/x', 'Registry'],
    ['index.docker.io/library/ubuntu', 'docker.io'],
    ['docker.io/library/ubuntu', 'docker.io'],
    ['ghcr.io/tinkerbell/tink-agent@sha256:abcd', 'ghcr.io'],
  ];
  for (const [reference, host] of cases) assert.equal(registryHost(reference), host, reference);
});

test('parseImageRef splits name, tag and digest', () => {
  assert.deepEqual(parseImageRef('10.0.2.2:5000/tink-worker'), {
    registry: '10.0.2.2:5000',
    name: '10.0.2.2:5000/tink-worker',
    tag: 'latest',
  });
  assert.deepEqual(parseImageRef('quay.io/t/tw:v1.2'), {
    registry: 'quay.io',
    name: 'quay.io/t/tw',
    tag: 'v1.2',
  });
  assert.deepEqual(parseImageRef('ghcr.io/t/ta@sha256:00ff'), {
    registry: 'ghcr.io',
    name: 'ghcr.io/t/ta',
    tag: 'sha256:00ff',
  });
  assert.deepEqual(parseImageRef('ubuntu'), { registry: 'docker.io', name: 'ubuntu', tag: 'latest' });
});
