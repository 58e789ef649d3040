/**
 * The esbuild settings for code that runs on the OS's qjs: the services and the docker command
 * (bundled by the build, src/pipeline/osie.ts) and the osie tests (osie/test-runner). One
 * place, so the tests run exactly what the OS runs.
 */
import type { BuildOptions } from 'esbuild';
import { REPO_ROOT } from '../src/repo.ts';

/**
 * QuickJS 2025-04-26 implements ES2023 (checked with qjs: class fields and static blocks, `??=`,
 * regexp match indices, Array.prototype.findLast, Object.hasOwn); of ES2024 it lacks the regexp
 * `v` flag, Set methods and Array.fromAsync, so esbuild must not assume more than ES2023.
 */
export const QJS_TARGET = 'es2023';

/** esbuild settings for code that runs on qjs (services, the docker command, osie tests). */
export function qjsBuildOptions(entry: string, alias: Record<string, string> = {}): BuildOptions {
  return {
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'neutral',
    // `neutral` resolves no package fields by default; fast-check (tests) ships both.
    mainFields: ['module', 'main'],
    target: QJS_TARGET,
    format: 'esm',
    alias: { 'quickjs:os': 'os', 'quickjs:std': 'std', ...alias },
    external: ['os', 'std'],
    minify: false,
    legalComments: 'none',
    charset: 'utf8',
    sourcemap: false,
    write: false,
    logLevel: 'silent',
    outfile: 'out.js',
  };
}
