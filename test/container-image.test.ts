/**
 * `hook image build`'s core against the real archive (shared cache): the test action image
 * (test/fixtures/worker/action.yaml) as an OCI layout, read back by skopeo (the oracle), and
 * the same inputs giving the same digest.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { isHookError } from '../src/errors.ts';
import { buildContainerImage, publishImage } from '../src/pipeline/container-image.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';

const run = promisify(execFile);
const SPEC = new URL('./fixtures/worker/action.yaml', import.meta.url).pathname;

test('a spec becomes a one-layer OCI image that skopeo reads, with the image: config', {
  timeout: 300_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hook-container-image-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await buildContainerImage({ specFile: SPEC, arch: 'x86_64', reporter: silentReporter });
  const second = await buildContainerImage({ specFile: SPEC, arch: 'x86_64', reporter: silentReporter });
  assert.equal(first.image.manifest.digest, second.image.manifest.digest, 'reproducible');
  await publishImage(first.image, { ociDir: join(dir, 'oci'), tag: 'action' });

  const inspected = JSON.parse(
    (await run('skopeo', ['inspect', '--config', `oci:${join(dir, 'oci')}:action`])).stdout,
  );
  assert.equal(inspected.architecture, 'amd64');
  assert.deepEqual(inspected.config.Entrypoint, ['/usr/bin/busybox', 'sh', '-c']);
  assert.match(inspected.config.Cmd[0], /mount -t ext4 \/dev\/vda/);
  assert.ok(inspected.config.Env.some((e: string) => e.startsWith('PATH=')));
  assert.equal(inspected.rootfs.diff_ids.length, 1);

  const files = (
    await run('tar', ['-tzf', join(dir, 'oci', 'blobs', ...first.image.layers[0]!.digest.split(':'))])
  ).stdout;
  assert.match(files, /^usr\/bin\/busybox$/m, "busybox-static's file is in the layer");
  assert.match(files, /^usr\/bin\/sh$/m, 'the spec symlink is in the layer');
});

test('publishing needs a destination, and --oci-dir needs a tag', async () => {
  const image = (await buildContainerImage({ specFile: SPEC, arch: 'x86_64', reporter: silentReporter }))
    .image;
  await assert.rejects(publishImage(image, {}), (e) => isHookError(e) && e.code === 'E_USAGE');
  await assert.rejects(
    publishImage(image, { ociDir: '/tmp/x' }),
    (e) => isHookError(e) && /--tag/.test(e.message),
  );
});
