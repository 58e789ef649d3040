/**
 * Fuzzing the OCI client's JSON (issue 7): image indexes, manifests and configs from a
 * registry or a layout may be anything. Each reader gives a checked value or E_OCI, and the
 * code that uses the value (platform choice, descriptor checks, diff_id checks) then runs
 * without a TypeError. The registry client is fuzzed end to end against a local server that
 * serves the generated documents with their digests. Inputs: random JSON, documents built
 * from the right keys with wrong-typed values, and mutations of real-shaped documents.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { isHookError } from '../errors.ts';
import { verifyPulledLayers } from './image.ts';
import { parseImageConfig, parseImageIndex, parseImageManifest, parseManifestOrIndex } from './parse.ts';
import { formatPlatform, selectPlatform } from './platform.ts';
import { checkDescriptor, RegistryClient } from './registry.ts';
import { INDEX_MEDIA_TYPES, MEDIA_TYPE } from './types.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** As Docker Hub serves them: a manifest list, a manifest, a config with nulls. */
const INDEX = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.dockerManifestList,
  manifests: [
    {
      mediaType: MEDIA_TYPE.dockerManifest,
      digest: digest('a'),
      size: 527,
      platform: { architecture: 'amd64', os: 'linux' },
    },
    {
      mediaType: MEDIA_TYPE.dockerManifest,
      digest: digest('b'),
      size: 527,
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    },
  ],
};
const MANIFEST = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPE.ociManifest,
  config: { mediaType: MEDIA_TYPE.ociConfig, digest: digest('c'), size: 581 },
  layers: [{ mediaType: MEDIA_TYPE.ociLayerGzip, digest: digest('d'), size: 3_623_807 }],
  annotations: { 'org.opencontainers.image.ref.name': 'v1' },
};
const CONFIG = {
  architecture: 'amd64',
  os: 'linux',
  created: '2025-01-01T00:00:00Z',
  config: {
    Env: ['PATH=/usr/bin'],
    Cmd: ['/bin/sh'],
    Entrypoint: null,
    Labels: null,
    WorkingDir: '',
    User: '',
  },
  rootfs: { type: 'layers', diff_ids: [digest('e')] },
  history: [{ created: '2025-01-01T00:00:00Z', created_by: 'ADD file', empty_layer: false }],
};

/** Any JSON value, biased to the types these documents hold. */
const value = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1.5, 2, 2 ** 53, '', 'linux', 'amd64', digest('f'), 'sha256:', [], {}),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.json().map((text) => JSON.parse(text) as unknown),
);

/** Replaces, deletes or adds one value at a random path of a document. */
function mutateAt(doc: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0 || typeof doc !== 'object' || doc === null) return replacement;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(doc) ? [...doc] : { ...(doc as object) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return copy;
  const key = keys[(path[0] as number) % keys.length] as string;
  const slot = copy as Record<string, unknown>;
  if (remove && path.length === 1) {
    if (Array.isArray(copy)) copy.splice(Number(key), 1);
    else delete slot[key];
    return copy;
  }
  slot[key] = mutateAt(slot[key], path.slice(1), replacement, remove);
  return copy;
}

const mutatedDocument = (seed: unknown) =>
  fc
    .array(fc.tuple(fc.array(fc.nat(), { maxLength: 5 }), value, fc.boolean()), {
      minLength: 1,
      maxLength: 4,
    })
    .map((edits) => edits.reduce((doc, [path, v, remove]) => mutateAt(doc, path, v, remove), seed));

const document = fc.oneof(
  value,
  mutatedDocument(INDEX),
  mutatedDocument(MANIFEST),
  mutatedDocument(CONFIG),
  fc.record(
    { schemaVersion: value, mediaType: value, manifests: value, config: value, layers: value },
    { requiredKeys: [] },
  ),
);

