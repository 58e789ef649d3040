/**
 * Builds the default spec once per test process into a temporary folder (the shared download
 * and build caches make a warm build take seconds), for the tests that need a real image.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../../src/arch.ts';
import { type BuildResult, build } from '../../src/pipeline/pipeline.ts';
import { silentReporter } from '../../src/pipeline/reporter.ts';

const builds = new Map<string, Promise<BuildResult>>();

export function buildDefaultOs(arch: Arch = 'x86_64', key = 'default'): Promise<BuildResult> {
  const id = `${arch}:${key}`;
  let pending = builds.get(id);
  if (!pending) {
    pending = mkdtemp(join(tmpdir(), `hook-image-${arch}-`)).then((outDir) =>
      build({ arch, outDir, reporter: silentReporter }),
    );
    builds.set(id, pending);
  }
  return pending;
}
