import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { concatBytes, latin1Decode, utf8Decode, utf8Encode } from './bytes.ts';
import { HttpParseError, type ResponseHead, ResponseParser, serializeRequest } from './http1.ts';

interface Parsed {
  head?: ResponseHead;
  body: string;
  ended: boolean;
  chunks: number;
}

/** Feeds `pieces` to a parser; `close` also ends the connection after them. */
function parse(pieces: (string | Uint8Array)[], options: { method?: string; close?: boolean } = {}): Parsed {
  const result: Parsed = { body: '', ended: false, chunks: 0 };
  const body: Uint8Array[] = [];
  const parser = new ResponseParser(
    {
      head: (head) => {
        result.head = head;
      },
      data: (chunk) => {
        body.push(chunk.slice());
        result.chunks++;
      },
      end: () => {
        result.ended = true;
      },
    },
    options.method,
  );
  for (const piece of pieces) parser.push(typeof piece === 'string' ? utf8Encode(piece) : piece);
  if (options.close) parser.finish();
  result.body = utf8Decode(concatBytes(body));
  return result;
}

test('requests: the request line, Host, Connection: close, headers, and a Content-Length for bodies', () => {
  const text = latin1Decode(
    serializeRequest({
      method: 'POST',
      path: '/v1.41/containers/create?name=tink-worker',
      headers: { 'Content-Type': 'application/json' },
      body: utf8Encode('{"é":1}'),
    }),
  );
  assert.equal(
    text,
    'POST /v1.41/containers/create?name=tink-worker HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n' +
      'Content-Type: application/json\r\nContent-Length: 8\r\n\r\n{"\u00c3\u00a9":1}',
  );
  assert.match(
    latin1Decode(serializeRequest({ method: 'POST', path: '/start' })),
    /Content-Length: 0\r\n\r\n$/,
  );
  assert.doesNotMatch(latin1Decode(serializeRequest({ method: 'GET', path: '/_ping' })), /Content-Length/);
  assert.throws(
    () => serializeRequest({ method: 'GET', path: '/', headers: { X: 'a\r\nEvil: 1' } }),
    /invalid/,
  );
  assert.throws(() => serializeRequest({ method: 'GET', path: '/a b' }), /invalid/);
});

test('responses: Content-Length, chunked with extensions and trailers, until close, no body', () => {
  const fixed = parse(['HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Length: 5\r\n\r\nhello']);
  assert.equal(fixed.head?.status, 200);
  assert.equal(fixed.head?.headers.get('content-type'), 'a');
  assert.equal(fixed.body, 'hello');
  assert.ok(fixed.ended);

  const chunked = parse([
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    '5;ext=1\r\nhello\r\n',
    '1A\r\n',
    ' and twenty-five more byte\r\n0\r\nX-Trailer: t\r\n\r\n',
  ]);
  assert.equal(chunked.body, 'hello and twenty-five more byte');
  assert.ok(chunked.ended);

  const closing = parse(['HTTP/1.0 200 OK\r\n\r\nuntil', ' the end'], { close: true });
  assert.equal(closing.body, 'until the end');
  assert.ok(closing.ended);

  for (const status of [204, 304]) {
    const empty = parse([`HTTP/1.1 ${status} X\r\nContent-Length: 3\r\n\r\n`]);
    assert.ok(empty.ended && empty.body === '', String(status));
  }
  assert.ok(parse(['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n'], { method: 'HEAD' }).ended);
  const interim = parse(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok']);
  assert.equal(interim.head?.status, 201);
  assert.equal(interim.body, 'ok');
  const repeated = parse(['HTTP/1.1 200 OK\r\nVary: a\r\nvary: b\r\nContent-Length: 0\r\n\r\n']);
  assert.equal(repeated.head?.headers.get('vary'), 'a, b');
});

test('malformed or cut responses are errors, never a silent success', () => {
  const bad = (pieces: string[], pattern: RegExp, close = false) =>
    assert.throws(
      () => parse(pieces, { close }),
      (error: unknown) => error instanceof HttpParseError && pattern.test(error.message),
    );
  bad(['SSH-2.0-OpenSSH\r\n\r\n'], /status line/);
  bad(['HTTP/1.1 200 OK\r\n folded: x\r\n\r\n'], /header line/);
  bad(['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'], /Content-Length/);
  bad(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'], /chunk size/);
  bad(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n'], /longer than its size/);
  bad(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'], /before the response was complete/, true);
  bad([], /without a response/, true);
});

test('property: a response cut into any pieces parses as it does whole', () => {
  const body = fc.string({ unit: 'binary', maxLength: 200 });
  const response = fc.oneof(
    body.map((text) => {
      const payload = utf8Encode(text);
      return concatBytes([
        utf8Encode(`HTTP/1.1 200 OK\r\nContent-Length: ${payload.length}\r\n\r\n`),
        payload,
      ]);
    }),
    fc.array(body, { maxLength: 5 }).map((parts) => {
      const pieces = parts
        .filter((part) => part !== '')
        .map((part) => {
          const payload = utf8Encode(part);
          return concatBytes([utf8Encode(`${payload.length.toString(16)}\r\n`), payload, utf8Encode('\r\n')]);
        });
      return concatBytes([
        utf8Encode('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
        ...pieces,
        utf8Encode('0\r\n\r\n'),
      ]);
    }),
  );
  fc.assert(
    fc.property(response, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
      const whole = parse([bytes]);
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const pieces: Uint8Array[] = [];
      let from = 0;
      for (const point of [...points, bytes.length]) {
        pieces.push(bytes.subarray(from, point));
        from = point;
      }
      const split = parse(pieces);
      assert.ok(whole.ended && split.ended);
      assert.equal(split.body, whole.body);
      assert.equal(split.head?.status, 200);
    }),
  );
});
