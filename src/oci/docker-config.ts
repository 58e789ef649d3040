/**
 * Registry credentials from the Docker client's configuration, `$DOCKER_CONFIG/config.json`
 * (default `~/.docker/config.json`), as `docker login` leaves them: `auths` entries
 * (`auth` = base64 of `user:password`, or `username`/`password`), and credential helpers
 * (`credHelpers` per registry, else `credsStore`): `docker-credential-<name> get` with the
 * server on stdin, answering `{"Username","Secret"}` on stdout. Every password found is
 * registered as a secret, so no message can show it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HookError, registerSecret } from '../errors.ts';
import type { Credentials } from './auth.ts';
import { DOCKER_HUB } from './reference.ts';

/** Docker Hub's key in config.json (the v1 index URL, as `docker login` writes it). */
const HUB_KEY = 'https://index.docker.io/v1/';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfig {
  /** Where it was read from (for messages); undefined when there is none. */
  path: string | undefined;
  auths: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** Reads the config; a missing file is an empty config, an unreadable one an error. */
export async function readDockerConfig(path = dockerConfigPath()): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { path: undefined, auths: {}, credHelpers: {} };
    throw new HookError(
      'E_OCI',
      `Cannot read the Docker configuration ${path}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  return parseDockerConfig(text, path);
}

export function parseDockerConfig(text: string, path: string): DockerConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HookError(
      'E_OCI',
      `Cannot parse the Docker configuration ${path}: ${(error as Error).message}`,
      {
        hint: 'It should be the JSON that `docker login` writes',
      },
    );
  }
  const record = (value: unknown): Record<string, unknown> =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  const root = record(parsed);
  const auths: Record<string, AuthEntry> = {};
  for (const [key, value] of Object.entries(record(root.auths))) {
    const entry = record(value);
    const text = (name: string) => (typeof entry[name] === 'string' ? (entry[name] as string) : undefined);
    auths[key] = {
      auth: text('auth'),
      username: text('username'),
      password: text('password'),
      identitytoken: text('identitytoken'),
    };
  }
  const credHelpers: Record<string, string> = {};
  for (const [key, value] of Object.entries(record(root.credHelpers)))
    if (typeof value === 'string' && value !== '') credHelpers[key] = value;
  const config: DockerConfig = { path, auths, credHelpers };
  if (typeof root.credsStore === 'string' && root.credsStore !== '') config.credsStore = root.credsStore;
  return config;
}

/** The host an `auths` key names (`https://quay.io/v2/` → `quay.io`), as Docker's ConvertToHostname. */
function hostOfKey(key: string): string {
  const bare = key.replace(/^https?:\/\//, '');
  return bare.split('/')[0] ?? bare;
}

function isHub(registry: string): boolean {
  return registry === DOCKER_HUB || registry === 'index.docker.io' || registry === 'registry-1.docker.io';
}

/** Runs `docker-credential-<helper> get`; undefined when the helper has nothing for `server`. */
export type CredentialHelperRunner = (helper: string, server: string) => Promise<Credentials | undefined>;

export const runCredentialHelper: CredentialHelperRunner = (helper, server) =>
  new Promise((resolve, reject) => {
    const program = `docker-credential-${helper}`;
    const child = execFile(
      program,
      ['get'],
      { timeout: 30_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          // "credentials not found in native keychain" is how helpers say "none".
          if (/not found/i.test(`${stdout}${stderr}`)) return resolve(undefined);
          const why =
            (error as NodeJS.ErrnoException).code === 'ENOENT'
              ? 'it is not installed'
              : stderr.trim() || error.message;
          return reject(
            new HookError(
              'E_OCI',
              `Cannot get credentials for ${server} from ${program}: ${why.slice(0, 300)}`,
              {
                hint: "Docker's config.json names this credential helper; install it, or run `docker login` again",
              },
            ),
          );
        }
        try {
          const answer = JSON.parse(stdout) as { Username?: unknown; Secret?: unknown };
          if (typeof answer.Username !== 'string' || typeof answer.Secret !== 'string')
            throw new Error('no Username/Secret');
          resolve({ username: answer.Username, password: answer.Secret });
        } catch (error) {
          reject(
            new HookError(
              'E_OCI',
              `${program} gave an answer that is not its JSON for ${server}: ${(error as Error).message}`,
            ),
          );
        }
      },
    );
    child.stdin?.end(server);
  });

/**
 * The credentials config.json holds for `registry` (host[:port], `docker.io` for Docker Hub),
 * or undefined. A helper named for the registry wins, then an `auths` entry, then `credsStore`.
 */
export async function credentialsFor(
  config: DockerConfig,
  registry: string,
  runHelper: CredentialHelperRunner = runCredentialHelper,
): Promise<Credentials | undefined> {
  const hub = isHub(registry);
  const server = hub ? HUB_KEY : registry;
  const helper = config.credHelpers[registry] ?? (hub ? config.credHelpers[HUB_KEY] : undefined);
  const found = async (): Promise<Credentials | undefined> => {
    if (helper !== undefined) return runHelper(helper, server);
    const key = Object.keys(config.auths).find((k) =>
      hub ? k === HUB_KEY || isHub(hostOfKey(k)) : hostOfKey(k) === registry,
    );
    const entry = key === undefined ? undefined : config.auths[key];
    if (entry !== undefined) {
      if (entry.username !== undefined && entry.password !== undefined)
        return { username: entry.username, password: entry.password };
      if (entry.auth !== undefined) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) {
          throw new HookError(
            'E_OCI',
            `The Docker configuration ${config.path} has a malformed "auth" for ${key}`,
            {
              hint: 'Run `docker login` for that registry again',
            },
          );
        }
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
      if (entry.identitytoken !== undefined) {
        throw new HookError(
          'E_OCI',
          `The Docker configuration ${config.path} holds an identity token for ${key}, which hook cannot use`,
          {
            hint: 'Log in with a username and password (or a registry access token as password)',
          },
        );
      }
    }
    if (config.credsStore !== undefined) return runHelper(config.credsStore, server);
    return undefined;
  };
  const credentials = await found();
  if (credentials !== undefined) registerSecret(credentials.password);
  return credentials;
}

/** The credentials `docker login` left for `registry` in the Docker configuration, or undefined. */
export async function dockerConfigCredentials(
  registry: string,
  path = dockerConfigPath(),
): Promise<Credentials | undefined> {
  return credentialsFor(await readDockerConfig(path), registry);
}
