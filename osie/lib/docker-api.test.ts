import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  demuxLogs,
  encodeRegistryAuth,
  LogDemuxer,
  lowerApiVersion,
  parseProgressLine,
  queryString,
} from './docker-api.ts';
import { base64Decode, concatBytes, utf8Decode, utf8Encode } from './platform/bytes.ts';

/** One multiplexed log frame: stream, 0, 0, 0, size (big-endian), payload. */
function frame(stream: number, text: string): Uint8Array {
  const payload = utf8Encode(text);
  const header = new Uint8Array(8);
  header[0] = stream;
  new DataView(header.buffer).setUint32(4, payload.length);
  return concatBytes([header, payload]);
}

test('X-Registry-Auth is base64url JSON with username, password and serveraddress', () => {
  const header = encodeRegistryAuth({ username: 'a', password: 'p?>~~', serveraddress: 'r:5000' });
  assert.ok(!/[+/=]/.test(header), 'URL-safe alphabet, no padding');
  assert.deepEqual(JSON.parse(utf8Decode(base64Decode(header) as Uint8Array)), {
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
  assert.equal(demuxLogs(concatBytes([frame(1, 'out\n'), frame(2, 'err\n')])), 'out\nerr\n');
  assert.equal(demuxLogs(utf8Encode('plain tty output that is long\n')), 'plain tty output that is long\n');
  assert.equal(demuxLogs(new Uint8Array(0)), '');
});

test('property: a log stream cut anywhere gives the same frames, in order, with their streams', () => {
  const frames = fc.array(fc.tuple(fc.constantFrom(1, 2), fc.string({ maxLength: 30 })), { maxLength: 8 });
  fc.assert(
    fc.property(frames, fc.array(fc.nat(), { maxLength: 6 }), (list, cuts) => {
      const data = concatBytes(list.map(([stream, text]) => frame(stream, text)));
      const seen: [number, string][] = [];
      const demuxer = new LogDemuxer((stream, payload) => seen.push([stream, utf8Decode(payload)]));
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      for (const point of [...points, data.length]) {
        demuxer.push(data.subarray(from, point));
        from = point;
      }
      assert.deepEqual(seen, list);
    }),
  );
});

test('progress lines: status, id and errors (either spelling) are read; other lines are skipped', () => {
  assert.deepEqual(parseProgressLine('{"status":"Downloading","id":"abc","progress":"[=> ]"}'), {
    status: 'Downloading',
    id: 'abc',
    progress: '[=> ]',
  });
  assert.deepEqual(parseProgressLine('{"errorDetail":{"message":"denied"}}'), { error: 'denied' });
  assert.deepEqual(parseProgressLine('{"error":"manifest unknown","errorDetail":{"message":"x"}}'), {
    error: 'manifest unknown',
  });
  assert.equal(parseProgressLine(''), undefined);
  assert.equal(parseProgressLine('not json'), undefined);
  assert.equal(parseProgressLine('null'), undefined);
});

test('query strings percent-encode values and leave out undefined ones', () => {
  assert.equal(
    queryString({ fromImage: 'reg.test:5000/tink-worker', tag: 'latest', x: undefined, all: 1 }),
    'fromImage=reg.test%3A5000%2Ftink-worker&tag=latest&all=1',
  );
});
