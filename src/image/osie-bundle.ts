/**
 * Bundles the OS services (osie/) into single CommonJS files for the image's Node.js, and
 * collects their systemd units. CommonJS because the image has no package.json next to the
 * bundles, so Node treats a `.js` file as CommonJS. Output is byte-identical across runs: esbuild
 * is deterministic and the working directory is fixed to the repository root, so the path
 * comments in the bundles do not depend on where the build runs.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { OSIE_BUNDLES, OSIE_ENABLED_UNITS, OSIE_UNIT_FILES } from '../../osie/manifest.ts';
import { HookError } from '../errors.ts';

export { OSIE_ENABLED_UNITS };

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Debian trixie ships Node.js 20; node18 keeps the bundles runnable on bookworm's too. */
const NODE_TARGET = 'node18';

/** Image path (e.g. `usr/lib/hook/hook-bootkit.js`) → contents, for every bundle and unit file. */
export async function bundleOsie(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const [imagePath, entry] of OSIE_BUNDLES) files.set(imagePath, await bundleEntry(entry));
  for (const [imagePath, unitFile] of OSIE_UNIT_FILES) {
    files.set(imagePath, new Uint8Array(await readFile(join(REPO_ROOT, 'osie', 'units', unitFile))));
  }
  return files;
}

async function bundleEntry(entry: string): Promise<Uint8Array> {
  try {
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: NODE_TARGET,
      format: 'cjs',
      minify: false,
      legalComments: 'none',
      charset: 'utf8',
      sourcemap: false,
      write: false,
      logLevel: 'silent',
      outfile: 'out.js',
    });
    const output = result.outputFiles[0];
    if (output === undefined) throw new Error('esbuild produced no output');
    return output.contents;
  } catch (error) {
    throw new HookError('E_IO', `Cannot bundle the OS service ${entry}: ${(error as Error).message}`, {
      hint: 'Run `npx tsc --noEmit -p .` to see errors in osie/.',
      cause: error,
    });
  }
}
