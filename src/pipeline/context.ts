/**
 * What every stage of the build needs: the loaded spec, the target, where things come from
 * (the archive settings, the cache) and where they go (the output folder, the lock), and the
 * reporter. Made once, from the command's options, before any stage runs.
 */
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type { Arch } from '../arch.ts';
import { defaultCacheDir } from '../debian/cache.ts';
import { resolveArchiveSettings } from '../debian/sources.ts';
import type { ArchiveSettings } from '../debian/types.ts';
import { type LoadedSpec, loadSpec, specOutputDir } from '../specfile/load.ts';
import type { Spec } from '../specfile/schema.ts';
import type { BuildReport } from './artifacts/report.ts';
import { lockFileName } from './lockfile.ts';
import type { PublishedFile } from './publish.ts';
import type { Reporter } from './reporter.ts';

export interface BuildOptions {
  specFile?: string | undefined;
  arch?: Arch | undefined;
  outDir?: string | undefined;
  cacheDir?: string | undefined;
  mirror?: string | undefined;
  lockFile?: string | undefined;
  /** Resolve again even when the lock matches the request. */
  updateLock?: boolean | undefined;
  /** List every maintainer-script action the build does not cover. */
  verbose?: boolean | undefined;
  /** Let `files[].source` name files outside the spec's folder. */
  allowOutsideSources?: boolean | undefined;
  /** A debug build (`--debug`): an SSH server, root logs in with these keys (see stages/debug.ts). */
  debug?: boolean | undefined;
  /** Where the builder's public keys are (`*.pub`) for a debug build (default: ~/.ssh). */
  sshKeysDir?: string | undefined;
  reporter: Reporter;
}

export interface BuildContext {
  loaded: LoadedSpec;
  spec: Spec;
  arch: Arch;
  outDir: string;
  cacheDir: string;
  lockPath: string;
  settings: ArchiveSettings;
  reporter: Reporter;
  updateLock: boolean;
  verbose: boolean;
  /** Set for a debug build: where the builder's `*.pub` keys are read from. */
  debug?: { sshKeysDir: string } | undefined;
}

/** What `hook build` returns: the published files and what went into them. */
export interface BuildResult {
  outDir: string;
  files: Record<string, PublishedFile>;
  report: BuildReport;
  arch: Arch;
  kernelVersion: string;
  packages: number;
  warnings: string[];
  /** True when nothing changed and the previous result was returned. */
  upToDate: boolean;
}

/** Loads and checks the spec (the `spec` stage) and settles every path and setting. */
export function createContext(options: BuildOptions): BuildContext {
  const done = options.reporter.stage('spec');
  const loaded = loadSpec(options.specFile, { allowOutsideSources: options.allowOutsideSources });
  const spec = loaded.spec;
  const arch = options.arch ?? spec.arch;
  const outDir = resolvePath(options.outDir ?? specOutputDir(loaded, { debug: Boolean(options.debug) }));
  const settings = resolveArchiveSettings({
    mirror: options.mirror ?? spec.archive.mirror,
    securityMirror: spec.archive.securityMirror,
    suites: spec.archive.suites,
    components: spec.archive.components,
  });
  done(`${loaded.file} (${arch}${options.debug ? ', debug build' : ''})`);
  return {
    loaded,
    spec,
    arch,
    outDir,
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    lockPath: options.lockFile ?? join(outDir, lockFileName(arch)),
    settings,
    reporter: options.reporter,
    updateLock: Boolean(options.updateLock),
    verbose: Boolean(options.verbose),
    debug: options.debug ? { sshKeysDir: options.sshKeysDir ?? join(homedir(), '.ssh') } : undefined,
  };
}
