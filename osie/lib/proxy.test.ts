import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseNoProxy, parseProxyUrl } from './proxy.ts';

test('proxy URLs: http, https, socks5(h), or a bare host:port as Go reads it', () => {
  for (const good of [
    'http://proxy:3128',
    'https://proxy.lan:3129/',
    'socks5://10.0.0.1:1080',
    'proxy.lan:3128',
    'http://user:p%40ss@proxy:3128',
    'http://[fd00::1]:3128',
  ])
    assert.deepEqual(parseProxyUrl(good), { ok: true, value: good }, good);
  const cases: [string, RegExp][] = [
    ['ftp://proxy:21', /scheme/],
    ['http://proxy:3128/path', /path/],
    ['http://010.0.0.1:3128', /leading zero/],
    ['http://', /host name is empty/],
    ['http://proxy:99999', /port/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseProxyUrl(text);
    assert.match(parsed.ok ? 'accepted' : parsed.reason, reason, text);
  }
});

test('NO_PROXY entries: hosts, .domains, IPs, CIDR blocks, *; invalid ones are named', () => {
  assert.deepEqual(parseNoProxy('localhost, .lan,10.0.0.0/8,fd00::/8,10.0.2.2:5000,*,bad_host,[::1]'), {
    entries: ['localhost', '.lan', '10.0.0.0/8', 'fd00::/8', '10.0.2.2:5000', '*', '[::1]'],
    invalid: ['bad_host'],
  });
});

test('property: the proxy parsers never throw', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (text) => {
      parseProxyUrl(text);
      const { entries, invalid } = parseNoProxy(text);
      assert.ok(entries.length + invalid.length <= text.split(',').length);
    }),
    { numRuns: 2000 },
  );
});
