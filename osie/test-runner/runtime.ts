/**
 * The runtime the OS services run on, for tests on this host (Node side): Debian trixie's
 * `qjs` (package quickjs), `socat` and `bash`, taken from the archive through the project's own
 * verified client (signed InRelease → Packages → .deb SHA-256), exactly the files the image
 * carries. The host may have an older glibc (Debian 12 has 2.36; trixie's qjs needs 2.38), so
 * each program runs through trixie's own dynamic loader with trixie's libraries:
 * `<lib>/ld-linux-x86-64.so.2 --library-path <lib> <program> …`. Small `sh` wrappers in `bin/`
 * do that, so `PATH=<runtime>/bin:$PATH` makes `qjs`, `socat` and `bash` the trixie ones for
 * every process a test starts. The unpacked runtime is cached by the packages' SHA-256.
 */
import { chmod, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { debianArch, hostArch } from '../../src/arch.ts';
import { defaultCacheDir, sha256Of } from '../../src/debian/cache.ts';
import { readDeb } from '../../src/debian/deb.ts';
import { fetchPackages } from '../../src/debian/fetch.ts';
import { loadPackages } from '../../src/debian/load-indexes.ts';
import { resolve } from '../../src/debian/resolver.ts';
import { resolveArchiveSettings } from '../../src/debian/sources.ts';
import { HookError } from '../../src/errors.ts';

/** The packages whose programs the services run (see osie/manifest.ts). */
export const RUNTIME_PACKAGES = ['quickjs', 'socat', 'bash'] as const;
/** Programs that get a wrapper in bin/: name → path inside the packages. */
const PROGRAMS: Record<string, string> = {
  qjs: 'usr/bin/qjs',
  socat: 'usr/bin/socat1',
  bash: 'usr/bin/bash',
};
/** Bumped when the layout below changes, so an old cache entry is not reused. */
const LAYOUT = 'v1';

export interface QjsRuntime {
  /** Folder with the `qjs`, `socat` and `bash` wrappers; put it first on PATH. */
  binDir: string;
  /** The command that runs trixie's qjs on this host. */
  qjs: string[];
  /** Name and version of each package used, e.g. `quickjs 2025.04.26-1`. */
  packages: string[];
}

let pending: Promise<QjsRuntime> | undefined;

/** The trixie runtime for this host's architecture, fetched and unpacked once per process. */
export function qjsRuntime(): Promise<QjsRuntime> {
  pending ??= loadRuntime();
  return pending;
}

async function loadRuntime(): Promise<QjsRuntime> {
  const arch = debianArch(hostArch());
  const cacheDir = defaultCacheDir();
  const settings = resolveArchiveSettings({ suites: ['trixie', 'trixie-updates', 'trixie-security'] });
  const index = await loadPackages({ settings, arch, cacheDir });
  const closure = resolve(index, [...RUNTIME_PACKAGES], { arch }).packages;
  const packages = closure.map((p) => `${p.name} ${p.version}`);
  const key = sha256Of(new TextEncoder().encode([LAYOUT, ...closure.map((p) => p.sha256)].sort().join('\n')));
  const dir = join(cacheDir, 'qjs-runtime', key.slice(0, 32));
  const loader = arch === 'amd64' ? 'ld-linux-x86-64.so.2' : 'ld-linux-aarch64.so.1';
  const runtime = (): QjsRuntime => ({
    binDir: join(dir, 'bin'),
    qjs: [join(dir, 'lib', loader), '--library-path', join(dir, 'lib'), join(dir, 'programs', 'qjs')],
    packages,
  });
  if (await exists(join(dir, 'complete'))) return runtime();

  const paths = await fetchPackages(closure, { cacheDir });
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'lib'), { recursive: true });
  await mkdir(join(work, 'programs'));
  await mkdir(join(work, 'bin'));
  const multiarch = arch === 'amd64' ? 'x86_64-linux-gnu' : 'aarch64-linux-gnu';
  const found = new Set<string>();
  for (const pkg of closure) {
    const debPath = paths.get(pkg.sha256.toLowerCase());
    if (debPath === undefined) throw new Error(`fetchPackages returned no path for ${pkg.filename}`);
    const deb = await readDeb(await readFile(debPath), pkg.filename);
    for (const entry of deb.data) {
      const libName = libraryName(entry.path, multiarch);
      if (libName !== undefined) {
        if (entry.type === 'file' && entry.data !== undefined) {
          await writeFile(join(work, 'lib', libName), entry.data, { mode: 0o755 });
        } else if (entry.type === 'symlink' && entry.linkTarget !== undefined) {
          await symlink(entry.linkTarget.split('/').pop() as string, join(work, 'lib', libName));
        }
      }
      for (const [name, path] of Object.entries(PROGRAMS)) {
        if (entry.path === path && entry.type === 'file' && entry.data !== undefined) {
          await writeFile(join(work, 'programs', name), entry.data, { mode: 0o755 });
          found.add(name);
        }
      }
    }
  }
  for (const name of Object.keys(PROGRAMS)) {
    if (!found.has(name)) {
      throw new HookError('E_ARCHIVE_FORMAT', `${PROGRAMS[name]} is in none of ${packages.join(', ')}`, {
        hint: 'The Debian packages changed their layout; update osie/test-runner/runtime.ts.',
      });
    }
    // The final paths (dir, not work): the wrappers are used after the rename below.
    const script = `#!/bin/sh\nexec '${join(dir, 'lib', loader)}' --library-path '${join(dir, 'lib')}' '${join(dir, 'programs', name)}' "$@"\n`;
    await writeFile(join(work, 'bin', name), script);
    await chmod(join(work, 'bin', name), 0o755);
  }
  await writeFile(join(work, 'complete'), `${packages.join('\n')}\n`);
  await rm(dir, { recursive: true, force: true });
  try {
    await rename(work, dir);
  } catch (error) {
    // Another process finished first: its copy is identical.
    if (!(await exists(join(dir, 'complete')))) throw error;
    await rm(work, { recursive: true, force: true });
  }
  return runtime();
}

/** `libc.so.6` for `usr/lib/x86_64-linux-gnu/libc.so.6` (and the `lib/…` spelling), else undefined. */
function libraryName(path: string, multiarch: string): string | undefined {
  const match = new RegExp(`^(?:usr/)?lib/${multiarch}/([^/]+\\.so[.0-9]*)$`).exec(path);
  return match?.[1];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
