/**
 * HookOS's `docker` command: what a person debugging a Tinkerbell machine at its console types
 * (`docker ps`, `docker logs -f tink-worker`, `docker inspect`, ...), on the Engine API through
 * osie/lib/docker-api.ts, printed the way Docker's own CLI prints it (format.ts). It replaces
 * Debian's docker-cli (29.4 MB unpacked, ~8 MB compressed) in the image; nothing in HookOS runs it
 * (hook-bootkit talks to the API itself).
 *
 * Out of scope, and said so when asked: exec, attach and run (they need the API's connection
 * hijacking, a TTY and stream multiplexing both ways; `nsenter` into the container's PID does
 * what exec is used for at a console), build, push and login. All I/O goes through `CliIo`, so
 * the commands are tested against a test engine on a socket (cli.test.ts).
 */
import {
  type ContainerSummary,
  DockerApiError,
  DockerClient,
  engineMessage,
  type ImageSummary,
  LogDemuxer,
  queryString,
} from '../lib/docker-api.ts';
import { DOCKER_HUB, parseImageRef } from '../lib/image-ref.ts';
import { UnixHttpError } from '../lib/platform/unix-http.ts';
import {
  ellipsis,
  formatPorts,
  humanDuration,
  humanSize,
  jsonIndent,
  renderTemplate,
  shortId,
  TemplateError,
  table,
} from './format.ts';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  outBytes(bytes: Uint8Array): void;
  errBytes(bytes: Uint8Array): void;
  /** Milliseconds since the epoch (for "2 minutes ago"). */
  now(): number;
  env(name: string): string | undefined;
}

/** Exit codes as Docker's CLI uses them: 1 for a failed request, 125 for a usage error. */
const FAILED = 1;
const USAGE_ERROR = 125;

const DEFAULT_HOST = 'unix:///var/run/docker.sock';

class UsageError extends Error {}

const NSENTER_HINT =
  "nsenter -t $(docker inspect -f '{{.State.Pid}}' tink-worker) -a sh   (all its namespaces: needs a shell in the image)\n" +
  "  nsenter -t $(docker inspect -f '{{.State.Pid}}' tink-worker) -n -p -u -i sh   (its network, PIDs and IPC; this machine's files and tools)";

export const USAGE = `Usage:  docker [-H unix:///path/to.sock] COMMAND [OPTIONS]

HookOS's docker command: the Docker Engine API at the console, for debugging a machine.

Commands:
  ps [-a] [-q] [--no-trunc]        List containers (running ones, or all with -a)
  logs [-f] [-t] [--tail N] NAME   Show a container's output (-f follows it)
  images [-q] [--no-trunc]         List images
  inspect [-f TEMPLATE] NAME...    Low-level information on containers or images (JSON)
  start NAME...                    Start stopped containers
  stop [-t SECONDS] NAME...        Stop running containers
  restart [-t SECONDS] NAME...     Restart containers
  kill [-s SIGNAL] NAME...         Send a signal to containers (default KILL)
  rm [-f] [-v] NAME...             Remove containers (-f: even running ones)
  rmi [-f] IMAGE...                Remove images
  pull [-q] IMAGE                  Pull an image from its registry (no login: public or insecure registries)
  version [-f TEMPLATE]            Versions of this command and of the engine
  info [-f TEMPLATE]               System-wide information

TEMPLATE is a Go template of the simple kind: {{.State.Pid}}, {{json .Config.Env}}.

Not available here: exec, attach and run (use nsenter, from util-linux, to get into a container:
  ${NSENTER_HINT}),
build, push, login, and the rest of Docker's CLI. The engine's own API is at /var/run/docker.sock.
`;

interface FlagSpec {
  /** Every spelling: `-f`, `--follow`. */
  names: readonly string[];
  /** Takes a value (`--tail 20`, `--tail=20`, `-n20`). */
  value?: boolean;
}

interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

