import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hookSettings, parseCmdline, withDefaultPort } from './cmdline.ts';

const latin1 = fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes).toString('latin1'));
const keyChars = fc.constantFrom(...'abcXYZ_-.09'.split(''));
const key = fc.string({ unit: keyChars, minLength: 1, maxLength: 8 });
const valueChars = fc.constantFrom(...'ab=:/,.@Z9\u00a0'.split(''));
const value = fc.string({ unit: valueChars, maxLength: 12 });
const space = fc.string({
  unit: fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f'),
  minLength: 1,
  maxLength: 40,
});

test('parseCmdline never throws on arbitrary bytes', () => {
  fc.assert(
    fc.property(latin1, (text) => {
      const map = parseCmdline(text);
      for (const [k, v] of map) {
        assert.ok(k.length > 0 || v.length >= 0);
        assert.ok(!/[ \t\n\v\f\r]/.test(k + v), 'no kernel whitespace survives in keys or values');
      }
    }),
  );
});

test('the last occurrence wins and values split at the first "="', () => {
  const pair = fc.tuple(key, fc.option(value, { nil: undefined }));
  fc.assert(
    fc.property(fc.array(fc.tuple(pair, space), { maxLength: 20 }), space, (pairs, lead) => {
      const text = lead + pairs.map(([[k, v], sep]) => (v === undefined ? k : `${k}=${v}`) + sep).join('');
      const expected = new Map<string, string>();
      for (const [[k, v]] of pairs) expected.set(k, v ?? '');
      const actual = parseCmdline(text);
      assert.deepEqual(new Map([...actual].sort()), new Map([...expected].sort()));
    }),
  );
});

test('a 1024-character run of spaces (Smee-patched ISO placeholder) is just whitespace', () => {
  const text = `console=ttyS0 ${' '.repeat(1024)}worker_id=aa:bb\t\n  tink_worker_image=r.io/tw:v1${' '.repeat(1024)}`;
  const map = parseCmdline(text);
  assert.deepEqual(
    [...map],
    [
      ['console', 'ttyS0'],
      ['worker_id', 'aa:bb'],
      ['tink_worker_image', 'r.io/tw:v1'],
    ],
  );
});

test('bare keys are present with an empty value; keys are case-sensitive', () => {
  const map = parseCmdline('quiet HTTP_PROXY=http://p:3128 http_proxy=other =x a==b');
  assert.equal(map.get('quiet'), '');
  assert.ok(map.has('quiet'));
  assert.equal(map.get('HTTP_PROXY'), 'http://p:3128');
  assert.equal(map.get('http_proxy'), 'other');
  assert.equal(map.get(''), 'x');
  assert.equal(map.get('a'), '=b');
});

test('U+00A0 (a latin1 byte) is not whitespace for the kernel, so it stays inside a word', () => {
  assert.deepEqual(
    [...parseCmdline('a=x\u00a0y b')],
    [
      ['a', 'x\u00a0y'],
      ['b', ''],
    ],
  );
});

test('hookSettings reads every key of the contract', () => {
  const settings = hookSettings(
    parseCmdline(
      [
        'tink_worker_image=quay.io/tinkerbell/tink-agent:v1',
        'docker_registry=10.0.2.2:5000',
        'registry_username=admin',
        'registry_password=s3cr=t\n',
        'grpc_authority=10.0.2.2',
        'worker_id=52:54:00:12:34:56',
        'tinkerbell_tls=false',
        'tinkerbell_insecure_tls=true',
        'syslog_host=10.0.2.2',
        'insecure_registries=10.0.2.2:5000,,reg.lan ',
        'HTTP_PROXY=http://proxy:3128',
        'HTTPS_PROXY=http://proxy:3129',
        'NO_PROXY=10.0.0.0/8,.lan',
        'hw_addr=52-54-00-12-34-56',
        'vlan_id=100',
        'interface=eth1',
        'ipam=52-54-00-12-34-56:100:10.1.1.5:255.255.255.0:10.1.1.1:node1:1.1.1.1::',
        'ip=dhcp',
      ].join(' '),
    ),
  );
  assert.deepEqual(settings, {
    tinkWorkerImage: 'quay.io/tinkerbell/tink-agent:v1',
    dockerRegistry: '10.0.2.2:5000',
    registryUsername: 'admin',
    // The kernel command line cannot carry a newline inside a word, so it is split off here.
    registryPassword: 's3cr=t',
    grpcAuthority: '10.0.2.2:42113',
    workerId: '52:54:00:12:34:56',
    tinkerbellTls: 'false',
    tinkerbellInsecureTls: 'true',
    syslogHost: '10.0.2.2',
    insecureRegistries: ['10.0.2.2:5000', 'reg.lan'],
    httpProxy: 'http://proxy:3128',
    httpsProxy: 'http://proxy:3129',
    noProxy: '10.0.0.0/8,.lan',
    hwAddr: '52:54:00:12:34:56',
    vlanId: '100',
    interface: 'eth1',
    ipam: '52-54-00-12-34-56:100:10.1.1.5:255.255.255.0:10.1.1.1:node1:1.1.1.1::',
    hasDracutIp: true,
  });
});

test('registry_password loses trailing newlines when they reach the parser', () => {
  const settings = hookSettings(new Map([['registry_password', 'pa ss\r\n\n']]));
  assert.equal(settings.registryPassword, 'pa ss');
});

test('hookSettings of an empty command line is all empty', () => {
  const settings = hookSettings(parseCmdline(''));
  assert.equal(settings.grpcAuthority, '');
  assert.deepEqual(settings.insecureRegistries, []);
  assert.equal(settings.hasDracutIp, false);
});

test('grpc_authority gets port 42113 only when it has none', () => {
  assert.equal(withDefaultPort('tink.lan', 42113), 'tink.lan:42113');
  assert.equal(withDefaultPort('tink.lan:50051', 42113), 'tink.lan:50051');
  assert.equal(withDefaultPort('[fd00::1]', 42113), '[fd00::1]:42113');
  assert.equal(withDefaultPort('[fd00::1]:1', 42113), '[fd00::1]:1');
  assert.equal(withDefaultPort('fd00::1', 42113), '[fd00::1]:42113');
});
