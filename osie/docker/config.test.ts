import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { settingsFromText as settings } from '../lib/settings.ts';
import { daemonConfig, daemonJson, dockerProxyEnv, dockerWarnings } from './config.ts';

const syslogAddress = (cmdline: string) =>
  (daemonConfig(settings(cmdline))['log-opts'] as Record<string, string> | undefined)?.['syslog-address'];

test('syslog_host selects the syslog log driver over UDP 514 with the container name as tag', () => {
  assert.deepEqual(daemonConfig(settings('syslog_host=10.0.2.2')), {
    'log-driver': 'syslog',
    'log-opts': { 'syslog-address': 'udp://10.0.2.2:514', tag: '{{.Name}}' },
  });
  assert.equal(syslogAddress('syslog_host=fd00::2'), 'udp://[fd00::2]:514');
  assert.equal(syslogAddress('syslog_host=logs.lan'), 'udp://logs.lan:514');
});

test('a port in syslog_host is used, never doubled (was udp://[10.0.0.1:514]:514)', () => {
  assert.equal(syslogAddress('syslog_host=10.0.0.1:514'), 'udp://10.0.0.1:514');
  assert.equal(syslogAddress('syslog_host=[fd00::2]:1514'), 'udp://[fd00::2]:1514');
});

test('an invalid syslog_host gives no syslog driver and a warning saying so', () => {
  for (const bad of ['10.0.0.1:514:514', '[::1', '010.0.0.1', 'bad_host', '224.0.0.1', '10.0.0.1:0']) {
    const s = settings(`syslog_host=${bad}`);
    assert.deepEqual(daemonConfig(s), {}, bad);
    const warnings = dockerWarnings(s);
    assert.equal(warnings.length, 1, bad);
    assert.match(warnings[0] ?? '', /^syslog_host=.*; no syslog log driver/, bad);
  }
});

test('insecure_registries becomes insecure-registries (invalid entries left out); never hosts', () => {
  const config = daemonConfig(settings('insecure_registries=10.0.2.2:5000,reg.lan,10.0.0.0/8,bad/x/y'));
  assert.deepEqual(config, { 'insecure-registries': ['10.0.2.2:5000', 'reg.lan', '10.0.0.0/8'] });
  assert.deepEqual(daemonConfig(settings('')), {});
  assert.equal(daemonJson(settings('')), '{}\n');
  const everything = daemonConfig(
    settings('syslog_host=h.lan insecure_registries=r.lan HTTP_PROXY=http://p:1'),
  );
  assert.ok(!('hosts' in everything));
});

test('proxies go to the engine environment in both spellings, quoted for systemd; invalid ones not at all', () => {
  assert.equal(
    dockerProxyEnv(settings('HTTP_PROXY=http://p:3128 NO_PROXY=10.0.0.0/8,.lan')),
    'HTTP_PROXY="http://p:3128"\nhttp_proxy="http://p:3128"\nNO_PROXY="10.0.0.0/8,.lan"\nno_proxy="10.0.0.0/8,.lan"\n',
  );
  assert.equal(
    dockerProxyEnv(settings('HTTPS_PROXY=http://u:p%5C%22w@proxy:3128')),
    'HTTPS_PROXY="http://u:p%5C%22w@proxy:3128"\nhttps_proxy="http://u:p%5C%22w@proxy:3128"\n',
  );
  assert.equal(dockerProxyEnv(settings('HTTPS_PROXY=http://a"b\\c')), '');
  assert.equal(dockerProxyEnv(settings('')), '');
});

test('property: daemon.json is valid JSON holding only checked values, whatever the command line', () => {
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('10.0.0.1:514', 'fd00::1', '[::1', 'a,b,c'),
  );
  const pair = fc
    .tuple(fc.constantFrom('syslog_host', 'insecure_registries', 'HTTP_PROXY', 'NO_PROXY'), value)
    .map(([k, v]) => `${k}=${v}`);
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
      const config = JSON.parse(daemonJson(settings(pairs.join(' ')))) as Record<string, unknown>;
      const address = (config['log-opts'] as Record<string, string> | undefined)?.['syslog-address'];
      if (address !== undefined) assert.match(address, /^udp:\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\]):\d{1,5}$/);
    }),
    { numRuns: 1500 },
  );
});
