/**
 * Builds the default spec once per test process into a temporary folder (the shared download
 * and build caches make a warm build take seconds), for the tests that need a real image.
 * The folder is removed when the process exits, also after a failure: ~300 MB, and a warm
 * build makes it again in seconds (a boot test's console log is in the test's own folder).
 */
import type { Arch } from '../../src/arch.ts';
import { type BuildResult, build } from '../../src/pipeline/pipeline.ts';
import { silentReporter } from '../../src/pipeline/reporter.ts';
import { tempDir } from './temp-dir.ts';

const builds = new Map<string, Promise<BuildResult>>();

export function buildDefaultOs(arch: Arch = 'x86_64', key = 'default'): Promise<BuildResult> {
  const id = `${arch}:${key}`;
  let pending = builds.get(id);
  if (!pending) {
    pending = tempDir(`hook-image-${arch}-`).then((outDir) =>
      build({ arch, outDir, reporter: silentReporter }),
    );
    builds.set(id, pending);
  }
  return pending;
}
