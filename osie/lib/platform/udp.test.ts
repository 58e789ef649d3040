/**
 * UDP through bash's /dev/udp (trixie's bash) to a Node dgram receiver on 127.0.0.1: each send is
 * exactly one datagram with exactly the bytes sent (RFC 5426: one syslog message per datagram).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childCommand, childProgram } from '../../test-runner/child.ts';
import { startPeer } from '../../test-runner/peer.ts';
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from './bytes.ts';
import { args } from './process.ts';
import { inheritedUdpSocket, spawnWithUdpSocket, UDP_OPEN_FAILED } from './udp.ts';

/** What the sender sends: multi-line text, an empty message, UTF-8, and the largest syslog line. */
const MESSAGES = ['one', 'two\nlines\n', '', '<30>1 é ✓', `<14>1 ${'x'.repeat(2400)}`, 'last'];

childProgram('udp-sender', async () => {
  const socket = inheritedUdpSocket();
  if (socket === undefined) return 2;
  for (const message of MESSAGES) {
    const result = socket.send(utf8Encode(message));
    if (result < 0) return 4;
  }
  return args().includes('--fail') ? 9 : 0;
});

test('each send is one datagram with exactly its bytes, in order', async () => {
  const receiver = await startPeer<{ port: number }>('udp-receiver');
  try {
    const { argv, env } = childCommand('udp-sender');
    const child = spawnWithUdpSocket('127.0.0.1', receiver.ready.port, argv, { env });
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    const datagrams = await receiver.call<string[]>('waitFor', MESSAGES.length, 3000);
    assert.deepEqual(
      datagrams.map((d) => utf8Decode(base64Decode(d) as Uint8Array)),
      MESSAGES,
    );
    assert.deepEqual(
      datagrams,
      MESSAGES.map((m) => base64Encode(utf8Encode(m))),
    );
  } finally {
    await receiver.close();
  }
});

test("the program's exit code comes back; a socket bash cannot open is exit code 75", async () => {
  const receiver = await startPeer<{ port: number }>('udp-receiver');
  try {
    const { argv, env } = childCommand('udp-sender');
    const failing = spawnWithUdpSocket('127.0.0.1', receiver.ready.port, [...argv, '--fail'], { env });
    assert.equal((await failing.exited).code, 9);
    const unresolvable = spawnWithUdpSocket('no-such-host.invalid', 514, argv, { env, stderr: 'null' });
    assert.equal((await unresolvable.exited).code, UDP_OPEN_FAILED);
    assert.equal(inheritedUdpSocket(), undefined, 'this process has none');
  } finally {
    await receiver.close();
  }
});