/** pflag-style: flags anywhere, `--name=value`, combined short booleans (`-aq`), `--` ends flags. */
export function parseArgs(args: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const find = (name: string) => specs.find((spec) => spec.names.includes(name));
  const key = (spec: FlagSpec) => spec.names[spec.names.length - 1] as string;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const spec = find(name);
      if (spec === undefined) throw new UsageError(`unknown flag: ${name}`);
      if (spec.value) {
        const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
        if (value === undefined) throw new UsageError(`flag needs an argument: ${name}`);
        flags.set(key(spec), value);
      } else {
        if (eq >= 0 && !/^(true|false)$/.test(arg.slice(eq + 1)))
          throw new UsageError(`invalid argument for ${name}`);
        if (arg.slice(eq + 1) !== 'false') flags.set(key(spec), true);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let k = 1; k < arg.length; k++) {
        const name = `-${arg[k]}`;
        const spec = find(name);
        if (spec === undefined) throw new UsageError(`unknown shorthand flag: '${arg[k]}' in ${arg}`);
        if (spec.value) {
          const value = k + 1 < arg.length ? arg.slice(k + 1) : args[++i];
          if (value === undefined) throw new UsageError(`flag needs an argument: '${arg[k]}' in ${arg}`);
          flags.set(key(spec), value);
          break;
        }
        flags.set(key(spec), true);
      }
    } else {
      positional.push(arg);
    }
  }
  return { flags, positional };
}

const HELP: FlagSpec = { names: ['-h', '--help'] };
const FORMAT: FlagSpec = { names: ['-f', '--format'], value: true };

