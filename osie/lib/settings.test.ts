import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseCmdline } from './cmdline.ts';
import { parseHostPort } from './host-port.ts';
import { goPathJoin, parseImageRef } from './image-ref.ts';
import { parseMac } from './mac.ts';
import { latin1Decode } from './platform/bytes.ts';
import { parseNoProxy, parseProxyUrl } from './proxy.ts';
import { hookSettings, settingsFromText, settingWarnings } from './settings.ts';

test('hookSettings reads every key of the contract into typed values', () => {
  const settings = hookSettings(
    parseCmdline(
      [
        'tink_worker_image="quay.io/tinkerbell/tink-agent:v1"',
        'docker_registry=10.0.2.2:5000/',
        'registry_username=admin',
        'registry_password=s3cr=t',
        'grpc_authority=10.0.2.2',
        'worker_id=52:54:00:12:34:56',
        'tinkerbell_tls=false',
        'tinkerbell_insecure_tls=true',
        'syslog_host=10.0.2.2',
        'insecure_registries=10.0.2.2:5000,,reg.lan,10.0.0.0/8',
        'HTTP_PROXY=http://proxy:3128',
        'HTTPS_PROXY=http://proxy:3129',
        'NO_PROXY=10.0.0.0/8,.lan',
        'hw_addr=52-54-00-12-34-56',
        'vlan_id=100',
        'interface=eth1,eth2',
        'ipam=52-54-00-12-34-56:100:10.1.1.5:255.255.255.0:10.1.1.1:node1:1.1.1.1::',
        'ip=dhcp',
      ].join(' '),
    ),
  );
  assert.deepEqual(settings, {
    tinkWorkerImage: 'quay.io/tinkerbell/tink-agent:v1',
    dockerRegistry: '10.0.2.2:5000',
    credentialRegistry: '10.0.2.2:5000',
    registryUsername: 'admin',
    registryPassword: 's3cr=t',
    grpcAuthority: '10.0.2.2',
    workerId: '52:54:00:12:34:56',
    tinkerbellTls: 'false',
    tinkerbellInsecureTls: 'true',
    syslogHost: { kind: 'ipv4', host: '10.0.2.2', port: undefined },
    insecureRegistries: ['10.0.2.2:5000', 'reg.lan', '10.0.0.0/8'],
    httpProxy: 'http://proxy:3128',
    httpsProxy: 'http://proxy:3129',
    noProxy: '10.0.0.0/8,.lan',
    hwAddr: '52:54:00:12:34:56',
    vlanId: 100,
    interfaces: ['eth1', 'eth2'],
    ipam: {
      mac: '52:54:00:12:34:56',
      vlan: 100,
      address: '10.1.1.5',
      prefixLength: 24,
      gateway: '10.1.1.1',
      hostname: 'node1',
      dns: ['1.1.1.1'],
      search: [],
      ntp: [],
    },
    hasDracutIp: true,
    warnings: [],
  });
});

test('grpc_authority passes unchanged (no port added); registry_password loses trailing newlines', () => {
  assert.equal(settingsFromText('grpc_authority=tink.lan').grpcAuthority, 'tink.lan');
  assert.equal(settingsFromText('grpc_authority=[fd00::1]:42113').grpcAuthority, '[fd00::1]:42113');
  assert.equal(hookSettings(new Map([['registry_password', 'pa ss\r\n\n']])).registryPassword, 'pa ss');
});

test('the values issue 7 lists never pass through: each is dropped with a warning naming key and reason', () => {
  const cases: [string, string, RegExp][] = [
    ['ipam=52-54-00-aa-bb-01::010.0.0.5:24::h:1.1.1.1', 'ipam', /leading zero/],
    ['ipam=52-54-00-aa-bb-01::224.0.0.1:0::h:1.1.1.1', 'ipam', /\/0/],
    ['ipam=52-54-00-aa-bb-01::10.0.0.5:24::h:not-an-ip', 'ipam', /DNS server "not-an-ip"/],
    ['hw_addr=zz:zz', 'hw_addr', /not a MAC/],
    [`ipam=52-54-00-aa-bb-01::10.0.0.5:24::${'h'.repeat(70)}:1.1.1.1`, 'ipam', /host name .* longer than 64/],
    ['ipam=52-54-00-aa-bb-01::10.0.0.5:24::bad_host/..:1.1.1.1', 'ipam', /host name .* not a host name/],
    ['syslog_host=10.0.0.1:514:514', 'syslog_host', /not an IPv6 address/],
    ['grpc_authority=[::1', 'grpc_authority', /never closes/],
    ['tink_worker_image="quay.io/x:v1"x', 'tink_worker_image', /not an image reference/],
    ['docker_registry=bad_host:99/', 'docker_registry', /not an image reference/],
    ['vlan_id=5000', 'vlan_id', /VLAN ID/],
    ['interface=eth0,bad/name', 'interface', /bad\/name/],
    ['HTTP_PROXY=ftp://p:21', 'HTTP_PROXY', /scheme/],
    ['NO_PROXY=.lan,bad_host', 'NO_PROXY', /bad_host/],
    ['insecure_registries=ok.lan,10.0.0.1:99999', 'insecure_registries', /port/],
    ['worker_id=a\u00e9b', 'worker_id', /printable ASCII/],
    ['tinkerbell_tls=yes', 'tinkerbell_tls', /boolean/],
  ];
  for (const [cmdline, key, reason] of cases) {
    const settings = settingsFromText(cmdline);
    assert.equal(settings.warnings.length, 1, cmdline);
    assert.equal(settings.warnings[0]?.key, key, cmdline);
    assert.match(settings.warnings[0]?.problem ?? '', new RegExp(`^${key}=`), cmdline);
    assert.match(settings.warnings[0]?.problem ?? '', reason, cmdline);
  }
  const bad = settingsFromText(
    'hw_addr=zz:zz syslog_host=10.0.0.1:514:514 grpc_authority=[::1 tink_worker_image="q.io/x:v1"x vlan_id=0',
  );
  assert.equal(bad.hwAddr, '');
  assert.equal(bad.syslogHost, undefined);
  assert.equal(bad.grpcAuthority, '');
  assert.equal(bad.tinkWorkerImage, '');
  assert.equal(bad.vlanId, undefined);
});

