import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHookError } from '../errors.ts';
import { formatReference, parseReference, registryHost } from './reference.ts';

describe('parseReference', () => {
  const cases: Array<[string, string, string, string | undefined, string | undefined]> = [
    ['ubuntu', 'docker.io', 'library/ubuntu', 'latest', undefined],
    ['ubuntu:22.04', 'docker.io', 'library/ubuntu', '22.04', undefined],
    ['quay.io/tinkerbell/tink-worker:v0.12', 'quay.io', 'tinkerbell/tink-worker', 'v0.12', undefined],
    ['tinkerbell/tink-worker', 'docker.io', 'tinkerbell/tink-worker', 'latest', undefined],
    ['localhost/foo', 'localhost', 'foo', 'latest', undefined],
    ['localhost:5000/foo/bar:1', 'localhost:5000', 'foo/bar', '1', undefined],
    ['127.0.0.1:5000/hook/hello', '127.0.0.1:5000', 'hook/hello', 'latest', undefined],
    ['index.docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['registry:5000/a', 'registry:5000', 'a', 'latest', undefined],
    ['Registry/a', 'Registry', 'a', 'latest', undefined],
    ['[::1]:5000/a', '[::1]:5000', 'a', 'latest', undefined],
    ['a/b/c/d:tag', 'docker.io', 'a/b/c/d', 'tag', undefined],
    ['my_repo/a-b__c.d', 'docker.io', 'my_repo/a-b__c.d', 'latest', undefined],
  ];
  for (const [raw, registry, repository, tag, digest] of cases) {
    it(`parses ${raw}`, () => {
      const ref = parseReference(raw);
      assert.equal(ref.registry, registry);
      assert.equal(ref.repository, repository);
      assert.equal(ref.tag, tag);
      assert.equal(ref.digest, digest);
    });
  }

  const hex = 'a'.repeat(64);
  it('keeps a digest and no default tag', () => {
    const ref = parseReference(`ghcr.io/x/y@sha256:${hex}`);
    assert.deepEqual(ref, { registry: 'ghcr.io', repository: 'x/y', digest: `sha256:${hex}` });
  });
  it('keeps both tag and digest', () => {
    const ref = parseReference(`ubuntu:24.04@sha256:${hex}`);
    assert.deepEqual(ref, {
      registry: 'docker.io',
      repository: 'library/ubuntu',
      tag: '24.04',
      digest: `sha256:${hex}`,
    });
    assert.equal(formatReference(ref), `docker.io/library/ubuntu:24.04@sha256:${hex}`);
  });

  for (const bad of [
    '',
    'Ubuntu',
    'docker.io/UPPER/x',
    'a//b',
    'a:b:c',
    'x:-tag',
    `x@sha256:${'a'.repeat(63)}`,
    `x@sha256:${'A'.repeat(64)}`,
    'x@md5',
    'ex ample.com/a',
    '-bad.com/a',
    '/a',
    'a/',
  ]) {
    it(`rejects ${JSON.stringify(bad)} with E_OCI`, () => {
      assert.throws(
        () => parseReference(bad),
        (error) => isHookError(error) && error.code === 'E_OCI' && error.message.includes('Invalid image'),
      );
    });
  }
});

describe('registryHost', () => {
  it('gives docker.io for bare and two-component names', () => {
    assert.equal(registryHost('ubuntu'), 'docker.io');
    assert.equal(registryHost('tinkerbell/tink-worker:latest'), 'docker.io');
  });
  it('gives the host (with port) for qualified names', () => {
    assert.equal(registryHost('10.0.2.2:5000/tink-worker:latest'), '10.0.2.2:5000');
    assert.equal(registryHost('registry.local/tink-worker'), 'registry.local');
    assert.equal(registryHost('localhost/tink-worker'), 'localhost');
  });
});
