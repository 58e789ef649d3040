/**
 * `hook push` end to end: both architectures built into one folder, pushed by the CLI to
 * Debian's docker-registry on loopback (HTTP Basic, credentials from a Docker config file as
 * `docker login` writes it), then read back with skopeo — the oracle nobody here wrote —
 * `skopeo inspect --raw` for the index and manifests and `skopeo copy --all` into an OCI
 * layout for the blobs, each compared byte for byte with the file it came from.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { startRegistry } from './helpers/registry.ts';

const execFileAsync = promisify(execFile);
const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));
const USER = { username: 'hook-pusher', password: 'push-secret-4711' };

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hook(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOOK, ...args], { env: { ...process.env, CI: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('skopeo', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Two files are the same bytes: sizes equal, then compared chunk by chunk (170 MB never in memory). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  if ((await stat(a)).size !== (await stat(b)).size) return false;
  return (
    (await sha256File(a)) === (await sha256File(b)) &&
    (await execFileAsync('cmp', ['-s', a, b]).then(
      () => true,
      () => false,
    ))
  );
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
  artifactType?: string;
}

test('hook push: both architectures as one OCI index, pulled back by skopeo byte for byte', {
  timeout: 20 * 60_000,
}, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'hook-push-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const outDir = join(work, 'out');
  const started = performance.now();
  // One folder, two architectures, as a release build makes it.
  await build({ arch: 'x86_64', outDir, reporter: silentReporter });
  await build({ arch: 'aarch64', outDir, reporter: silentReporter });
  const built = performance.now();

  const registry = await startRegistry(t, { auth: USER });
  const dockerConfig = join(work, 'docker');
  await mkdir(dockerConfig);
  const auth = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
  await writeFile(
    join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth } } }),
  );
  const env = { DOCKER_CONFIG: dockerConfig };
  const ref = `${registry.host}/hookos/artifacts:test`;

  const pushed = await hook(['push', ref, '--dir', outDir, '--insecure', '--json'], env);
  const pushedAt = performance.now();
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.doesNotMatch(
    pushed.stderr + pushed.stdout,
    new RegExp(USER.password),
    'the password is never printed',
  );
  const result = JSON.parse(pushed.stdout) as {
    reference: string;
    mediaType: string;
    uploadedBytes: number;
    manifests: Array<{ arch: string; digest: string }>;
  };
  assert.equal(result.mediaType, 'application/vnd.oci.image.index.v1+json');

  const creds = `--creds=${USER.username}:${USER.password}`;
  const index = JSON.parse(
    await skopeo('inspect', '--raw', '--tls-verify=false', creds, `docker://${ref}`),
  ) as {
    mediaType: string;
    artifactType: string;
    manifests: Descriptor[];
  };
  assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(index.artifactType, 'application/vnd.hookos.os.v1');
  assert.deepEqual(
    index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
    ['linux/amd64', 'linux/arm64'],
  );
  assert.equal(`${registry.host}/hookos/artifacts@${await digestOfTag(ref, creds)}`, result.reference);

  // The whole artifact through skopeo into an OCI layout: every blob, verified by skopeo.
  const layout = join(work, 'layout');
  await skopeo(
    'copy',
    '--all',
    '--src-tls-verify=false',
    `--src-creds=${USER.username}:${USER.password}`,
    `docker://${ref}`,
    `oci:${layout}:test`,
  );
  const copiedAt = performance.now();
  const titlesByArch: Record<string, string[]> = {};
  let compared = 0;
  for (const entry of index.manifests) {
    const arch = entry.platform?.architecture === 'amd64' ? 'x86_64' : 'aarch64';
    assert.equal(entry.artifactType, 'application/vnd.hookos.os.v1');
    const manifest = JSON.parse(
      await skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        creds,
        `docker://${registry.host}/hookos/artifacts@${entry.digest}`,
      ),
    ) as {
      artifactType: string;
      config: Descriptor;
      layers: Descriptor[];
      annotations?: Record<string, string>;
    };
    assert.equal(manifest.artifactType, 'application/vnd.hookos.os.v1');
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.equal(manifest.config.size, 2);
    assert.match(
      manifest.annotations?.['org.opencontainers.image.created'] ?? '',
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    titlesByArch[arch] = manifest.layers.map(
      (layer) => layer.annotations?.['org.opencontainers.image.title'] ?? '',
    );
    for (const layer of manifest.layers) {
      const title = layer.annotations?.['org.opencontainers.image.title'] ?? '';
      const blob = join(layout, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
      assert.ok(
        await sameBytes(blob, join(outDir, title)),
        `${arch} layer ${title} is the file, byte for byte`,
      );
      assert.equal(layer.size, (await stat(join(outDir, title))).size);
      compared++;
    }
  }
  assert.deepEqual(titlesByArch.x86_64, [
    'vmlinuz-x86_64',
    'initramfs-x86_64',
    'hook-x86_64-efi-initrd.iso',
    'checksum.txt',
    'hook-x86_64.spdx.json',
    'hook-x86_64.lock',
  ]);
  assert.deepEqual(titlesByArch.aarch64, [
    'vmlinuz-aarch64',
    'initramfs-aarch64',
    'dtbs-aarch64.tar.gz',
    'hook-aarch64-efi-initrd.iso',
    'checksum.txt',
    'hook-aarch64.spdx.json',
    'hook-aarch64.lock',
  ]);
  const mediaTypes = await layerMediaTypes(ref, creds, registry.host, index.manifests[1]?.digest ?? '');
  assert.deepEqual(mediaTypes, [
    'application/vnd.hookos.kernel.v1',
    'application/vnd.hookos.initramfs.v1',
    'application/vnd.hookos.dtbs.v1.tar+gzip',
    'application/vnd.efi.iso',
    'text/plain',
    'application/spdx+json',
    'application/vnd.hookos.lock.v1+json',
  ]);

  // Pushing the same folder again changes nothing: same digests, no byte uploaded.
  const again = await hook(['push', ref, '--dir', outDir, '--insecure', '--json'], env);
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout) as typeof result;
  assert.equal(second.reference, result.reference);
  assert.equal(second.uploadedBytes, 0);

  // One architecture: the tag names its manifest, no index; the password from stdin this time.
  const single = `${registry.host}/hookos/artifacts:x86_64`;
  const one = await hook(
    [
      'push',
      single,
      '--dir',
      outDir,
      '--arch',
      'x86_64',
      '--insecure',
      '--json',
      '--username',
      USER.username,
      '--password-stdin',
    ],
    { DOCKER_CONFIG: join(work, 'nowhere') },
    `${USER.password}\n`,
  );
  assert.equal(one.code, 0, one.stderr);
  const top = JSON.parse(
    await skopeo('inspect', '--raw', '--tls-verify=false', creds, `docker://${single}`),
  ) as {
    mediaType: string;
  };
  assert.equal(top.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(
    JSON.parse(one.stdout).manifests[0].digest,
    result.manifests[0]?.digest,
    'the same x86_64 manifest',
  );

  // Without credentials the registry refuses, and the error says what to do.
  const anonymous = await hook(['push', single, '--dir', outDir, '--insecure'], {
    DOCKER_CONFIG: join(work, 'nowhere'),
  });
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /error E_OCI: .*401/);
  assert.match(anonymous.stderr, /hint: .*username/i);

  process.stdout.write(
    `# hook push: 2 builds ${((built - started) / 1000).toFixed(0)} s; push of ${(result.uploadedBytes / 1e6).toFixed(0)} MB ${((pushedAt - built) / 1000).toFixed(1)} s; skopeo copy ${((copiedAt - pushedAt) / 1000).toFixed(1)} s; ${compared} layers compared\n`,
  );
});

async function digestOfTag(ref: string, creds: string): Promise<string> {
  const raw = await skopeo('inspect', '--raw', '--tls-verify=false', creds, `docker://${ref}`);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

async function layerMediaTypes(_ref: string, creds: string, host: string, digest: string): Promise<string[]> {
  const manifest = JSON.parse(
    await skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      creds,
      `docker://${host}/hookos/artifacts@${digest}`,
    ),
  ) as { layers: Descriptor[] };
  return manifest.layers.map((layer) => layer.mediaType);
}

test('checksum.txt guards the push: a file that does not match it is never published', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'hook-push-bad-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await writeFile(join(work, 'vmlinuz-x86_64'), 'kernel');
  await writeFile(join(work, 'initramfs-x86_64'), 'initramfs, changed after the build');
  const sha512 = (text: string) => createHash('sha512').update(text).digest('hex');
  await writeFile(
    join(work, 'checksum.txt'),
    `${sha512('initramfs')}  initramfs-x86_64\n${sha512('kernel')}  vmlinuz-x86_64\n`,
  );
  const registry = await startRegistry(t);
  const result = await hook(['push', `${registry.host}/hookos/bad:1`, '--dir', work, '--insecure'], {
    DOCKER_CONFIG: join(work, 'nowhere'),
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /error E_CHECKSUM: .*initramfs-x86_64 does not match its SHA-512 in checksum\.txt/,
  );
  const tags = await fetch(`${registry.url}/v2/hookos/bad/tags/list`);
  assert.equal(tags.status, 404, 'nothing was pushed');
  await readFile(join(work, 'checksum.txt')); // the folder is left as it was
});
