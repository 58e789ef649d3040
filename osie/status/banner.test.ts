import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BANNER_MARK, renderStatus, type StatusInput } from './banner.ts';

const input: StatusInput = {
  os: 'HookOS 0.1.0 (hookos)',
  kernel: '6.12.57+deb13-amd64',
  hostname: 'hook-525400123456',
  interfaces: [
    { name: 'enp0s2', mac: '52:54:00:12:34:56', up: true, addresses: ['10.0.2.15/24', 'fec0::1/64'] },
    { name: 'docker0', mac: '02:42:ac:11:00:01', up: false, addresses: [] },
  ],
  server: '10.0.2.2:42113',
  tls: 'false',
  insecureTls: 'false',
  image: '10.0.2.2:5000/test/worker:1',
  worker: { phase: 'running', image: '10.0.2.2:5000/test/worker:1', container: '3f2a9c1b8d7e' },
};

test('the status: versions, one line per interface, server, image and what tink-worker does', () => {
  assert.equal(
    renderStatus(input),
    [
      `${BANNER_MARK}: HookOS 0.1.0 (hookos) | kernel 6.12.57+deb13-amd64 | hook-525400123456 ===`,
      '  enp0s2   up    52:54:00:12:34:56  10.0.2.15/24 fec0::1/64',
      '  docker0  down  02:42:ac:11:00:01  no address',
      '  Tinkerbell server  10.0.2.2:42113 (plain gRPC, no TLS)',
      '  worker image       10.0.2.2:5000/test/worker:1',
      '  tink-worker        running (container 3f2a9c1b8d7e)',
      '',
    ].join('\n'),
  );
});

test('TLS as the worker reads it; what is missing is said; control characters cannot reach the terminal', () => {
  const text = renderStatus({
    ...input,
    interfaces: [],
    server: 'tink.example:42113',
    tls: 'TRUE',
    insecureTls: '1',
    image: undefined,
    worker: { phase: 'failing', error: 'pull failed: \u001b[2Jgone\r\nretry' },
  });
  assert.match(text, /\(no network interface found\)/);
  assert.match(text, /Tinkerbell server {2}tink\.example:42113 \(TLS, certificate not verified\)/);
  assert.match(text, /worker image {7}not set \(no tink_worker_image or docker_registry/);
  assert.match(text, /tink-worker {8}failing, retrying: pull failed: \[2Jgone retry/);
  assert.doesNotMatch(text, /\u001b|\r/);
  assert.match(renderStatus({ ...input, tls: 'true', insecureTls: 'false' }), /\(TLS\)/);
  assert.match(renderStatus({ ...input, server: '' }), /Tinkerbell server {2}not set \(no grpc_authority/);
});
