/**
 * `hook build`: the stages in order, data flowing one way —
 *
 *   spec → resolve → fetch → rootfs → kernel → boot loaders → configure → debug → images
 *        → budget → initramfs → artifacts → publish
 *
 * Each stage is one file in stages/. The output folder is locked for the whole build, and a
 * build whose inputs have not changed since the last one returns that one's result.
 */

import { describeEffect } from '../rootfs/maintainer-scripts.ts';
import { type BuildContext, type BuildOptions, type BuildResult, createContext } from './context.ts';
import { serializeLock } from './lockfile.ts';
import { inputsHash, upToDate, writeStamp } from './no-change.ts';
import { lockOutputDir, publishSet } from './publish.ts';
import { CHECKSUMMED, stageArtifacts } from './stages/artifacts.ts';
import { bootLoadersStage } from './stages/boot-loaders.ts';
import { checkBudget } from './stages/budget.ts';
import { configureStage } from './stages/configure.ts';
import { debugStage } from './stages/debug.ts';
import { fetchLocked } from './stages/fetch.ts';
import { imagesStage } from './stages/images.ts';
import { initramfsStage } from './stages/initramfs.ts';
import { installPackages, maintainerScriptWarnings } from './stages/install.ts';
import { kernelStage } from './stages/kernel.ts';
import { resolvePackages } from './stages/resolve.ts';

export type { BuildOptions, BuildResult };

export async function build(options: BuildOptions): Promise<BuildResult> {
  const ctx = createContext(options);
  // One build at a time writes an output folder; a second one waits for the first.
  const outputLock = await lockOutputDir(ctx.outDir, (pid) =>
    ctx.reporter.info(`Waiting for another build (pid ${pid}) that is writing to ${ctx.outDir}`),
  );
  try {
    return await buildLocked(ctx);
  } finally {
    await outputLock.release();
  }
}

async function buildLocked(ctx: BuildContext): Promise<BuildResult> {
  const { reporter } = ctx;
  const stampInputs = await inputsHash(ctx);
  const previous = await upToDate(ctx, stampInputs);
  if (previous) {
    for (const warning of previous.warnings) reporter.warn(warning);
    reporter.info(`Up to date: nothing changed since the last build in ${ctx.outDir}`);
    return previous;
  }

  const lock = await resolvePackages(ctx, { kernel: true });
  const sourceDateEpoch = Number(process.env.SOURCE_DATE_EPOCH ?? lock.sourceDateEpoch);
  const paths = await fetchLocked(ctx, lock);
  const rootfs = await installPackages(ctx, lock, paths);
  const kernel = await kernelStage(ctx, lock, paths, rootfs);
  const bootLoaders = await bootLoadersStage(ctx, lock, paths);
  await configureStage(ctx, rootfs);
  await debugStage(ctx, rootfs.tree);
  const warnings = maintainerScriptWarnings(rootfs.effects);
  for (const warning of warnings) reporter.warn(warning);
  // Every action, each with what the build does about it (or "not covered").
  if (ctx.verbose) for (const e of rootfs.effects) reporter.info(`  ${describeEffect(e)}`);
  const images = await imagesStage(ctx, lock);
  checkBudget(ctx, rootfs.tree, rootfs.ownership, images.contentBytes);
  const initramfs = await initramfsStage(
    ctx,
    rootfs,
    sourceDateEpoch,
    images.segment ? [images.segment] : [],
  );

  const done = reporter.stage('outputs');
  const staged = stageArtifacts({
    arch: ctx.arch,
    vmlinuz: kernel.vmlinuz,
    initramfs: initramfs.pieces,
    segments: [initramfs.early, ...initramfs.payloads.map((p) => p.segment)],
    lock,
    tree: rootfs.tree,
    ownership: rootfs.ownership,
    sourceDateEpoch,
    specName: ctx.spec.name,
    specVersion: ctx.spec.version,
    kernelVersion: kernel.version,
    cmdline: ctx.spec.kernel.cmdline,
    bootLoaders,
    dtbs: kernel.dtbs,
  });
  const resultOf = (files: BuildResult['files']): BuildResult => ({
    outDir: ctx.outDir,
    files,
    report: staged.report,
    arch: ctx.arch,
    kernelVersion: kernel.version,
    packages: lock.packages.length,
    warnings,
    upToDate: false,
  });
  const files = await publishSet(ctx.outDir, staged.pieces, {
    checksummed: CHECKSUMMED,
    // The stamp goes into the set it describes, before the set is shown.
    beforeSwitch: (setDir, written) =>
      writeStamp(ctx, stampInputs, resultOf({ ...written }), setDir, serializeLock(lock)),
  });
  done(ctx.outDir);
  return resultOf(files);
}
