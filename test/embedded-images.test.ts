/**
 * The images stage against Debian's real docker-registry: a multi-arch reference gives the
 * target's image, the lock pins the digests (a moved tag changes nothing, and a build with the
 * lock and the cache needs no registry at all), credentials come from Docker's config.json,
 * damaged cache entries are fetched again, and problems are spec errors at the entry.
 * The booted result (Docker running the worker from the store) is test/embedded-debug-boot.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { casPath } from '../src/debian/cache.ts';
import { buildImage, type OciImage, pushImage } from '../src/oci/image.ts';
import { parseReference } from '../src/oci/reference.ts';
import { RegistryClient } from '../src/oci/registry.ts';
import { MEDIA_TYPE } from '../src/oci/types.ts';
import { createContext } from '../src/pipeline/context.ts';
import { type LockFile, serializeLock } from '../src/pipeline/lockfile.ts';
import type { Reporter } from '../src/pipeline/reporter.ts';
import { imagesStage } from '../src/pipeline/stages/images.ts';
import { fileNode, Tree, type TreeNode, treePath } from '../src/tree/tree.ts';
import { startRegistry } from './helpers/registry.ts';
import { tempDirSync } from './helpers/temp-dir.ts';

const CREATED = 1_700_000_000;

function image(arch: 'amd64' | 'arm64', text: string): Promise<OciImage> {
  const tree = new Tree();
  tree.set(treePath('etc/which'), fileNode(text));
  return buildImage({ layers: tree, arch, created: CREATED, config: { cmd: ['/bin/true'] } });
}

/** Pushes both images and an OCI index naming them under `tag`; returns the index digest. */
async function pushMultiArch(
  host: string,
  repository: string,
  tag: string,
  images: OciImage[],
): Promise<string> {
  const manifests = [];
  for (const [i, one] of images.entries()) {
    await pushImage(one, `${host}/${repository}:arch-${i}-${tag}`, { insecure: [host] });
    manifests.push({
      mediaType: one.manifest.mediaType,
      digest: one.manifest.digest,
      size: one.manifest.size,
      platform: one.platform,
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }));
  return new RegistryClient({ insecure: [host] }).putManifest(
    parseReference(`${host}/${repository}:${tag}`),
    index,
    MEDIA_TYPE.ociIndex,
  );
}

interface Run {
  warnings: string[];
  lock: LockFile;
  store: Map<string, TreeNode>;
}

function workspace() {
  const dir = tempDirSync('hook-embedded-');
  return {
    dir,
    cacheDir: join(dir, 'cache'),
    lockPath: join(dir, 'hook-x86_64.lock'),
    specFile: join(dir, 'hook.yaml'),
  };
}

/** Runs the stage on a spec (packages are not resolved: the lock's packages stay empty). */
async function runStage(
  ws: ReturnType<typeof workspace>,
  yaml: string,
  env: Record<string, string> = {},
): Promise<Run> {
  writeFileSync(ws.specFile, `packages: [systemd]\n${yaml}`);
  const warnings: string[] = [];
  const reporter: Reporter = {
    stage: () => () => {},
    progress: () => {},
    info: () => {},
    warn: (m) => warnings.push(m),
  };
  const ctx = createContext({
    specFile: ws.specFile,
    arch: 'x86_64',
    cacheDir: ws.cacheDir,
    lockFile: ws.lockPath,
    reporter,
  });
  const lock: LockFile = {
    lockfileVersion: 1,
    arch: 'amd64',
    requestHash: '',
    sourceDateEpoch: 0,
    packages: [],
  };
  const saved = { ...process.env };
  Object.assign(process.env, { DOCKER_CONFIG: join(ws.dir, 'no-docker-config') }, env);
  try {
    const result = await imagesStage(ctx, lock);
    // What the artifacts stage does: the lock as the stage left it.
    writeFileSync(ws.lockPath, serializeLock(lock));
    return { warnings, lock, store: new Map(result.segment?.entries ?? []) };
  } finally {
    process.env = saved;
  }
}

/** Every entry as plain values (bytes as hex), for comparing two stores. */
const snapshot = (run: Run) =>
  [...run.store].map(([path, node]) => [
    path,
    JSON.stringify({
      ...node,
      content: node.kind === 'file' ? Buffer.from(node.content.data).toString('hex') : undefined,
    }),
  ]);
const contentOf = (run: Run, path: string) => {
  const node = run.store.get(path as ReturnType<typeof treePath>);
  assert.ok(node?.kind === 'file', `${path} is in the store`);
  return Buffer.from(node.content.data).toString('utf8');
};
const repositories = (run: Run) =>
  JSON.parse(contentOf(run, 'var/lib/docker/image/overlay2/repositories.json')).Repositories as Record<
    string,
    Record<string, string>
  >;
const whichFiles = (run: Run) =>
  [...run.store]
    .filter(([path]) => path.endsWith('/diff/etc/which'))
    .map(([, node]) => (node.kind === 'file' ? Buffer.from(node.content.data).toString() : ''));

