/** `hook packages resolve|fetch`: the Debian archive client on its own. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type Arch, archOption, debianArch, hostArch } from '../arch.ts';
import { casPath, defaultCacheDir } from '../debian/cache.ts';
import { fetchPackages } from '../debian/fetch.ts';
import { loadPackages } from '../debian/load-indexes.ts';
import { resolve } from '../debian/resolver.ts';
import { resolveArchiveSettings } from '../debian/sources.ts';
import type { BinaryPackage } from '../debian/types.ts';
import { formatSize } from '../util/size.ts';
import { createReporter } from './reporter.ts';

interface CommonOptions {
  arch?: string;
  suite?: string[];
  mirror?: string;
  cache?: string;
  json?: boolean;
}

function archOrHost(value: string | undefined): Arch {
  return value === undefined ? hostArch() : archOption(value);
}

async function resolveClosure(names: string[], opts: CommonOptions): Promise<BinaryPackage[]> {
  const arch = debianArch(archOrHost(opts.arch));
  const settings = resolveArchiveSettings({ mirror: opts.mirror, suites: opts.suite });
  const reporter = createReporter(process.stderr, { quiet: opts.json === true });
  const done = reporter.stage(`indexes (${settings.suites.join(', ')}, ${arch})`);
  const index = await loadPackages({
    settings,
    arch,
    cacheDir: opts.cache ?? defaultCacheDir(),
    log: (m) => reporter.progress(m),
    onRepair: (m) => reporter.warn(m),
  });
  done(`${index.length} packages`);
  return resolve(index, names, { arch }).packages;
}

export interface FetchSummary {
  packages: number;
  bytes: number;
  /** Downloaded in this call (damaged cache entries fetched again included). */
  downloadedBytes: number;
  /** Already in the cache and verified. */
  cachedBytes: number;
  /** Packages whose cached file was damaged, deleted and fetched again (each also a warning). */
  repaired: string[];
}

/** "1.2 MiB downloaded, 250 MiB already cached; 1 damaged in the cache, fetched again: bash". */
export function fetchSummary(summary: FetchSummary): string {
  const repaired =
    summary.repaired.length === 0
      ? ''
      : `; ${summary.repaired.length} damaged in the cache, fetched again: ${summary.repaired.join(', ')}`;
  return `${formatSize(summary.downloadedBytes)} downloaded, ${formatSize(summary.cachedBytes)} already cached${repaired}`;
}

/**
 * Fetches the closure, and says what happened: how much came from the archive, how much was
 * already cached, and which cached files were damaged and fetched again (a package whose file
 * was in the cache before the call yet is downloaded).
 */
async function fetchWithSummary(
  closure: readonly BinaryPackage[],
  cacheDir: string,
  reporter: ReturnType<typeof createReporter>,
): Promise<FetchSummary> {
  const done = reporter.stage('fetch');
  const present = new Set(
    closure.filter((p) => existsSync(casPath(cacheDir, p.sha256))).map((p) => p.filename),
  );
  const byFile = new Map(closure.map((p) => [p.filename, p]));
  const summary: FetchSummary = {
    packages: closure.length,
    bytes: closure.reduce((sum, p) => sum + p.size, 0),
    downloadedBytes: 0,
    cachedBytes: 0,
    repaired: [],
  };
  await fetchPackages(closure, {
    cacheDir,
    onProgress: (p) => {
      summary.downloadedBytes = p.downloadedBytes;
      const pkg = byFile.get(p.filename);
      if (p.fromCache) summary.cachedBytes += pkg?.size ?? 0;
      else if (present.has(p.filename)) summary.repaired.push(pkg?.name ?? p.filename);
      reporter.progress(`${p.done}/${p.total}, ${formatSize(p.downloadedBytes)} downloaded`);
    },
    onRepair: (m) => reporter.warn(m),
    onWait: (m) => reporter.progress(m),
  });
  summary.repaired.sort();
  done(`${summary.packages} packages, ${fetchSummary(summary)}`);
  return summary;
}

function withCommonOptions(command: Command): Command {
  return command
    .option('--arch <arch>', 'amd64 or arm64 (x86_64/aarch64 accepted; default: the host)')
    .option('--suite <suite...>', 'suites to use (default: trixie trixie-updates trixie-security)')
    .option('--mirror <url>', 'Debian archive URL (default: HOOK_MIRROR, then the host apt sources)')
    .option(
      '--cache <dir>',
      'cache folder (default: $HOOK_CACHE_DIR, $XDG_CACHE_HOME/hook or ~/.cache/hook)',
    );
}

export function register(program: Command): void {
  const packages = program.command('packages').description('Resolve and fetch Debian packages (verified)');
  withCommonOptions(
    packages
      .command('resolve')
      .description('Print the dependency closure of packages, one "name version" per line, sorted by name')
      .argument('<name...>', 'package names (name or name=version)'),
  )
    .option('--json', 'print a JSON array of {name, version, architecture, sha256, filename, size}')
    .action(async (names: string[], opts: CommonOptions) => {
      const closure = await resolveClosure(names, opts);
      if (opts.json) {
        const rows = closure.map(({ name, version, architecture, sha256, filename, size }) => ({
          name,
          version,
          architecture,
          sha256,
          filename,
          size,
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        process.stdout.write(closure.map((p) => `${p.name} ${p.version}\n`).join(''));
      }
    });
  withCommonOptions(
    packages
      .command('fetch')
      .description('Download and verify the dependency closure of packages into the cache')
      .argument('<name...>', 'package names'),
  )
    .option('--json', 'print {packages, bytes, downloadedBytes, cachedBytes, repaired} as JSON')
    .action(async (names: string[], opts: CommonOptions) => {
      const closure = await resolveClosure(names, opts);
      const reporter = createReporter(process.stderr, { quiet: opts.json === true });
      const cacheDir = opts.cache ?? defaultCacheDir();
      const summary = await fetchWithSummary(closure, cacheDir, reporter);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        process.stdout.write(
          `${summary.packages} packages, ${formatSize(summary.bytes)} (${summary.bytes} bytes) verified in the cache: ${fetchSummary(summary)}\n`,
        );
      }
    });
}