/** The JSON text of a document, sometimes cut short or with garbage appended. */
const documentText = fc
  .tuple(document, fc.nat(), fc.constantFrom('whole', 'cut', 'garbage'))
  .map(([doc, at, how]) => {
    const text = JSON.stringify(doc) ?? 'null';
    if (how === 'cut') return text.slice(0, at % (text.length + 1));
    if (how === 'garbage') return `${text}}`;
    return text;
  });

function valueOrOci<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (isHookError(error) && error.code === 'E_OCI') return undefined;
    throw new Error(`not a HookError E_OCI: ${(error as Error)?.stack ?? String(error)}`);
  }
}

test('the real-shaped documents read back as they are', () => {
  assert.deepEqual(parseImageIndex(JSON.stringify(INDEX), 'index'), INDEX);
  assert.deepEqual(parseImageManifest(JSON.stringify(MANIFEST), 'manifest'), MANIFEST);
  const config = parseImageConfig(JSON.stringify(CONFIG), 'config');
  assert.deepEqual(config.config, { Env: ['PATH=/usr/bin'], Cmd: ['/bin/sh'], WorkingDir: '', User: '' });
  assert.deepEqual(config.rootfs.diff_ids, [digest('e')]);
});

test('indexes and manifests: a checked value or E_OCI, and the value can be used', () => {
  fc.assert(
    fc.property(documentText, (text) => {
      const either = valueOrOci(() => parseManifestOrIndex(text, 'fuzz', INDEX_MEDIA_TYPES));
      if (either !== undefined && 'manifests' in either) {
        const chosen = selectPlatform(either.manifests, { os: 'linux', architecture: 'arm64' });
        formatPlatform(chosen?.platform);
        either.manifests.map((m) => formatPlatform(m.platform));
      } else if (either !== undefined) {
        for (const d of [either.config, ...either.layers]) valueOrOci(() => checkDescriptor(d, 'fuzz'));
      }
      valueOrOci(() => parseImageIndex(text, 'fuzz'));
      valueOrOci(() => parseImageManifest(text, 'fuzz'));
    }),
    { numRuns: 3000 },
  );
});

test('configs: a checked value or E_OCI, and the diff_id check runs on it', () => {
  fc.assert(
    fc.property(documentText, (text) => {
      const config = valueOrOci(() => parseImageConfig(text, 'fuzz'));
      if (config === undefined) return;
      try {
        verifyPulledLayers('fuzz', config, []);
      } catch (error) {
        assert.ok(isHookError(error) && error.code === 'E_OCI', String(error));
      }
    }),
    { numRuns: 3000 },
  );
});

/** A registry that serves whatever document the property gives it, with a correct digest. */
let server: Server;
let host: string;
let served: { top: string; child: string } = { top: '{}', child: '{}' };

before(async () => {
  server = createServer((request, response) => {
    const byDigest = /\/manifests\/sha256:/.test(request.url ?? '');
    const body = Buffer.from(byDigest ? served.child : served.top);
    const sha = createHash('sha256').update(body).digest('hex');
    response.writeHead(200, {
      'content-type': MEDIA_TYPE.ociIndex,
      'docker-content-digest': `sha256:${sha}`,
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('the registry client on served documents: a manifest, or E_OCI/E_CHECKSUM', {
  timeout: 120_000,
}, async () => {
  const client = new RegistryClient({ insecure: true, timeoutMs: 5000 });
  const ref = { registry: host, repository: 'fuzz/image', tag: 'v1' };
  await fc.assert(
    fc.asyncProperty(documentText, documentText, async (top, child) => {
      served = { top, child };
      try {
        await client.getImageManifest(ref, { os: 'linux', architecture: 'amd64' });
      } catch (error) {
        if (!isHookError(error) || !['E_OCI', 'E_CHECKSUM'].includes(error.code)) {
          throw new Error(`not a HookError E_OCI/E_CHECKSUM: ${(error as Error)?.stack ?? String(error)}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});
