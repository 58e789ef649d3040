import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPlatform, selectPlatform } from './platform.ts';
import type { Descriptor } from './types.ts';

const d = (digest: string, platform?: Descriptor['platform']): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest,
  size: 1,
  ...(platform ? { platform } : {}),
});

const index = [
  d('attestation', { os: 'unknown', architecture: 'unknown' }),
  d('amd64', { os: 'linux', architecture: 'amd64' }),
  d('armv7', { os: 'linux', architecture: 'arm', variant: 'v7' }),
  d('arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
  d('windows', { os: 'windows', architecture: 'amd64' }),
  d('none'),
];

describe('selectPlatform', () => {
  it('matches os and architecture, accepting kernel architecture names', () => {
    assert.equal(selectPlatform(index, { architecture: 'amd64' })?.digest, 'amd64');
    assert.equal(selectPlatform(index, { architecture: 'x86_64' })?.digest, 'amd64');
    assert.equal(selectPlatform(index, { os: 'windows', architecture: 'amd64' })?.digest, 'windows');
    assert.equal(selectPlatform(index, { architecture: 'aarch64' })?.digest, 'arm64');
  });
  it('treats arm64 without variant as v8, and other variants strictly', () => {
    const noVariant = [d('plain', { os: 'linux', architecture: 'arm64' })];
    assert.equal(selectPlatform(noVariant, { architecture: 'arm64', variant: 'v8' })?.digest, 'plain');
    assert.equal(selectPlatform(index, { architecture: 'arm', variant: 'v7' })?.digest, 'armv7');
    assert.equal(selectPlatform(index, { architecture: 'arm', variant: 'v6' }), undefined);
    assert.equal(selectPlatform(index, { architecture: 'riscv64' }), undefined);
  });
  it('formats platforms for messages', () => {
    assert.equal(formatPlatform({ architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8');
    assert.equal(formatPlatform(undefined), 'unknown');
  });
});
