import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demuxLogs, encodeRegistryAuth, lowerApiVersion } from './docker-api.ts';

test('X-Registry-Auth is base64url JSON with username, password and serveraddress', () => {
  const header = encodeRegistryAuth({ username: 'a', password: 'p?>~~', serveraddress: 'r:5000' });
  assert.ok(!/[+/=]/.test(header), 'URL-safe alphabet, no padding');
  assert.deepEqual(JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), {
    username: 'a',
    password: 'p?>~~',
    serveraddress: 'r:5000',
  });
});

test('the API version is the lower of the engine and the client', () => {
  assert.equal(lowerApiVersion('1.45', '1.41'), '1.41');
  assert.equal(lowerApiVersion('1.40', '1.41'), '1.40');
  assert.equal(lowerApiVersion('1.9', '1.41'), '1.9');
  assert.equal(lowerApiVersion('2.0', '1.41'), '1.41');
});

test('multiplexed log frames are joined; a raw TTY stream is kept as is', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  assert.equal(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')])), 'out\nerr\n');
  assert.equal(demuxLogs(Buffer.from('plain tty output that is long\n')), 'plain tty output that is long\n');
  assert.equal(demuxLogs(Buffer.alloc(0)), '');
});
