/** A UDP receiver on 127.0.0.1 (a syslog server's view): every datagram, exactly as it arrived. */
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { servePeer } from './rpc.ts';

const socket = createSocket('udp4');
const datagrams: string[] = [];
socket.on('message', (message) => datagrams.push(message.toString('base64')));

await servePeer(
  {
    /** Every datagram so far, base64 (bytes as received). */
    datagrams: () => datagrams,
    /** Waits until at least `count` datagrams arrived (or `timeoutMs` passed); returns them all. */
    waitFor: async (count: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (datagrams.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return datagrams;
    },
  },
  () =>
    new Promise((resolve) =>
      socket.bind(0, '127.0.0.1', () => resolve({ port: (socket.address() as AddressInfo).port })),
    ),
);
