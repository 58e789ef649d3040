/**
 * Sending UDP datagrams without sockets in the runtime. qjs cannot open a socket, but bash can:
 * `exec 3>/dev/udp/<host>/<port>` connects a UDP socket on fd 3, and bash then execs the program
 * that uses it, which inherits fd 3. Every write() on a connected UDP socket is one datagram, so
 * each message goes out whole and alone (RFC 5426: one syslog message per datagram), with no
 * relay process and no framing; a bash loop reading messages from a pipe could not promise that
 * (its printf flushes at each newline, and reads cannot tell where one message ended).
 */
import * as os from 'quickjs:os';
import { utf8Encode } from './bytes.ts';
import { EINTR } from './errors.ts';
import { type Child, getenv, type SpawnOptions, spawn } from './process.ts';

/** Names the inherited socket's file descriptor in the environment of the program bash starts. */
export const UDP_FD_VARIABLE = 'HOOK_UDP_FD';
const UDP_FD = 3;
/** bash's exit code when it cannot open the socket (EX_TEMPFAIL: name lookup, no route, ...). */
export const UDP_OPEN_FAILED = 75;

export interface UdpSocket {
  /** Sends one datagram; returns 0, or `-errno` (e.g. ECONNREFUSED after an ICMP port unreachable). */
  send(message: string | Uint8Array): number;
}

/** The connected UDP socket this program was started with by spawnWithUdpSocket, if any. */
export function inheritedUdpSocket(): UdpSocket | undefined {
  const text = getenv(UDP_FD_VARIABLE);
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const fd = Number(text);
  return {
    send(message) {
      const bytes = typeof message === 'string' ? utf8Encode(message) : message;
      for (;;) {
        // One write() call per message: a short write cannot happen on a datagram socket.
        const n = os.write(fd, bytes.buffer, bytes.byteOffset, bytes.length);
        if (n === -EINTR) continue;
        return Math.min(n, 0);
      }
    },
  };
}

/**
 * Runs `argv` with a UDP socket connected to `host`:`port` (an IPv4 or IPv6 address without
 * brackets, or a name) on fd 3, announced as HOOK_UDP_FD=3. bash exits 75 when it cannot open it.
 */
export function spawnWithUdpSocket(
  host: string,
  port: number,
  argv: readonly string[],
  options: SpawnOptions = {},
): Child {
  const script = `exec ${UDP_FD}>"/dev/udp/$1/$2" || exit ${UDP_OPEN_FAILED}; shift 2; ${UDP_FD_VARIABLE}=${UDP_FD} exec "$@"`;
  return spawn(['bash', '-c', script, 'hook-udp', host, String(port), ...argv], options);
}