interface Command {
  usage: string;
  flags: readonly FlagSpec[];
  /** Least number of arguments (names). */
  minArgs: number;
  maxArgs?: number;
  run(docker: DockerClient, args: ParsedArgs, io: CliIo): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  ps: {
    usage: 'docker ps [-a] [-q] [--no-trunc]',
    flags: [{ names: ['-a', '--all'] }, { names: ['-q', '--quiet'] }, { names: ['--no-trunc'] }],
    minArgs: 0,
    maxArgs: 0,
    async run(docker, { flags }, io) {
      const containers = await docker.listContainers(flags.has('--all'));
      const trunc = !flags.has('--no-trunc');
      if (flags.has('--quiet')) {
        for (const c of containers) io.out(`${trunc ? shortId(c.Id) : c.Id}\n`);
        return 0;
      }
      io.out(
        table([
          ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
          ...containers.map((c) => psRow(c, trunc, io.now())),
        ]),
      );
      return 0;
    },
  },
  images: {
    usage: 'docker images [-q] [--no-trunc]',
    flags: [{ names: ['-a', '--all'] }, { names: ['-q', '--quiet'] }, { names: ['--no-trunc'] }],
    minArgs: 0,
    maxArgs: 0,
    async run(docker, { flags }, io) {
      // Newest first, as Docker sorts them.
      const images = [...(await docker.listImages())].sort((a, b) => b.Created - a.Created);
      const trunc = !flags.has('--no-trunc');
      if (flags.has('--quiet')) {
        for (const image of images) io.out(`${trunc ? shortId(image.Id) : image.Id}\n`);
        return 0;
      }
      io.out(
        table([
          ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
          ...images.flatMap((image) => imageRows(image, trunc, io.now())),
        ]),
      );
      return 0;
    },
  },
  logs: {
    usage: 'docker logs [-f] [-t] [--tail N] CONTAINER',
    flags: [
      { names: ['-f', '--follow'] },
      { names: ['-t', '--timestamps'] },
      { names: ['-n', '--tail'], value: true },
    ],
    minArgs: 1,
    maxArgs: 1,
    async run(docker, { flags, positional }, io) {
      const name = positional[0] as string;
      const tail = flags.get('--tail');
      if (typeof tail === 'string' && tail !== 'all' && !/^\d+$/.test(tail)) {
        throw new UsageError(`invalid value for --tail: ${JSON.stringify(tail)}`);
      }
      const container = await docker.inspectContainer(name);
      if (container === undefined) throw new DockerApiError(`No such container: ${name}`, 404);
      const query = queryString({
        stdout: 1,
        stderr: 1,
        follow: flags.has('--follow') ? 1 : undefined,
        timestamps: flags.has('--timestamps') ? 1 : undefined,
        tail: typeof tail === 'string' ? tail : 'all',
      });
      // A TTY container's output is one raw stream; the others are multiplexed frames.
      const demuxer = new LogDemuxer((stream, payload) =>
        stream === 2 ? io.errBytes(payload) : io.outBytes(payload),
      );
      const response = await docker.stream(
        'GET',
        `/containers/${encodeURIComponent(name)}/logs?${query}`,
        container.Config.Tty === true ? (chunk) => io.outBytes(chunk) : (chunk) => demuxer.push(chunk),
      );
      if (response.status !== 200) throw new DockerApiError(engineMessage(response), response.status);
      return 0;
    },
  },
  inspect: {
    usage: 'docker inspect [-f TEMPLATE] [--type container|image] NAME...',
    flags: [FORMAT, { names: ['--type'], value: true }, { names: ['-s', '--size'] }],
    minArgs: 1,
    async run(docker, { flags, positional }, io) {
      const type = flags.get('--type');
      if (type !== undefined && type !== 'container' && type !== 'image') {
        throw new UsageError(`"${type}" is not a valid value for --type (container or image)`);
      }
      const found: string[] = [];
      let status = 0;
      for (const name of positional) {
        let response = { status: 404, body: '' };
        if (type !== 'image')
          response = await docker.request('GET', `/containers/${encodeURIComponent(name)}/json`);
        if (response.status === 404 && type !== 'container') {
          response = await docker.request('GET', `/images/${encodeURIComponent(name)}/json`);
        }
        if (response.status === 200) {
          found.push(response.body.trim());
        } else {
          io.err(`Error: No such object: ${name}\n`);
          status = FAILED;
        }
      }
      const template = flags.get('--format');
      if (typeof template === 'string') {
        for (const raw of found) io.out(`${renderTemplate(template, JSON.parse(raw))}\n`);
      } else {
        io.out(`${jsonIndent(`[${found.join(',')}]`)}\n`);
      }
      return status;
    },
  },
  start: containerAction('start', 'docker start CONTAINER...', (docker, name) => docker.startContainer(name)),
  stop: containerAction('stop', 'docker stop [-t SECONDS] CONTAINER...', (docker, name, seconds) =>
    docker.stopContainer(name, 'stop', seconds),
  ),
  restart: containerAction('restart', 'docker restart [-t SECONDS] CONTAINER...', (docker, name, seconds) =>
    docker.stopContainer(name, 'restart', seconds),
  ),
  kill: {
    usage: 'docker kill [-s SIGNAL] CONTAINER...',
    flags: [{ names: ['-s', '--signal'], value: true }],
    minArgs: 1,
    async run(docker, { flags, positional }, io) {
      const signal = flags.get('--signal');
      return eachName(positional, io, async (name) => {
        const query = typeof signal === 'string' ? `?${queryString({ signal })}` : '';
        await expectStatus(
          docker.request('POST', `/containers/${encodeURIComponent(name)}/kill${query}`),
          [204],
        );
      });
    },
  },
  rm: {
    usage: 'docker rm [-f] [-v] CONTAINER...',
    flags: [{ names: ['-f', '--force'] }, { names: ['-v', '--volumes'] }],
    minArgs: 1,
    async run(docker, { flags, positional }, io) {
      const query = queryString({
        force: flags.has('--force') ? 1 : undefined,
        v: flags.has('--volumes') ? 1 : undefined,
      });
      return eachName(positional, io, async (name) => {
        await expectStatus(
          docker.request(
            'DELETE',
            `/containers/${encodeURIComponent(name)}${query === '' ? '' : `?${query}`}`,
          ),
          [204, 200],
        );
      });
    },
  },
  rmi: {
    usage: 'docker rmi [-f] IMAGE...',
    flags: [{ names: ['-f', '--force'] }],
    minArgs: 1,
    async run(docker, { flags, positional }, io) {
      let status = 0;
      for (const name of positional) {
        const response = await docker.request(
          'DELETE',
          `/images/${encodeURIComponent(name)}${flags.has('--force') ? '?force=1' : ''}`,
        );
        if (response.status !== 200) {
          io.err(`Error response from daemon: ${engineMessage(response)}\n`);
          status = FAILED;
          continue;
        }
        for (const item of JSON.parse(response.body) as { Untagged?: string; Deleted?: string }[]) {
          if (item.Untagged !== undefined) io.out(`Untagged: ${item.Untagged}\n`);
          if (item.Deleted !== undefined) io.out(`Deleted: ${item.Deleted}\n`);
        }
      }
      return status;
    },
  },
  pull: {
    usage: 'docker pull [-q] IMAGE',
    flags: [{ names: ['-q', '--quiet'] }],
    minArgs: 1,
    maxArgs: 1,
    async run(docker, { flags, positional }, io) {
      const parsed = parseImageRef(positional[0] as string);
      if (!parsed.ok) throw new UsageError(`invalid reference format: ${parsed.reason}`);
      const ref = parsed.value;
      const name = ref.registry === '' ? ref.path : `${ref.registry}/${ref.path}`;
      const separator = ref.tag.includes(':') ? '@' : ':';
      const text = positional[0] as string;
      const tagged = text.includes('@') || text.slice(text.lastIndexOf('/') + 1).includes(':');
      if (!flags.has('--quiet') && !tagged) io.out('Using default tag: latest\n');
      await docker.pullImage(name, ref.tag, undefined, (event) => {
        // As Docker prints a pull without a terminal: status lines, no progress bars.
        if (flags.has('--quiet') || event.error !== undefined || event.status === undefined) return;
        if (event.progress !== undefined && event.progress !== '') return;
        io.out(`${event.id === undefined ? '' : `${event.id}: `}${event.status}\n`);
      });
      io.out(
        `${ref.registry === DOCKER_HUB || ref.registry === '' ? `${DOCKER_HUB}/${ref.path}` : name}${separator}${ref.tag}\n`,
      );
      return 0;
    },
  },
  version: {
    usage: 'docker version [-f TEMPLATE]',
    flags: [FORMAT],
    minArgs: 0,
    maxArgs: 0,
    async run(docker, { flags }, io) {
      const apiVersion = await docker.negotiateVersion();
      const server = await docker.getJson<Record<string, unknown>>('/version', 'version');
      const client = { Version: 'HookOS', ApiVersion: apiVersion, Os: 'linux', Runtime: 'qjs (QuickJS)' };
      const template = flags.get('--format');
      if (typeof template === 'string') {
        io.out(`${renderTemplate(template, { Client: client, Server: server })}\n`);
        return 0;
      }
      const lines = [
        'Client:',
        ` Version:           ${client.Version} (docker command of HookOS: ps, logs, images, inspect, ...)`,
        ` API version:       ${apiVersion}`,
        ` Runtime:           ${client.Runtime}`,
        '',
        'Server:',
      ];
      const components =
        (server.Components as { Name: string; Version: string; Details?: Record<string, string> }[]) ?? [];
      for (const component of components) {
        lines.push(` ${component.Name}:`, `  Version:          ${component.Version}`);
        for (const [key, value] of Object.entries(component.Details ?? {})) {
          lines.push(`  ${`${key}:`.padEnd(18)}${value}`);
        }
      }
      if (components.length === 0) lines.push(` Version:           ${String(server.Version)}`);
      io.out(`${lines.join('\n')}\n`);
      return 0;
    },
  },
  info: {
    usage: 'docker info [-f TEMPLATE]',
    flags: [FORMAT],
    minArgs: 0,
    maxArgs: 0,
    async run(docker, { flags }, io) {
      const info = await docker.getJson<Record<string, unknown>>('/info', 'info');
      const template = flags.get('--format');
      if (typeof template === 'string') {
        io.out(`${renderTemplate(template, info)}\n`);
        return 0;
      }
      const field = (name: string) => (info[name] === undefined ? '' : String(info[name]));
      const registries = (
        info.RegistryConfig as { IndexConfigs?: Record<string, { Secure?: boolean }> } | undefined
      )?.IndexConfigs;
      const insecure = Object.entries(registries ?? {})
        .filter(([, config]) => config.Secure === false)
        .map(([name]) => name);
      const lines = [
        'Server:',
        ` Containers: ${field('Containers')}`,
        `  Running: ${field('ContainersRunning')}`,
        `  Paused: ${field('ContainersPaused')}`,
        `  Stopped: ${field('ContainersStopped')}`,
        ` Images: ${field('Images')}`,
        ` Server Version: ${field('ServerVersion')}`,
        ` Storage Driver: ${field('Driver')}`,
        ` Logging Driver: ${field('LoggingDriver')}`,
        ` Cgroup Driver: ${field('CgroupDriver')}`,
        ` Cgroup Version: ${field('CgroupVersion')}`,
        ` Kernel Version: ${field('KernelVersion')}`,
        ` Operating System: ${field('OperatingSystem')}`,
        ` Architecture: ${field('Architecture')}`,
        ` CPUs: ${field('NCPU')}`,
        ` Total Memory: ${typeof info.MemTotal === 'number' ? humanBinary(info.MemTotal) : ''}`,
        ` Name: ${field('Name')}`,
        ` Docker Root Dir: ${field('DockerRootDir')}`,
        ...(insecure.length > 0 ? [' Insecure Registries:', ...insecure.map((r) => `  ${r}`)] : []),
      ];
      io.out(`${lines.join('\n')}\n`);
      return 0;
    },
  },
};

