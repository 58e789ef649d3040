/** `hook image build`: a container image from Debian packages and files, pushed and/or as an OCI layout. */
import type { Command } from 'commander';
import { type Arch, archOption } from '../arch.ts';
import { HookError } from '../errors.ts';
import { buildContainerImage, publishImage } from '../pipeline/container-image.ts';
import { formatSize } from '../util/size.ts';
import { readPasswordStdin } from './password.ts';
import { createReporter } from './reporter.ts';

interface ImageBuildOptions {
  arch?: string;
  push?: string;
  insecure?: boolean;
  ociDir?: string;
  tag?: string;
  username?: string;
  passwordStdin?: boolean;
  mirror?: string;
  cache?: string;
  lock?: string;
  updateLock?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  const image = program.command('image').description('Build container images from Debian packages');
  image
    .command('build')
    .description(
      'Build a one-layer container image from a spec (hook.yaml schema: packages, files, users, symlinks; `kernel` is ignored, `image:` sets entrypoint/cmd/env/workingDir)',
    )
    .argument('<spec>', 'the spec file')
    .option('--arch <arch>', 'x86_64 or aarch64 (default: the spec arch)')
    .option('--push <ref>', 'push to this reference, e.g. 127.0.0.1:5000/test/worker:1')
    .option('--insecure', 'talk plain HTTP to the --push registry')
    .option('--oci-dir <dir>', 'write (or add to) an OCI image layout directory')
    .option('--tag <tag>', 'ref name of the image in the OCI layout (required with --oci-dir)')
    .option('--username <user>', 'registry user for --push')
    .option(
      '--password-stdin',
      'read the registry password from stdin (a pipe: trailing newline trimmed; a terminal: a prompt, typed without echo)',
    )
    .option('--mirror <url>', 'Debian archive URL (overrides the spec, HOOK_MIRROR and the host apt sources)')
    .option(
      '--cache <dir>',
      'download cache (default: $HOOK_CACHE_DIR, $XDG_CACHE_HOME/hook or ~/.cache/hook)',
    )
    .option('--lock <file>', 'lock file to read and write (default: none, always resolve afresh)')
    .option('--update-lock', 'resolve packages again even when the lock matches the spec')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  npx hook image build worker.yaml --push 127.0.0.1:5000/test/worker:1 --insecure',
        '  npx hook image build worker.yaml --oci-dir out/oci --tag worker-1',
        '  echo "$PASS" | npx hook image build worker.yaml --push reg.example/w:1 --username u --password-stdin',
        '',
        'Environment: SOURCE_DATE_EPOCH sets the image and file timestamps (default: the archive release date).',
      ].join('\n'),
    )
    .action(async (specFile: string, opts: ImageBuildOptions) => {
      const arch = optionalArch(opts.arch);
      if (opts.push === undefined && opts.ociDir === undefined) {
        throw new HookError('E_USAGE', 'Nowhere to put the image: give --push <ref> and/or --oci-dir <dir>');
      }
      if (opts.passwordStdin && opts.username === undefined) {
        throw new HookError('E_USAGE', '--password-stdin needs --username');
      }
      const password = opts.passwordStdin ? await readPasswordStdin() : undefined;
      const reporter = createReporter(process.stderr, { quiet: Boolean(opts.quiet) });
      const built = await buildContainerImage({
        specFile,
        arch,
        cacheDir: opts.cache,
        mirror: opts.mirror,
        lockFile: opts.lock,
        updateLock: opts.updateLock,
        reporter,
      });
      const published = await publishImage(built.image, {
        push: opts.push,
        insecure: opts.insecure,
        username: opts.username,
        password,
        ociDir: opts.ociDir,
        tag: opts.tag,
      });
      const summary = {
        arch: built.arch,
        packages: built.packages,
        manifestDigest: built.image.manifest.digest,
        configDigest: built.image.config.digest,
        layerBytes: built.image.layers.reduce((sum, layer) => sum + layer.size, 0),
        contentBytes: built.contentBytes,
        ...(published.pushed ? { pushed: published.pushed.reference } : {}),
        ...(published.ociDir ? { ociDir: published.ociDir, tag: opts.tag } : {}),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const lines = [
        `Built image ${summary.manifestDigest} (${built.arch}, ${built.packages} packages, ${formatSize(summary.layerBytes)} compressed)`,
      ];
      if (summary.pushed) lines.push(`  pushed ${summary.pushed}`);
      if (summary.ociDir) lines.push(`  OCI layout ${summary.ociDir} (tag ${opts.tag})`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

function optionalArch(value: string | undefined): Arch | undefined {
  return value === undefined ? undefined : archOption(value);
}