test('syslog_host accepts host:port, [v6]:port and a bare IPv6 address', () => {
  assert.deepEqual(settingsFromText('syslog_host=10.0.0.1:514').syslogHost, {
    kind: 'ipv4',
    host: '10.0.0.1',
    port: 514,
  });
  assert.deepEqual(settingsFromText('syslog_host=fd00::2').syslogHost, {
    kind: 'ipv6',
    host: 'fd00::2',
    port: undefined,
  });
  assert.deepEqual(settingsFromText('syslog_host=[fd00::2]:1514').syslogHost, {
    kind: 'ipv6',
    host: 'fd00::2',
    port: 1514,
  });
});

test('credentials go only to a registry host: docker_registry without one names none', () => {
  assert.equal(
    settingsFromText('docker_registry=reg.lan:5000/tinkerbell').credentialRegistry,
    'reg.lan:5000',
  );
  assert.equal(settingsFromText('docker_registry=index.docker.io').credentialRegistry, 'docker.io');
  assert.equal(settingsFromText('docker_registry=tinkerbell').credentialRegistry, undefined);
  assert.equal(settingsFromText('docker_registry=tinkerbell').dockerRegistry, 'tinkerbell');
});

test('each service reports its own keys with its own consequence; ipam notes carry theirs', () => {
  const settings = settingsFromText(
    'syslog_host=bad_host hw_addr=zz ipam=52-54-00-aa-bb-01::10.0.0.5:24::bad_host:1.1.1.1',
  );
  assert.deepEqual(settingWarnings(settings, new Map([['syslog_host', 'no syslog']])), [
    'syslog_host="bad_host": not host[:port] ("bad_host" is not a host name (labels of letters, digits and inner hyphens, separated by dots)); no syslog',
  ]);
  assert.deepEqual(
    settingWarnings(
      settings,
      new Map([
        ['ipam', 'DHCP'],
        ['hw_addr', 'ignored'],
      ]),
    ).map((line) => line.replace(/=.*;/, '=…;')),
    ['hw_addr=…; ignored', 'ipam=…; no host name from ipam='],
  );
});

const CONTRACT_KEYS = [
  'tink_worker_image',
  'docker_registry',
  'registry_username',
  'registry_password',
  'grpc_authority',
  'worker_id',
  'tinkerbell_tls',
  'tinkerbell_insecure_tls',
  'syslog_host',
  'insecure_registries',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'hw_addr',
  'vlan_id',
  'interface',
  'ipam',
];

test('property: never throws, and every value that comes out passes its own parser (nothing raw)', () => {
  const valueText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:-/[]"_,=@ '.split('')), maxLength: 40 }),
    fc.constantFrom(
      '10.0.0.1',
      '010.0.0.5',
      '[::1',
      'fd00::1',
      'a:b:c',
      'reg.lan:5000/',
      '52-54-00-aa-bb-01::10.0.0.5:24::h:1.1.1.1',
    ),
  );
  const pair = fc.tuple(fc.constantFrom(...CONTRACT_KEYS), valueText).map(([k, v]) => `${k}=${v}`);
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 12 }), (pairs) => {
      const s = settingsFromText(pairs.join(' '));
      if (s.tinkWorkerImage !== '') assert.ok(parseImageRef(s.tinkWorkerImage).ok);
      if (s.dockerRegistry !== '')
        assert.ok(parseImageRef(goPathJoin(s.dockerRegistry, 'tink-worker:latest')).ok);
      if (s.grpcAuthority !== '') assert.ok(parseHostPort(s.grpcAuthority).ok);
      if (s.hwAddr !== '') assert.ok(parseMac(s.hwAddr).ok);
      if (s.httpProxy !== '') assert.ok(parseProxyUrl(s.httpProxy).ok);
      assert.deepEqual(parseNoProxy(s.noProxy).invalid, []);
      if (s.vlanId !== undefined) assert.ok(s.vlanId >= 1 && s.vlanId <= 4094);
      for (const entry of s.interfaces) assert.match(entry, /^[A-Za-z0-9_.:@*?-]{1,15}$/);
      for (const warning of s.warnings) assert.ok(CONTRACT_KEYS.includes(warning.key));
    }),
    { numRuns: 3000 },
  );
  const bytes = fc.uint8Array({ maxLength: 800 }).map((b) => latin1Decode(b));
  fc.assert(
    fc.property(bytes, (text) => void settingsFromText(text)),
    { numRuns: 3000 },
  );
});
