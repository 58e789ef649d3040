/**
 * `hook image build`: a container image from a spec (hook.yaml schema, `kernel` ignored), made
 * by a second list of the same stages as the OS (spec, resolve, fetch, rootfs, the spec's
 * files and units), then written as an OCI layout and/or pushed to a registry.
 */
import { writeFile } from 'node:fs/promises';
import { type Arch, debianArch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { buildImage, type OciImage, type PushResult, pushImage, writeOciLayout } from '../oci/image.ts';
import { parseReference } from '../oci/reference.ts';
import type { Spec } from '../specfile/schema.ts';
import { formatSize } from '../util/size.ts';
import { createContext } from './context.ts';
import { serializeLock } from './lockfile.ts';
import type { Reporter } from './reporter.ts';
import { applySpec } from './stages/configure.ts';
import { fetchLocked } from './stages/fetch.ts';
import { installPackages } from './stages/install.ts';
import { resolvePackages } from './stages/resolve.ts';

export interface ContainerImageOptions {
  specFile: string;
  arch?: Arch | undefined;
  cacheDir?: string | undefined;
  mirror?: string | undefined;
  /** Read (and, after a fresh resolution, write) this lock; without it nothing is written. */
  lockFile?: string | undefined;
  updateLock?: boolean | undefined;
  reporter: Reporter;
}

export interface ContainerImageResult {
  image: OciImage;
  arch: Arch;
  packages: number;
  /** Uncompressed bytes of file content in the layer. */
  contentBytes: number;
}

/** The image's one layer is the spec's packages and files; its config comes from `image:`. */
export async function buildContainerImage(options: ContainerImageOptions): Promise<ContainerImageResult> {
  const ctx = createContext({
    specFile: options.specFile,
    arch: options.arch,
    cacheDir: options.cacheDir,
    mirror: options.mirror,
    lockFile: options.lockFile,
    // Without a lock file of its own, an image is always resolved afresh.
    updateLock: options.lockFile === undefined || options.updateLock,
    reporter: options.reporter,
  });
  const lock = await resolvePackages(ctx, { kernel: false });
  if (options.lockFile !== undefined) await writeFile(options.lockFile, serializeLock(lock));
  const paths = await fetchLocked(ctx, lock);
  const { tree } = await installPackages(ctx, lock, paths);
  const done = ctx.reporter.stage('image');
  await applySpec(tree, ctx.loaded);
  const created = Number(process.env.SOURCE_DATE_EPOCH ?? lock.sourceDateEpoch);
  const image = await buildImage({
    layers: tree,
    config: imageConfig(ctx.spec),
    arch: debianArch(ctx.arch),
    created,
  });
  const layerBytes = image.layers.reduce((sum, layer) => sum + layer.size, 0);
  done(`${tree.size} paths, layer ${formatSize(layerBytes)} compressed, manifest ${image.manifest.digest}`);
  return { image, arch: ctx.arch, packages: lock.packages.length, contentBytes: tree.contentBytes() };
}

function imageConfig(spec: Spec) {
  const image = spec.image ?? {};
  return {
    ...(image.entrypoint ? { entrypoint: image.entrypoint } : {}),
    ...(image.cmd ? { cmd: image.cmd } : {}),
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(image.env ?? {}) },
    ...(image.workingDir ? { workingDir: image.workingDir } : {}),
  };
}

export interface PublishOptions {
  /** `registry/repository:tag` to push to. */
  push?: string | undefined;
  /** Plain HTTP to the push registry. */
  insecure?: boolean | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** OCI image layout directory, with `tag` as the ref name. */
  ociDir?: string | undefined;
  tag?: string | undefined;
}

export interface PublishResult {
  pushed?: PushResult;
  ociDir?: string;
}

/** Writes the layout and/or pushes; at least one destination is required. */
export async function publishImage(image: OciImage, options: PublishOptions): Promise<PublishResult> {
  if (options.push === undefined && options.ociDir === undefined) {
    throw new HookError('E_USAGE', 'Nowhere to put the image: give --push <ref> and/or --oci-dir <dir>');
  }
  if (options.ociDir !== undefined && options.tag === undefined) {
    throw new HookError('E_USAGE', '--oci-dir needs --tag <tag> (the ref name in index.json)');
  }
  const result: PublishResult = {};
  if (options.ociDir !== undefined) {
    await writeOciLayout(image, options.ociDir, { tag: options.tag as string });
    result.ociDir = options.ociDir;
  }
  if (options.push !== undefined) {
    const ref = parseReference(options.push);
    result.pushed = await pushImage(image, ref, {
      insecure: options.insecure ? [ref.registry] : false,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    });
  }
  return result;
}
