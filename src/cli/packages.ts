/** `hook packages resolve|fetch`: the Debian archive client on its own. */
import type { Command } from 'commander';
import { type Arch, archOption, debianArch, hostArch } from '../arch.ts';
import { defaultCacheDir } from '../debian/cache.ts';
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
    .option('--json', 'print {packages, bytes, downloadedBytes} as JSON')
    .action(async (names: string[], opts: CommonOptions) => {
      const closure = await resolveClosure(names, opts);
      const reporter = createReporter(process.stderr, { quiet: opts.json === true });
      const done = reporter.stage('fetch');
      let downloaded = 0;
      await fetchPackages(closure, {
        cacheDir: opts.cache ?? defaultCacheDir(),
        onProgress: (p) => {
          downloaded = p.downloadedBytes;
          reporter.progress(`${p.done}/${p.total}, ${formatSize(p.downloadedBytes)}`);
        },
        onRepair: (m) => reporter.warn(m),
        onWait: (m) => reporter.progress(m),
      });
      done();
      const bytes = closure.reduce((sum, p) => sum + p.size, 0);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ packages: closure.length, bytes, downloadedBytes: downloaded })}\n`,
        );
      } else {
        process.stdout.write(
          `${closure.length} packages, ${formatSize(bytes)} (${bytes} bytes) verified in the cache; ${formatSize(downloaded)} downloaded\n`,
        );
      }
    });
}
