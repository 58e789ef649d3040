/** `hook build`: builds the OS artifacts from hook.yaml (or the built-in default spec). */
import type { Command } from 'commander';
import { archOption } from '../arch.ts';
import { build } from '../pipeline/pipeline.ts';
import { loadSpec } from '../specfile/load.ts';
import { specJson, specYaml } from '../specfile/show.ts';
import { formatSize } from '../util/size.ts';
import { createReporter } from './reporter.ts';

export function register(program: Command): void {
  program
    .command('build')
    .description(
      'Build vmlinuz-<arch>, initramfs-<arch>, hook_<arch>.tar.gz, hook-<arch>-efi-initrd.iso (and dtbs-aarch64.tar.gz), checksum.txt, hook-<arch>.lock, a size report and an SPDX SBOM from a spec',
    )
    .argument(
      '[spec]',
      'the hook.yaml to build (default: the built-in spec, same as the repository hook.yaml)',
    )
    .option('--arch <arch>', 'target architecture: x86_64 or aarch64 (default: the spec arch)')
    .option('-o, --out <dir>', 'output folder (default: the spec output.dir, relative to the spec)')
    .option('--mirror <url>', 'Debian archive URL (overrides the spec, HOOK_MIRROR and the host apt sources)')
    .option(
      '--cache <dir>',
      'download and build cache (default: $HOOK_CACHE_DIR, $XDG_CACHE_HOME/hook or ~/.cache/hook)',
    )
    .option('--lock <file>', 'lock file to read and write (default: <out>/hook-<arch>.lock)')
    .option('--update-lock', 'resolve packages again even when the lock matches the spec')
    .option(
      '--allow-outside-sources',
      "let files[].source name files outside the spec's folder (refused by default)",
    )
    .option(
      '--print-spec',
      'print the spec the build would read (extends: merged, defaults filled in) as YAML, or JSON with --json, and build nothing',
    )
    .option(
      '--debug',
      "a debug build: OpenSSH's server, root login with ~/.ssh/*.pub and ssh.authorizedKeys keys only (written to <output.dir>-debug)",
    )
    .option('--json', 'print the result as JSON on stdout')
    .option('-v, --verbose', 'list every maintainer-script action the build does not cover')
    .option('-q, --quiet', 'print only warnings and errors')
    .addHelpText(
      'after',
      '\nExamples:\n  npx hook build\n  npx hook build hook.yaml --arch aarch64 --out out\n  npx hook build site.yaml --print-spec\n\nEnvironment: SOURCE_DATE_EPOCH overrides the timestamp of every file (default: from the lock).',
    )
    .action(async (specFile: string | undefined, opts: Record<string, string | boolean | undefined>) => {
      const arch = opts.arch === undefined ? undefined : archOption(String(opts.arch));
      if (opts.printSpec) {
        const loaded = loadSpec(specFile, { allowOutsideSources: Boolean(opts.allowOutsideSources) });
        process.stdout.write(opts.json ? specJson(loaded, arch) : specYaml(loaded, arch));
        return;
      }
      const reporter = createReporter(process.stderr, { quiet: Boolean(opts.quiet) });
      const result = await build({
        specFile,
        arch,
        outDir: opts.out as string | undefined,
        cacheDir: opts.cache as string | undefined,
        mirror: opts.mirror as string | undefined,
        lockFile: opts.lock as string | undefined,
        updateLock: Boolean(opts.updateLock),
        allowOutsideSources: Boolean(opts.allowOutsideSources),
        verbose: Boolean(opts.verbose),
        debug: Boolean(opts.debug),
        reporter,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const r = result.report;
      process.stdout.write(
        `Built HookOS ${result.arch}${opts.debug ? ' debug build' : ''} (kernel ${result.kernelVersion}, ${result.packages} packages) in ${result.outDir}\n` +
          `  initramfs ${formatSize(r.initramfsBytes)} compressed, ${formatSize(r.uncompressedBytes)} uncompressed\n`,
      );
    });
}
