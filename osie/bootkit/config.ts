/**
 * hook-bootkit's decisions, free of I/O: which worker image to run, whether the registry
 * credentials go with the pull, and the exact container the worker runs in. Only checked
 * values reach them (settings.ts).
 */
import type { ContainerCreateBody, RegistryAuth } from '../lib/docker-api.ts';
import { goPathJoin, registryHost } from '../lib/image-ref.ts';
import { type HookSettings, settingWarnings } from '../lib/settings.ts';

export const WORKER_CONTAINER_NAME = 'tink-worker';

/** The command line keys hook-bootkit uses, and what it does when one is invalid. */
const CONSEQUENCES: ReadonlyMap<string, string> = new Map([
  ['tink_worker_image', 'ignored (the worker image comes from docker_registry, if given)'],
  ['docker_registry', 'ignored'],
  ['grpc_authority', 'the worker gets an empty TINKERBELL_GRPC_AUTHORITY'],
  ['worker_id', 'the worker gets empty WORKER_ID and ID'],
  ['tinkerbell_tls', 'the worker gets an empty TINKERBELL_TLS (its default)'],
  ['tinkerbell_insecure_tls', 'the worker gets an empty TINKERBELL_INSECURE_TLS (its default)'],
  ['HTTP_PROXY', 'the worker gets an empty HTTP_PROXY'],
  ['HTTPS_PROXY', 'the worker gets an empty HTTPS_PROXY'],
  ['NO_PROXY', 'that entry is left out of the worker NO_PROXY'],
]);

/** What hook-bootkit warns about: invalid values of the keys it uses, and what it does instead. */
export function bootkitWarnings(settings: HookSettings): string[] {
  return settingWarnings(settings, CONSEQUENCES);
}

/**
 * `tink_worker_image` wins; else Hook's `path.Join(docker_registry, "tink-worker:latest")`
 * (`host:5000/` gives `host:5000/tink-worker:latest`); else nothing to run.
 */
export function workerImage(settings: HookSettings): string | undefined {
  if (settings.tinkWorkerImage !== '') return settings.tinkWorkerImage;
  if (settings.dockerRegistry !== '') return goPathJoin(settings.dockerRegistry, 'tink-worker:latest');
  return undefined;
}

/**
 * Credentials are sent only to the registry host named by `docker_registry`, compared exactly
 * with the image's registry host as Docker normalises it (Hook's useAuth), so they never leak to
 * Docker Hub or a third-party registry.
 */
export function registryAuthFor(image: string, settings: HookSettings): RegistryAuth | undefined {
  if (settings.credentialRegistry === undefined) return undefined;
  if (settings.registryUsername === '' && settings.registryPassword === '') return undefined;
  if (registryHost(image) !== settings.credentialRegistry) return undefined;
  return {
    username: settings.registryUsername,
    password: settings.registryPassword,
    serveraddress: settings.credentialRegistry,
  };
}

/** The worker's environment: every key always present, empty ones as `KEY=`. */
export function workerEnv(settings: HookSettings): string[] {
  const entries: [string, string][] = [
    ['DOCKER_REGISTRY', settings.dockerRegistry],
    ['REGISTRY_USERNAME', settings.registryUsername],
    ['REGISTRY_PASSWORD', settings.registryPassword],
    ['TINKERBELL_GRPC_AUTHORITY', settings.grpcAuthority],
    ['TINKERBELL_TLS', settings.tinkerbellTls],
    ['TINKERBELL_INSECURE_TLS', settings.tinkerbellInsecureTls],
    ['WORKER_ID', settings.workerId],
    ['ID', settings.workerId],
    ['HTTP_PROXY', settings.httpProxy],
    ['HTTPS_PROXY', settings.httpsProxy],
    ['NO_PROXY', settings.noProxy],
  ];
  return entries.map(([key, value]) => `${key}=${value}`);
}

/** Host network, host PID namespace, privileged, and the binds workflow actions rely on. */
export function workerContainer(image: string, settings: HookSettings): ContainerCreateBody {
  return {
    Image: image,
    Env: workerEnv(settings),
    HostConfig: {
      NetworkMode: 'host',
      Privileged: true,
      Binds: ['/worker:/worker', '/var/run/docker.sock:/var/run/docker.sock', '/dev:/dev', '/run:/run'],
      PidMode: 'host',
    },
  };
}

/**
 * A worker left running by an earlier bootkit (the service was restarted) is adopted rather
 * than recreated, so a restart never kills a workflow in progress. Its environment is the
 * image's plus ours, so ours must be contained in it.
 */
export function isSameWorker(
  running: { Config: { Image: string; Env: string[] | null } },
  wanted: ContainerCreateBody,
): boolean {
  const env = new Set(running.Config.Env ?? []);
  return running.Config.Image === wanted.Image && wanted.Env.every((entry) => env.has(entry));
}
