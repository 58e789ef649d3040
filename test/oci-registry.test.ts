/**
 * OCI images against Debian's real docker-registry (distribution 2.8), with skopeo as an
 * independent client: build from a tree, push, pull by tag and digest, authentication,
 * corrupted blobs, multi-platform indexes, Docker v2 manifests, OCI layout directories.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { isHookError } from '../src/errors.ts';
import { buildImage, pullImage, pushImage, REF_NAME_ANNOTATION, writeOciLayout } from '../src/oci/image.ts';
import { readOciLayout } from '../src/oci/layout.ts';
import { parseReference } from '../src/oci/reference.ts';
import { digestOf, RegistryClient } from '../src/oci/registry.ts';
import { MEDIA_TYPE } from '../src/oci/types.ts';
import { fileNode, symlinkNode, Tree, treePath } from '../src/tree/tree.ts';
import { startRegistry } from './helpers/registry.ts';

const CREATED = 1_700_000_000;
const SKOPEO = '/usr/bin/skopeo';

function helloTree(text = 'hello from hook\n'): Tree {
  const tree = new Tree();
  tree.set(treePath('hello.txt'), fileNode(text));
  tree.set(treePath('greeting'), symlinkNode('hello.txt'));
  return tree;
}

function helloImage(arch: 'amd64' | 'arm64' = 'amd64', text?: string) {
  return buildImage({
    layers: helloTree(text),
    config: {
      entrypoint: ['/bin/cat'],
      cmd: ['/hello.txt'],
      env: { PATH: '/usr/bin:/bin' },
      labels: { b: '2', a: '1' },
    },
    arch,
    created: CREATED,
  });
}

interface TarEntry {
  type: string;
  linkname?: string;
  data: string;
}

async function untar(gzip: Uint8Array): Promise<Map<string, TarEntry>> {
  const extract = tarStream.extract();
  const entries = new Map<string, TarEntry>();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      entries.set(entry.header.name, {
        type: entry.header.type,
        linkname: entry.header.linkname || undefined,
        data: Buffer.concat(chunks).toString('utf8'),
      });
    }
  })();
  extract.end(gunzipSync(gzip));
  await done;
  return entries;
}

function skopeo(args: string[]): string {
  assert.ok(existsSync(SKOPEO), 'skopeo is the oracle here: apt-get install -y skopeo');
  return execFileSync(SKOPEO, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function expectHookError(
  promise: Promise<unknown>,
  check: (error: { code: string; message: string; hint: string | undefined }) => void,
): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isHookError(error), `expected a HookError, got ${String(error)}`);
    check(error);
    return true;
  });
}

describe('OCI images with a real registry', { timeout: 300_000 }, () => {
  it('pushes a tree as an image and pulls it back by tag and by digest', async (t) => {
    const registry = await startRegistry(t);
    const image = await helloImage();
    const pushed = await pushImage(image, `${registry.host}/hook/hello:v1`, { insecure: true });
    assert.equal(pushed.digest, image.manifest.digest);
    assert.deepEqual(Object.values(pushed.blobs), ['uploaded', 'uploaded']);

    for (const ref of [`${registry.host}/hook/hello:v1`, `${registry.host}/hook/hello@${pushed.digest}`]) {
      const pulled = await pullImage(ref, { insecure: true, platform: { architecture: 'amd64' } });
      assert.equal(pulled.manifestDigest, image.manifest.digest);
      assert.equal(pulled.manifestMediaType, MEDIA_TYPE.ociManifest);
      assert.deepEqual(Buffer.from(pulled.configBytes), Buffer.from(image.config.data));
      assert.deepEqual(pulled.config.config?.Entrypoint, ['/bin/cat']);
      assert.deepEqual(pulled.config.config?.Env, ['PATH=/usr/bin:/bin']);
      assert.equal(pulled.layers.length, 1);
      const files = await untar(pulled.layers[0]!.data);
      assert.deepEqual(files.get('hello.txt'), {
        type: 'file',
        linkname: undefined,
        data: 'hello from hook\n',
      });
      assert.deepEqual(files.get('greeting'), { type: 'symlink', linkname: 'hello.txt', data: '' });
    }

    // Pushing the same image again uploads nothing.
    const again = await pushImage(image, `${registry.host}/hook/hello:v2`, { insecure: true });
    assert.deepEqual(Object.values(again.blobs), ['exists', 'exists']);

    // An independent client sees the same image.
    const inspected = JSON.parse(
      skopeo(['inspect', '--tls-verify=false', `docker://${registry.host}/hook/hello:v1`]),
    ) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
      Labels: Record<string, string>;
    };
    assert.equal(inspected.Digest, image.manifest.digest);
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal(inspected.Os, 'linux');
    assert.deepEqual(inspected.Layers, [image.layers[0]!.digest]);
    assert.deepEqual(inspected.Labels, { a: '1', b: '2' });
    // skopeo copy verifies every blob digest on its way.
    const copy = tempDir(t, 'hook-oci-copy-');
    skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/hook/hello:v1`, `oci:${copy}:v1`]);
    const fromLayout = await readOciLayout(copy, { tag: 'v1' });
    assert.equal(fromLayout.manifestDigest, image.manifest.digest);
    assert.equal((await untar(fromLayout.layers[0]!.data)).get('hello.txt')?.data, 'hello from hook\n');
  });

  it('builds byte-identical images from identical inputs', async () => {
    const a = await helloImage();
    const b = await helloImage();
    assert.equal(a.manifest.digest, b.manifest.digest);
    assert.deepEqual(Buffer.from(a.manifest.data), Buffer.from(b.manifest.data));
    const c = await helloImage('amd64', 'other\n');
    assert.notEqual(c.manifest.digest, a.manifest.digest);
  });

  it('fails clearly for a missing tag and an unreachable registry', async (t) => {
    const registry = await startRegistry(t);
    await expectHookError(pullImage(`${registry.host}/hook/none:v1`, { insecure: true }), (error) => {
      assert.equal(error.code, 'E_OCI');
      assert.match(error.message, /hook\/none:v1/);
      assert.match(error.message, /HTTP 404/);
    });
    await expectHookError(pullImage(`${registry.host}/hook/none:v1`), (error) => {
      assert.equal(error.code, 'E_OCI');
      assert.match(error.message, /unreachable/);
      assert.match(error.hint ?? '', /insecure/);
    });
  });

  it('authenticates with htpasswd: refused without credentials, accepted with them', async (t) => {
    const password = 'Pa55-w0rd-that-must-not-leak';
    const registry = await startRegistry(t, { auth: { username: 'alice', password } });
    const image = await helloImage();
    const ref = `${registry.host}/private/hello:v1`;

    await expectHookError(pushImage(image, ref, { insecure: true }), (error) => {
      assert.equal(error.code, 'E_OCI');
      assert.match(error.message, /HTTP 401/);
      assert.ok(error.message.includes(`${registry.host}/private/hello:v1`), error.message);
      assert.match(error.hint ?? '', /username and password/);
    });
    const wrong = 'Wr0ng-password-also-secret';
    await expectHookError(
      pushImage(image, ref, { insecure: true, username: 'alice', password: wrong }),
      (error) => {
        assert.match(error.message, /HTTP 401/);
        assert.ok(!error.message.includes(wrong) && !(error.hint ?? '').includes(wrong));
        assert.ok(!error.message.includes(Buffer.from(`alice:${wrong}`).toString('base64')));
      },
    );
    const logBefore = registry.log();
    assert.ok(!/auth\.user\.name="?alice/.test(logBefore), 'no request was authorized yet');

    const pushed = await pushImage(image, ref, {
      insecure: true,
      username: 'alice',
      password: `${password}\n`,
    });
    assert.equal(pushed.digest, image.manifest.digest);
    assert.match(registry.log(), /auth\.user\.name="?alice/, 'the registry saw alice authenticated');
    const pulled = await pullImage(ref, { insecure: true, username: 'alice', password });
    assert.equal(pulled.manifestDigest, image.manifest.digest);
    await expectHookError(pullImage(ref, { insecure: true }), (error) => {
      assert.match(error.message, /HTTP 401/);
    });
    assert.ok(!registry.log().includes(password), 'the password never shows in the registry log');
  });

  it('answers Bearer token challenges (Docker token protocol) with the scopes it needs', async (t) => {
    const password = 'T0ken-service-secret';
    const registry = await startRegistry(t, { auth: { username: 'bob', password, scheme: 'token' } });
    const image = await helloImage();
    const ref = `${registry.host}/team/app:v1`;

    await expectHookError(pushImage(image, ref, { insecure: true }), (error) => {
      assert.equal(error.code, 'E_OCI');
      assert.match(error.message, /HTTP 401/);
      assert.ok(error.message.includes(ref), error.message);
    });
    assert.ok(registry.tokenRequests.length > 0, 'an anonymous token was asked for');
    assert.ok(registry.tokenRequests.every((request) => !request.authenticated));

    const wrong = 'Not-the-T0ken-password';
    await expectHookError(
      pushImage(image, ref, { insecure: true, username: 'bob', password: wrong }),
      (error) => {
        assert.equal(error.code, 'E_OCI');
        assert.match(error.message, /token service .* HTTP 401/);
        assert.ok(!error.message.includes(wrong));
      },
    );

    registry.tokenRequests.length = 0;
    const pushed = await pushImage(image, ref, { insecure: true, username: 'bob', password });
    assert.equal(pushed.digest, image.manifest.digest);
    assert.ok(registry.tokenRequests.length >= 1);
    for (const request of registry.tokenRequests) {
      assert.equal(request.service, 'hook-test-registry');
      assert.equal(request.account, 'bob');
      assert.ok(request.authenticated);
      assert.deepEqual(request.scopes, ['repository:team/app:pull,push']);
    }
    // One client reuses its token: one token request for the whole push.
    assert.equal(registry.tokenRequests.length, 1);

    const pulled = await pullImage(ref, { insecure: true, username: 'bob', password });
    assert.equal(pulled.manifestDigest, image.manifest.digest);
    assert.deepEqual(registry.tokenRequests.at(-1)?.scopes, ['repository:team/app:pull']);
  });

  it('rejects a blob the registry serves corrupted, naming its digest', async (t) => {
    const registry = await startRegistry(t);
    const image = await helloImage();
    const ref = `${registry.host}/hook/tamper:v1`;
    await pushImage(image, ref, { insecure: true });

    const layerDigest = image.layers[0]!.digest;
    const hex = layerDigest.slice('sha256:'.length);
    const stored = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = readFileSync(stored);
    assert.equal(bytes.byteLength, image.layers[0]!.size);
    bytes[bytes.byteLength - 10] = (bytes[bytes.byteLength - 10] as number) ^ 0x01;
    writeFileSync(stored, bytes);

    await expectHookError(pullImage(ref, { insecure: true }), (error) => {
      assert.equal(error.code, 'E_CHECKSUM');
      assert.match(error.message, /Digest mismatch/);
      assert.ok(error.message.includes(layerDigest), error.message);
    });
  });

  it('selects the platform from an index it pushed', async (t) => {
    const registry = await startRegistry(t);
    const amd = await helloImage('amd64', 'amd64\n');
    const arm = await helloImage('arm64', 'arm64\n');
    const repo = parseReference(`${registry.host}/hook/multi:latest`);
    for (const image of [amd, arm])
      await pushImage(image, { ...repo, tag: undefined, digest: image.manifest.digest }, { insecure: true });
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: [amd, arm].map((image) => ({
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
        platform: image.platform,
      })),
    };
    const client = new RegistryClient({ insecure: true });
    const indexBytes = new TextEncoder().encode(JSON.stringify(index));
    assert.equal(await client.putManifest(repo, indexBytes, MEDIA_TYPE.ociIndex), digestOf(indexBytes));

    const arm64 = await pullImage(repo, { insecure: true, platform: { architecture: 'arm64' } });
    assert.equal(arm64.manifestDigest, arm.manifest.digest);
    assert.equal(arm64.config.architecture, 'arm64');
    assert.equal(arm64.config.variant, 'v8');
    assert.equal((await untar(arm64.layers[0]!.data)).get('hello.txt')?.data, 'arm64\n');
    const amd64 = await pullImage(repo, {
      insecure: true,
      platform: { os: 'linux', architecture: 'x86_64' },
    });
    assert.equal(amd64.manifestDigest, amd.manifest.digest);
    await expectHookError(
      pullImage(repo, { insecure: true, platform: { architecture: 'riscv64' } }),
      (error) => {
        assert.equal(error.code, 'E_OCI');
        assert.match(
          error.message,
          /no image for linux\/riscv64 \(available: linux\/amd64, linux\/arm64\/v8\)/,
        );
      },
    );
    const inspected = JSON.parse(
      skopeo([
        'inspect',
        '--tls-verify=false',
        '--override-arch',
        'arm64',
        `docker://${registry.host}/hook/multi:latest`,
      ]),
    ) as { Digest: string; Architecture: string; Layers: string[] };
    assert.equal(inspected.Digest, digestOf(indexBytes), 'skopeo names the index');
    assert.equal(inspected.Architecture, 'arm64');
    assert.deepEqual(inspected.Layers, [arm.layers[0]!.digest]);
  });

  it('mounts blobs from another repository instead of uploading them', async (t) => {
    const registry = await startRegistry(t);
    const image = await helloImage();
    await pushImage(image, `${registry.host}/hook/source:v1`, { insecure: true });
    const pushed = await pushImage(image, `${registry.host}/hook/target:v1`, {
      insecure: true,
      mountFrom: 'hook/source',
    });
    assert.deepEqual(Object.values(pushed.blobs), ['mounted', 'mounted']);
    const pulled = await pullImage(`${registry.host}/hook/target:v1`, { insecure: true });
    assert.equal(pulled.manifestDigest, image.manifest.digest);
  });

  it('writes a valid OCI layout that skopeo reads and copies, also as Docker v2 manifests', async (t) => {
    const registry = await startRegistry(t);
    const dir = tempDir(t, 'hook-oci-layout-');
    const image = await helloImage();
    await writeOciLayout(image, dir, { tag: 'v1' });
    const arm = await helloImage('arm64');
    await writeOciLayout(arm, dir, { tag: 'arm' });
    await writeOciLayout(image, dir, { tag: 'v1' }); // rewriting a tag replaces its entry

    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), {
      imageLayoutVersion: '1.0.0',
    });
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; size: number; annotations: Record<string, string> }>;
    };
    assert.deepEqual(
      index.manifests.map((m) => m.annotations[REF_NAME_ANNOTATION]),
      ['arm', 'v1'],
    );
    const blobPath = (digest: string) => join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const readVerified = (descriptor: { digest: string; size: number }) => {
      const data = readFileSync(blobPath(descriptor.digest));
      assert.equal(data.byteLength, descriptor.size);
      assert.equal(digestOf(data), descriptor.digest);
      return data;
    };
    const v1 = index.manifests.find((m) => m.annotations[REF_NAME_ANNOTATION] === 'v1')!;
    const manifest = JSON.parse(readVerified(v1).toString('utf8')) as {
      config: { digest: string; size: number };
      layers: Array<{ digest: string; size: number }>;
    };
    const config = JSON.parse(readVerified(manifest.config).toString('utf8')) as {
      rootfs: { diff_ids: string[] };
    };
    assert.deepEqual(
      manifest.layers.map((layer) => digestOf(gunzipSync(readVerified(layer)))),
      config.rootfs.diff_ids,
    );
    // Two images of three blobs each, sharing their (identical) layer.
    assert.equal(image.layers[0]!.digest, arm.layers[0]!.digest);
    assert.equal(readdirSync(join(dir, 'blobs', 'sha256')).length, 5);
    assert.ok(
      readdirSync(join(dir, 'blobs', 'sha256')).every((name) =>
        statSync(blobPath(`sha256:${name}`)).isFile(),
      ),
    );

    const readBack = await readOciLayout(dir, { tag: 'arm', platform: { architecture: 'arm64' } });
    assert.equal(readBack.manifestDigest, arm.manifest.digest);
    assert.equal(readBack.config.architecture, 'arm64');
    await expectHookError(readOciLayout(dir, { tag: 'nope' }), (error) => {
      assert.equal(error.code, 'E_OCI');
      assert.match(error.message, /tag "nope"/);
    });

    const inspected = JSON.parse(skopeo(['inspect', `oci:${dir}:v1`])) as {
      Digest: string;
      Layers: string[];
    };
    assert.equal(inspected.Digest, image.manifest.digest);
    assert.deepEqual(inspected.Layers, [image.layers[0]!.digest]);

    // skopeo converts it to Docker v2 media types on the way; we pull that back.
    skopeo([
      'copy',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${dir}:v1`,
      `docker://${registry.host}/hook/docker:v1`,
    ]);
    const pulled = await pullImage(`${registry.host}/hook/docker:v1`, { insecure: true });
    assert.equal(pulled.manifestMediaType, MEDIA_TYPE.dockerManifest);
    assert.equal(pulled.layers[0]!.descriptor.mediaType, MEDIA_TYPE.dockerLayerGzip);
    assert.equal(pulled.layers[0]!.descriptor.digest, image.layers[0]!.digest);
    assert.equal((await untar(pulled.layers[0]!.data)).get('hello.txt')?.data, 'hello from hook\n');

    // A corrupted blob in the layout is refused by name.
    const configPath = blobPath(image.config.digest);
    writeFileSync(configPath, readFileSync(configPath, 'utf8').replace('amd64', 'AMD64'));
    await expectHookError(readOciLayout(dir, { tag: 'v1' }), (error) => {
      assert.equal(error.code, 'E_CHECKSUM');
      assert.ok(error.message.includes(image.config.digest), error.message);
    });
  });
});
