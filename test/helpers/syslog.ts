/**
 * A UDP syslog receiver for the boot tests, on 127.0.0.1:514 by default: the guest sends to
 * syslog_host=10.0.2.2 port 514 and QEMU's user-mode network delivers it to the host's
 * loopback. It keeps every datagram as one line (RFC 3164 or 5424 as sent).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { TestContext } from 'node:test';

export const SYSLOG_PORT = 514;

export interface SyslogMessage {
  /** The datagram as text, trailing newline removed. */
  text: string;
  /** Host-side arrival time (Date.now()). */
  receivedAt: number;
}

export interface SyslogReceiver {
  port: number;
  messages: SyslogMessage[];
  /** Every line received so far, one per datagram. */
  lines(): string[];
  /** The number of messages so far, to pass as `since` to waitFor. */
  mark(): number;
  /**
   * Resolves with the first message matching `pattern` from index `since` on (already
   * received or arriving within `timeoutMs`, default 60 s).
   */
  waitFor(pattern: RegExp, options?: { timeoutMs?: number; since?: number }): Promise<SyslogMessage>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port`; with a test context it is closed when the test ends. */
export async function startSyslogReceiver(
  t?: TestContext,
  options: { port?: number } = {},
): Promise<SyslogReceiver> {
  const port = options.port ?? SYSLOG_PORT;
  const socket: Socket = createSocket('udp4');
  const messages: SyslogMessage[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (m: SyslogMessage) => void }>();
  socket.on('message', (data) => {
    const message = { text: data.toString('utf8').replace(/\n+$/, ''), receivedAt: Date.now() };
    messages.push(message);
    for (const waiter of waiters) {
      if (!waiter.pattern.test(message.text)) continue;
      waiters.delete(waiter);
      waiter.resolve(message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) =>
      reject(
        new Error(
          `Cannot listen for syslog on 127.0.0.1:${port}/udp: ${error.message} (binding port 514 needs root or a lowered net.ipv4.ip_unprivileged_port_start)`,
        ),
      ),
    );
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  };
  t?.after(close);
  return {
    port,
    messages,
    lines: () => messages.map((m) => m.text),
    mark: () => messages.length,
    waitFor(pattern, options = {}) {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const found = messages.slice(options.since ?? 0).find((m) => pattern.test(m.text));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (m: SyslogMessage) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `No syslog line matching ${pattern} within ${timeoutMs} ms; ${messages.length} lines received, the last ones:\n` +
                messages
                  .slice(-10)
                  .map((m) => m.text)
                  .join('\n'),
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close,
  };
}
