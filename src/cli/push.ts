/** `hook push`: publishes a build's output folder to a registry as one OCI artifact. */
import type { Command } from 'commander';
import { type Arch, archOption } from '../arch.ts';
import { HookError } from '../errors.ts';
import { dockerConfigCredentials, dockerConfigPath } from '../oci/docker-config.ts';
import { HOOKOS_ARTIFACT_TYPE } from '../oci/hook-artifact.ts';
import { pushOutputFolder, readOutputFolder } from '../oci/push-folder.ts';
import { formatReference, parseReference } from '../oci/reference.ts';
import { formatSize } from '../util/size.ts';
import { createReporter } from './reporter.ts';

interface PushOptions {
  dir: string;
  arch?: string[];
  insecure?: boolean;
  username?: string;
  passwordStdin?: boolean;
  annotation?: string[];
  json?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function register(program: Command): void {
  program
    .command('push')
    .description(
      'Publish the artifacts of a build (kernel, initramfs, DTBs, ISO, checksum.txt, SBOM, lock) to a registry as one OCI artifact; both architectures in the folder become an image index',
    )
    .argument('<ref>', 'where to push, registry/repository:tag (e.g. 127.0.0.1:5000/hookos:0.1.0)')
    .option('--dir <dir>', 'the output folder of `hook build`', 'out')
    .option(
      '--arch <arch>',
      'push only this architecture (repeatable; default: every one in the folder)',
      collect,
    )
    .option('--insecure', 'talk plain HTTP to the registry')
    .option('--username <user>', 'registry user (default: the credentials `docker login` stored)')
    .option('--password-stdin', 'read the registry password from stdin (trailing newline trimmed)')
    .option('--annotation <key=value>', 'an annotation on every manifest and the index (repeatable)', collect)
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  npx hook push 127.0.0.1:5000/hookos:dev --insecure',
        '  echo "$TOKEN" | npx hook push ghcr.io/acme/hookos:0.1.0 --username acme --password-stdin',
        '  oras pull ghcr.io/acme/hookos:0.1.0 --platform linux/arm64   # the files, by name',
        '',
        `Credentials: --username/--password-stdin, else ${dockerConfigPath()} ($DOCKER_CONFIG): credHelpers, auths, credsStore.`,
        `Each file is a layer titled with its name (org.opencontainers.image.title); artifactType ${HOOKOS_ARTIFACT_TYPE}.`,
      ].join('\n'),
    )
    .action(async (target: string, opts: PushOptions) => {
      if (opts.passwordStdin && opts.username === undefined) {
        throw new HookError('E_USAGE', '--password-stdin needs --username');
      }
      if (opts.username !== undefined && !opts.passwordStdin) {
        throw new HookError(
          'E_USAGE',
          '--username needs --password-stdin (the password is never an argument)',
        );
      }
      const ref = parseReference(target);
      const arches: Arch[] | undefined = opts.arch?.map(archOption);
      const annotations = parseAnnotations(opts.annotation ?? []);
      const credentials =
        opts.username !== undefined
          ? { username: opts.username, password: await readStdin() }
          : await dockerConfigCredentials(ref.registry);
      const reporter = createReporter(process.stderr, { quiet: Boolean(opts.quiet) });

      let done = reporter.stage('hash');
      const folder = await readOutputFolder(opts.dir, {
        ...(arches ? { arches } : {}),
        onFile: (file) => reporter.progress(`hashed ${file.name} (${formatSize(file.size)})`),
      });
      const fileCount = new Set(folder.artifacts.flatMap((a) => a.files.map((f) => f.name))).size;
      done(
        `${fileCount} files of ${folder.artifacts.map((a) => a.arch).join(', ')} checked against checksum.txt`,
      );

      done = reporter.stage('push');
      const result = await pushOutputFolder(folder, ref, {
        insecure: opts.insecure ? [ref.registry] : false,
        ...(credentials ?? {}),
        annotations,
        onBlob: (name, outcome, bytes) =>
          reporter.progress(
            `${name}: ${outcome === 'exists' ? 'already there' : outcome} (${formatSize(bytes)})`,
          ),
      });
      done(`${formatSize(result.uploadedBytes)} uploaded`);

      const summary = {
        reference: result.reference,
        tag: formatReference(ref),
        mediaType: result.mediaType,
        manifests: result.manifests,
        files: folder.artifacts.map((a) => ({ arch: a.arch, files: a.files })),
        uploadedBytes: result.uploadedBytes,
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const lines = [`Pushed ${formatReference(ref)} (${result.reference})`];
      for (const m of result.manifests) lines.push(`  ${m.arch}: ${m.digest}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** `key=value` options as a record; keys follow the OCI annotation rules (reverse domain). */
function parseAnnotations(values: readonly string[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = value.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
      throw new HookError('E_USAGE', `Invalid --annotation "${value}": expected key=value`, {
        hint: 'e.g. --annotation org.opencontainers.image.version=0.1.0',
      });
    }
    annotations[key] = value.slice(eq + 1);
  }
  return annotations;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
