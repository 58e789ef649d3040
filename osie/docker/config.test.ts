import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { settingsFromText as settings } from '../lib/settings.ts';
import { daemonConfig, daemonJson, dockerProxyEnv, dockerWarnings, imageDaemonSettings } from './config.ts';

const JOURNAL = { 'log-driver': 'journald', 'log-opts': { tag: '{{.Name}}' }, 'userland-proxy': false };

test('container logs go to the journal, tagged with the container name, whatever syslog_host says', () => {
  // hook-syslog forwards them, redacted; Docker's syslog driver would send them unredacted.
  for (const cmdline of ['', 'syslog_host=10.0.2.2', 'syslog_host=10.0.0.1:514', 'syslog_host=bad_host']) {
    assert.deepEqual(daemonConfig(settings(cmdline)), JOURNAL, cmdline);
    assert.deepEqual(dockerWarnings(settings(cmdline)), [], "syslog_host is not hook-docker's to warn about");
  }
});

test('insecure_registries becomes insecure-registries (invalid entries left out); never hosts', () => {
  const config = daemonConfig(settings('insecure_registries=10.0.2.2:5000,reg.lan,10.0.0.0/8,bad/x/y'));
  assert.deepEqual(config, { ...JOURNAL, 'insecure-registries': ['10.0.2.2:5000', 'reg.lan', '10.0.0.0/8'] });
  assert.deepEqual(JSON.parse(daemonJson(settings(''))), JOURNAL);
  const everything = daemonConfig(
    settings('syslog_host=h.lan insecure_registries=r.lan HTTP_PROXY=http://p:1'),
  );
  assert.ok(!('hosts' in everything));
});

test("the image's registries (spec registries: insecure) merge with the command line's, once each", () => {
  const image = imageDaemonSettings('{"insecure-registries": ["registry.lan:5000", "[fd00::5]:5000"]}');
  assert.deepEqual(image.warnings, []);
  assert.deepEqual(daemonConfig(settings(''), image.settings), {
    ...JOURNAL,
    'insecure-registries': ['registry.lan:5000', '[fd00::5]:5000'],
  });
  assert.deepEqual(
    daemonConfig(settings('insecure_registries=10.0.2.2:5000,registry.lan:5000'), image.settings)[
      'insecure-registries'
    ],
    ['registry.lan:5000', '[fd00::5]:5000', '10.0.2.2:5000'],
  );
  assert.deepEqual(imageDaemonSettings(undefined), { settings: { insecureRegistries: [] }, warnings: [] });
});

test('a damaged image docker-daemon.json never stops the engine: bad entries and non-JSON are left out, with warnings', () => {
  const bad = imageDaemonSettings('{"insecure-registries": ["ok.lan", "a/b", 3, "x\\ny"]}');
  assert.deepEqual(bad.settings.insecureRegistries, ['ok.lan']);
  assert.equal(bad.warnings.length, 3);
  const notJson = imageDaemonSettings('{');
  assert.deepEqual(notJson.settings.insecureRegistries, []);
  assert.match(notJson.warnings[0] ?? '', /is not JSON/);
  assert.deepEqual(JSON.parse(daemonJson(settings(''), notJson.settings)), JOURNAL);
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
      assert.deepEqual(
        Object.keys(config).sort(),
        [
          'log-driver',
          'log-opts',
          'userland-proxy',
          ...('insecure-registries' in config ? ['insecure-registries'] : []),
        ].sort(),
      );
      for (const registry of (config['insecure-registries'] as string[] | undefined) ?? []) {
        assert.match(registry, /^[A-Za-z0-9.:[\]/-]+$/);
      }
    }),
    { numRuns: 1500 },
  );
});
