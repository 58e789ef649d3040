import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hookSettings, parseCmdline } from '../lib/cmdline.ts';
import { daemonConfig, daemonJson, dockerProxyEnv } from './config.ts';

const settings = (cmdline: string) => hookSettings(parseCmdline(cmdline));

test('syslog_host selects the syslog log driver over UDP 514 with the container name as tag', () => {
  assert.deepEqual(daemonConfig(settings('syslog_host=10.0.2.2')), {
    'log-driver': 'syslog',
    'log-opts': { 'syslog-address': 'udp://10.0.2.2:514', tag: '{{.Name}}' },
  });
  assert.equal(
    (daemonConfig(settings('syslog_host=fd00::2'))['log-opts'] as Record<string, string>)['syslog-address'],
    'udp://[fd00::2]:514',
  );
});

test('insecure_registries becomes insecure-registries; nothing else, and never hosts', () => {
  const config = daemonConfig(settings('insecure_registries=10.0.2.2:5000,reg.lan'));
  assert.deepEqual(config, { 'insecure-registries': ['10.0.2.2:5000', 'reg.lan'] });
  assert.deepEqual(daemonConfig(settings('')), {});
  assert.equal(daemonJson(settings('')), '{}\n');
  const everything = daemonConfig(settings('syslog_host=h insecure_registries=r HTTP_PROXY=http://p:1'));
  assert.ok(!('hosts' in everything));
});

test('proxies go to the engine environment in both spellings, quoted for systemd', () => {
  assert.equal(
    dockerProxyEnv(settings('HTTP_PROXY=http://p:3128 NO_PROXY=10.0.0.0/8,.lan')),
    'HTTP_PROXY="http://p:3128"\nhttp_proxy="http://p:3128"\nNO_PROXY="10.0.0.0/8,.lan"\nno_proxy="10.0.0.0/8,.lan"\n',
  );
  assert.equal(
    dockerProxyEnv(settings('HTTPS_PROXY=http://a"b\\c')),
    'HTTPS_PROXY="http://a\\"b\\\\c"\nhttps_proxy="http://a\\"b\\\\c"\n',
  );
  assert.equal(dockerProxyEnv(settings('')), '');
});
