/**
 * The console status text (hook-status writes it to /run/hook/status, the shells print it above
 * their prompt): HookOS and kernel version, the interfaces with their addresses, the Tinkerbell
 * server, the worker image and what tink-worker is doing. Pure code: a function of what the
 * service gathered. Plain ASCII without colours, so it reads the same on a VGA console, a BMC's
 * serial-over-LAN and in a log; values that come from outside (the command line, the engine's
 * errors) lose their control characters, so they cannot drive the terminal.
 */
import { describeWorkerState, type WorkerState } from '../lib/worker-state.ts';
import type { NetInterface } from './interfaces.ts';

export interface StatusInput {
  /** PRETTY_NAME of /etc/os-release (`HookOS 0.1.0 (hookos)`). */
  os: string;
  kernel: string;
  hostname: string;
  interfaces: readonly NetInterface[];
  /** grpc_authority, or `''`. */
  server: string;
  /** tinkerbell_tls and tinkerbell_insecure_tls as the worker gets them. */
  tls: string;
  insecureTls: string;
  /** The image hook-bootkit runs, or undefined when the command line names none. */
  image: string | undefined;
  worker: WorkerState | undefined;
}

/** The first line of every status: shells and tests find the banner by it. */
export const BANNER_MARK = '=== HookOS status';

/** Go's strconv.ParseBool true spellings (what the worker accepts). */
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

export function renderStatus(input: StatusInput): string {
  const lines = [
    `${BANNER_MARK}: ${clean(input.os)} | kernel ${clean(input.kernel)} | ${clean(input.hostname)} ===`,
  ];
  const width = Math.max(4, ...input.interfaces.map((i) => i.name.length));
  if (input.interfaces.length === 0) lines.push('  (no network interface found)');
  for (const nic of input.interfaces) {
    const addresses = nic.addresses.length > 0 ? nic.addresses.join(' ') : 'no address';
    lines.push(
      `  ${clean(nic.name).padEnd(width)}  ${(nic.up ? 'up' : 'down').padEnd(4)}  ${nic.mac.padEnd(17)}  ${addresses}`,
    );
  }
  lines.push(
    `  Tinkerbell server  ${input.server === '' ? 'not set (no grpc_authority on the command line)' : `${clean(input.server)} (${tlsText(input)})`}`,
  );
  lines.push(
    `  worker image       ${input.image === undefined ? 'not set (no tink_worker_image or docker_registry on the command line)' : clean(input.image)}`,
  );
  lines.push(`  tink-worker        ${describeWorkerState(input.worker)}`);
  return `${lines.join('\n')}\n`;
}

function tlsText(input: StatusInput): string {
  if (!TRUE.has(input.tls)) return 'plain gRPC, no TLS';
  return TRUE.has(input.insecureTls) ? 'TLS, certificate not verified' : 'TLS';
}

/** Control characters (ESC included) become spaces. */
function clean(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += code < 0x20 || (code >= 0x7f && code < 0xa0) ? ' ' : char;
  }
  return out;
}
