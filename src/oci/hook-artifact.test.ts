import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  artifactIndex,
  artifactManifest,
  createdAnnotation,
  EMPTY_CONFIG,
  fileMediaType,
  parseChecksums,
} from './hook-artifact.ts';
import { parseManifestOrIndex } from './parse.ts';
import { INDEX_MEDIA_TYPES } from './types.ts';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

const x86 = {
  arch: 'x86_64' as const,
  files: [
    { name: 'vmlinuz-x86_64', size: 10, digest: digest(1) },
    { name: 'initramfs-x86_64', size: 20, digest: digest(2) },
    { name: 'checksum.txt', size: 3, digest: digest(3) },
  ],
  annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', 'a.first': 'x' },
};

test('the empty config is the two bytes {} and its digest', () => {
  assert.equal(new TextDecoder().decode(EMPTY_CONFIG.data), '{}');
  assert.equal(sha256(EMPTY_CONFIG.data), EMPTY_CONFIG.digest);
});

test('a manifest per architecture: artifactType, empty config, one titled layer per file, sorted annotations', () => {
  const built = artifactManifest(x86, sha256);
  assert.equal(built.digest, sha256(built.bytes));
  assert.equal(built.size, built.bytes.byteLength);
  const json = JSON.parse(new TextDecoder().decode(built.bytes));
  assert.equal(json.schemaVersion, 2);
  assert.equal(json.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(json.artifactType, 'application/vnd.hookos.os.v1');
  assert.deepEqual(json.config, { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: 2 });
  assert.deepEqual(
    json.layers.map((l: { mediaType: string; annotations: Record<string, string> }) => [
      l.mediaType,
      l.annotations['org.opencontainers.image.title'],
    ]),
    [
      ['application/vnd.hookos.kernel.v1', 'vmlinuz-x86_64'],
      ['application/vnd.hookos.initramfs.v1', 'initramfs-x86_64'],
      ['text/plain', 'checksum.txt'],
    ],
  );
  assert.deepEqual(Object.keys(json.annotations), ['a.first', 'org.opencontainers.image.created']);
  // Our own strict reader accepts it as an OCI manifest.
  const parsed = parseManifestOrIndex(
    built.bytes,
    'the artifact manifest',
    INDEX_MEDIA_TYPES,
    built.mediaType,
  );
  assert.ok('layers' in parsed);
  // Deterministic: the same input gives the same bytes.
  assert.deepEqual(artifactManifest(x86, sha256).bytes, built.bytes);
});

test('the index names each manifest with its platform', () => {
  const arm = {
    arch: 'aarch64' as const,
    files: [{ name: 'dtbs-aarch64.tar.gz', size: 5, digest: digest(4) }],
    annotations: {},
  };
  const manifests = [
    { arch: 'x86_64' as const, manifest: artifactManifest(x86, sha256) },
    { arch: 'aarch64' as const, manifest: artifactManifest(arm, sha256) },
  ];
  const index = artifactIndex(manifests, {}, sha256);
  const json = JSON.parse(new TextDecoder().decode(index.bytes));
  assert.equal(json.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(json.annotations, undefined, 'no empty annotations object');
  assert.deepEqual(
    json.manifests.map((m: { digest: string; platform: unknown; artifactType: string }) => [
      m.digest,
      m.platform,
    ]),
    [
      [manifests[0]?.manifest.digest, { architecture: 'amd64', os: 'linux' }],
      [manifests[1]?.manifest.digest, { architecture: 'arm64', os: 'linux' }],
    ],
  );
  assert.equal(fileMediaType('dtbs-aarch64.tar.gz', 'aarch64'), 'application/vnd.hookos.dtbs.v1.tar+gzip');
  assert.equal(
    fileMediaType('dtbs-aarch64.tar.gz', 'x86_64'),
    undefined,
    'another arch’s file is not this one’s',
  );
  assert.equal(fileMediaType('hook_x86_64.tar.gz', 'x86_64'), undefined, 'the bundle is not published');
});

test('created from SOURCE_DATE_EPOCH in RFC 3339; checksum.txt as sha512sum writes it', () => {
  assert.equal(createdAnnotation(1_700_000_000), '2023-11-14T22:13:20Z');
  const a = 'a'.repeat(128);
  const b = 'b'.repeat(128);
  const sums = parseChecksums(
    `${a}  vmlinuz-x86_64\n${b} *initramfs-x86_64\nnot a line\n${'c'.repeat(64)}  short\n`,
  );
  assert.deepEqual(
    [...sums],
    [
      ['vmlinuz-x86_64', a],
      ['initramfs-x86_64', b],
    ],
  );
});
