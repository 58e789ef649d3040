/**
 * What osie/ adds to the OS, read and built for the configure stage. Bundles the OS services into single ES module files for the image's QuickJS (Debian's
 * quickjs, /usr/bin/qjs), and collects their systemd units. The services reach the system only
 * through osie/lib/platform, which imports qjs's built-in modules as `quickjs:os` and
 * `quickjs:std`; they are left to qjs as its `os` and `std`. Any other import that is not
 * bundled (a Node module) fails the build, so nothing in the image can depend on Node.
 *
 * Output is byte-identical across runs: esbuild is deterministic and the working directory is
 * fixed to the repository root, so the path comments in the bundles do not depend on where the
 * build runs. The osie tests are bundled by the same settings (osie/bundle-options.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { qjsBuildOptions } from '../../osie/bundle-options.ts';
import {
  OSIE_BUNDLES,
  OSIE_ENABLED_UNITS,
  OSIE_FILES_DIR,
  OSIE_SCRIPTS,
  OSIE_UNIT_FILES,
  QJS,
  QJS_FLAGS,
} from '../../osie/manifest.ts';
import { HookError } from '../errors.ts';
import { REPO_ROOT } from '../repo.ts';

export { OSIE_ENABLED_UNITS };

export interface OsieFile {
  data: Uint8Array;
  mode: number;
}

/**
 * Everything osie/manifest.ts declares, as OS path → contents and mode: the bundles (programs,
 * executable), the unit files and drop-ins, the scripts (executable) and the static files.
 */
export async function osieFiles(): Promise<Map<string, OsieFile>> {
  const files = new Map<string, OsieFile>();
  const read = async (...parts: string[]) =>
    new Uint8Array(await readFile(join(REPO_ROOT, 'osie', ...parts)));
  for (const [path, entry] of OSIE_BUNDLES)
    files.set(path, { data: await bundleEntry(path, entry), mode: 0o755 });
  for (const [path, unitFile] of OSIE_UNIT_FILES)
    files.set(path, { data: await read('units', unitFile), mode: 0o644 });
  for (const [path, script] of OSIE_SCRIPTS)
    files.set(path, { data: await read('scripts', script), mode: 0o755 });
  const dir = join(REPO_ROOT, 'osie', OSIE_FILES_DIR);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = relative(dir, join(entry.parentPath, entry.name));
    files.set(path, { data: await read(OSIE_FILES_DIR, path), mode: 0o644 });
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function bundleEntry(treePath: string, entry: string): Promise<Uint8Array> {
  try {
    const options = qjsBuildOptions(entry);
    // A command on PATH (the docker CLI) runs by itself through its #! line, which holds one
    // argument only: qjs detects the module by its import statements, without -m.
    if (treePath.startsWith('usr/bin/')) options.banner = { js: `#!${QJS} ${QJS_FLAGS[0]}` };
    const result = await build(options);
    const output = result.outputFiles?.[0];
    if (output === undefined) throw new Error('esbuild produced no output');
    return output.contents;
  } catch (error) {
    throw new HookError('E_IO', `Cannot bundle the OS service ${entry}: ${(error as Error).message}`, {
      hint: 'Run `npx tsc --noEmit -p .` to see errors in osie/; the OS code may import only osie/ files.',
      cause: error,
    });
  }
}