test('multi-arch reference: the target architecture, pinned in the lock; offline rebuild from lock and cache', async (t) => {
  const registry = await startRegistry(t);
  const ws = workspace();
  const [amd64, arm64] = await Promise.all([image('amd64', 'amd64 v1\n'), image('arm64', 'arm64 v1\n')]);
  const indexDigest = await pushMultiArch(registry.host, 'tools/multi', 'v1', [arm64, amd64]);
  const spec = `images:\n  - ref: ${registry.host}/tools/multi:v1\n    tag: tools/multi:embedded\n`;

  const first = await runStage(ws, spec);
  assert.deepEqual(first.lock.images, [
    {
      ref: `${registry.host}/tools/multi:v1`,
      digest: indexDigest,
      manifest: amd64.manifest.digest,
      platform: 'linux/amd64',
    },
  ]);
  assert.deepEqual(whichFiles(first), ['amd64 v1\n'], 'the amd64 image, though the index lists arm64 first');
  const id = `sha256:${amd64.config.digest.slice(7)}`;
  assert.deepEqual(repositories(first), {
    [`${registry.host}/tools/multi`]: {
      [`${registry.host}/tools/multi:v1`]: id,
      [`${registry.host}/tools/multi@${indexDigest}`]: id,
    },
    'tools/multi': { 'tools/multi:embedded': id },
  });
  assert.equal(
    contentOf(first, `var/lib/docker/image/overlay2/imagedb/content/sha256/${amd64.config.digest.slice(7)}`),
    Buffer.from(amd64.config.data).toString(),
  );

  // The tag moves; the lock keeps the build on what it pinned, without asking the registry.
  const [amd64v2, arm64v2] = await Promise.all([image('amd64', 'amd64 v2\n'), image('arm64', 'arm64 v2\n')]);
  await pushMultiArch(registry.host, 'tools/multi', 'v1', [amd64v2, arm64v2]);
  await registry.stop();
  const offline = await runStage(ws, spec);
  assert.deepEqual(offline.lock.images, first.lock.images);
  assert.deepEqual(whichFiles(offline), ['amd64 v1\n']);
  assert.deepEqual(snapshot(offline), snapshot(first), 'the same store, byte for byte');
});

test('a moved tag is followed when the lock does not pin the reference; a damaged cached blob is fetched again', async (t) => {
  const registry = await startRegistry(t);
  const ws = workspace();
  const spec = `images:\n  - ref: ${registry.host}/tools/single:1\n`;
  await pushImage(await image('amd64', 'first\n'), `${registry.host}/tools/single:1`, {
    insecure: [registry.host],
  });
  assert.deepEqual(whichFiles(await runStage(ws, spec)), ['first\n']);

  const second = await image('amd64', 'second\n');
  await pushImage(second, `${registry.host}/tools/single:1`, { insecure: [registry.host] });
  writeFileSync(
    ws.lockPath,
    serializeLock({ lockfileVersion: 1, arch: 'amd64', requestHash: '', sourceDateEpoch: 0, packages: [] }),
  );
  const moved = await runStage(ws, spec);
  assert.deepEqual(whichFiles(moved), ['second\n']);
  assert.equal(moved.lock.images?.[0]?.manifest, second.manifest.digest);

  const layer = second.layers[0];
  assert.ok(layer);
  const cached = casPath(ws.cacheDir, layer.digest.slice(7));
  writeFileSync(cached, Buffer.concat([readFileSync(cached), Buffer.from('x')]));
  const repaired = await runStage(ws, spec);
  assert.deepEqual(whichFiles(repaired), ['second\n']);
  assert.match(
    repaired.warnings.join('\n'),
    new RegExp(`cache entry for .*blob ${layer.digest} .* is damaged`),
  );
  assert.deepEqual(readFileSync(cached), Buffer.from(layer.data), 'the cache holds the right bytes again');
});

test("credentials from Docker's config.json; a registry refusing them or a wrong architecture is an error at the entry", async (t) => {
  const registry = await startRegistry(t, { auth: { username: 'builder', password: 'hunter2-embedded' } });
  const ws = workspace();
  const ref = `${registry.host}/private/tool:1`;
  await pushImage(await image('amd64', 'private\n'), ref, {
    insecure: [registry.host],
    username: 'builder',
    password: 'hunter2-embedded',
  });
  await pushImage(await image('arm64', 'arm only\n'), `${registry.host}/private/armonly:1`, {
    insecure: [registry.host],
    username: 'builder',
    password: 'hunter2-embedded',
  });
  const config = join(ws.dir, 'docker');
  const auth = (password: string) => Buffer.from(`builder:${password}`).toString('base64');
  const spec = `images:\n  - ref: ${registry.host}/private/armonly:1\n  - ref: ${ref}\n`;
  mkdirSync(config);
  writeFileSync(
    join(config, 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth: auth('wrong') } } }),
  );
  await assert.rejects(
    runStage(ws, `images:\n  - ref: ${ref}\n`, { DOCKER_CONFIG: config }),
    (error: Error) => {
      assert.match(
        error.message,
        /hook\.yaml:3:10: images\[0\]\.ref: Cannot .*private\/tool:1: .*(401|authenticate)/,
      );
      assert.ok(
        !error.message.includes('wrong') && !error.message.includes('hunter2'),
        'no password in the message',
      );
      return true;
    },
  );
  writeFileSync(
    join(config, 'config.json'),
    JSON.stringify({ auths: { [`https://${registry.host}`]: { auth: auth('hunter2-embedded') } } }),
  );
  assert.deepEqual(whichFiles(await runStage(ws, `images:\n  - ref: ${ref}\n`, { DOCKER_CONFIG: config })), [
    'private\n',
  ]);
  await assert.rejects(runStage(ws, spec, { DOCKER_CONFIG: config }), (error: Error) => {
    assert.match(
      error.message,
      /hook\.yaml:3:10: images\[0\]\.ref: Cannot embed .*armonly:1: it is an image for linux\/arm64\/v8, the OS is linux\/amd64/,
    );
    return true;
  });
});