const MANAGEMENT: Record<string, string> = {
  'container ls': 'ps',
  'container ps': 'ps',
  'container logs': 'logs',
  'container inspect': 'inspect',
  'container rm': 'rm',
  'container start': 'start',
  'container stop': 'stop',
  'container restart': 'restart',
  'container kill': 'kill',
  'container exec': 'exec',
  'image ls': 'images',
  'image inspect': 'inspect',
  'image rm': 'rmi',
  'image pull': 'pull',
};

/** Commands people will try, with what to do instead. */
const NOT_HERE: Record<string, string> = {
  exec: `docker exec is not available in HookOS. To run a command in a container's namespaces:\n  ${NSENTER_HINT}`,
  attach: `docker attach is not available in HookOS; follow a container's output with: docker logs -f NAME`,
  run: 'docker run is not available in HookOS: hook-bootkit starts tink-worker, and the worker starts the actions.',
  create: 'docker create is not available in HookOS: hook-bootkit creates tink-worker.',
  login:
    'docker login is not available in HookOS: registry credentials come from the kernel command line (registry_username, registry_password) and are used by hook-bootkit.',
};

/** go-units BytesSize (binary units, %.4g), as `docker info` prints Total Memory. */
function humanBinary(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${Number(size.toPrecision(4))}${units[unit]}`;
}

function psRow(c: ContainerSummary, trunc: boolean, now: number): string[] {
  const image = /^sha256:[0-9a-f]{64}$/.test(c.Image) && trunc ? shortId(c.Image) : c.Image;
  const command = c.Command ?? '';
  return [
    trunc ? shortId(c.Id) : c.Id,
    image,
    JSON.stringify(trunc ? ellipsis(command, 20) : command),
    c.Created === undefined ? '' : `${humanDuration(now - c.Created * 1000)} ago`,
    c.Status ?? c.State,
    formatPorts(c.Ports),
    c.Names.map((n) => n.replace(/^\//, ''))
      .filter((n) => !n.includes('/'))
      .join(','),
  ];
}

function imageRows(image: ImageSummary, trunc: boolean, now: number): string[][] {
  const tags = image.RepoTags !== null && image.RepoTags.length > 0 ? image.RepoTags : ['<none>:<none>'];
  return tags.map((repoTag) => {
    const colon = repoTag.lastIndexOf(':');
    return [
      repoTag.slice(0, colon),
      repoTag.slice(colon + 1),
      trunc ? shortId(image.Id) : image.Id,
      `${humanDuration(now - image.Created * 1000)} ago`,
      humanSize(image.Size),
    ];
  });
}

function containerAction(
  action: string,
  usage: string,
  act: (docker: DockerClient, name: string, seconds: number | undefined) => Promise<void>,
): Command {
  return {
    usage,
    flags: action === 'start' ? [] : [{ names: ['-t', '--time'], value: true }],
    minArgs: 1,
    async run(docker, { flags, positional }, io) {
      const time = flags.get('--time');
      if (typeof time === 'string' && !/^-?\d+$/.test(time))
        throw new UsageError(`invalid value for --time: ${time}`);
      const seconds = typeof time === 'string' ? Number(time) : undefined;
      return eachName(positional, io, (name) => act(docker, name, seconds));
    },
  };
}

/** Runs `act` for each name; prints the name on success (as Docker does), the engine's reason otherwise. */
async function eachName(
  names: readonly string[],
  io: CliIo,
  act: (name: string) => Promise<void>,
): Promise<number> {
  let status = 0;
  for (const name of names) {
    try {
      await act(name);
      io.out(`${name}\n`);
    } catch (error) {
      if (!(error instanceof DockerApiError)) throw error;
      io.err(`Error response from daemon: ${daemonText(error)}\n`);
      status = FAILED;
    }
  }
  return status;
}

async function expectStatus(pending: Promise<{ status: number; body: string }>, ok: number[]): Promise<void> {
  const response = await pending;
  if (!ok.includes(response.status)) throw new DockerApiError(engineMessage(response), response.status);
}

/** The engine's message inside one of docker-api.ts's errors. */
function daemonText(error: DockerApiError): string {
  return error.message.replace(/^Docker API: .*? failed \(HTTP \d+\): /, '');
}

/** Runs `docker <args>`; returns the exit code. */
export async function dockerCli(argv: readonly string[], io: CliIo): Promise<number> {
  let args = [...argv];
  let host = io.env('DOCKER_HOST') || DEFAULT_HOST;
  while (args[0]?.startsWith('-')) {
    const option = args[0];
    if (option === '-H' || option === '--host') {
      host = args[1] ?? '';
      args = args.slice(2);
    } else if (option.startsWith('--host=')) {
      host = option.slice('--host='.length);
      args = args.slice(1);
    } else if (option === '-h' || option === '--help') {
      io.out(USAGE);
      return 0;
    } else if (option === '-v' || option === '--version') {
      io.out('Docker version: HookOS docker command (see docker version for the engine)\n');
      return 0;
    } else {
      io.err(`unknown flag: ${option}\nSee 'docker --help'.\n`);
      return USAGE_ERROR;
    }
  }
  // Docker's management spellings of the same commands: `docker container ls`, `docker image rm`.
  const management = MANAGEMENT[`${args[0]} ${args[1]}`];
  if (management !== undefined) args = [management, ...args.slice(2)];
  const [name, ...rest] = args;
  if (name === undefined || name === 'help') {
    io.out(USAGE);
    return 0;
  }
  const notHere = NOT_HERE[name];
  if (notHere !== undefined) {
    io.err(`${notHere}\n`);
    return FAILED;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`docker: '${name}' is not a command of HookOS's docker.\nSee 'docker --help'.\n`);
    return USAGE_ERROR;
  }
  if (!host.startsWith('unix://')) {
    io.err(`only unix:// hosts are supported, not ${JSON.stringify(host)}\n`);
    return USAGE_ERROR;
  }
  const socketPath = host.slice('unix://'.length);
  try {
    const parsed = parseArgs(rest, [...command.flags, HELP]);
    if (parsed.flags.has('--help')) {
      io.out(`Usage:  ${command.usage}\n`);
      return 0;
    }
    if (
      parsed.positional.length < command.minArgs ||
      parsed.positional.length > (command.maxArgs ?? Infinity)
    ) {
      throw new UsageError(
        `"docker ${name}" takes ${command.maxArgs === 0 ? 'no arguments' : 'other arguments'}`,
      );
    }
    // No version negotiation (a request more: 0.4 s under emulation): the image's engine speaks
    // API 1.41 and later, which is what the client asks for.
    const docker = new DockerClient({ socketPath });
    return await command.run(docker, parsed, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\nUsage:  ${command.usage}\n`);
      return USAGE_ERROR;
    }
    if (error instanceof TemplateError) {
      io.err(`${error.message}\n`);
      return USAGE_ERROR;
    }
    if (error instanceof UnixHttpError) {
      io.err(
        `Cannot connect to the Docker daemon at ${host}. Is the docker daemon running?\n(${error.message})\n`,
      );
      return FAILED;
    }
    if (error instanceof DockerApiError) {
      io.err(`Error response from daemon: ${daemonText(error)}\n`);
      return FAILED;
    }
    throw error;
  }
}
