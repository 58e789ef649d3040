import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KERNEL_HOSTNAME_MAX, parseDomainName, parseHostname } from './hostname.ts';

test('RFC 1123 host names are accepted and lower-cased', () => {
  assert.deepEqual(parseHostname('Node-1.Lab.lan'), { ok: true, value: 'node-1.lab.lan' });
  assert.deepEqual(
    parseHostname('1node'),
    { ok: true, value: '1node' },
    'labels may start with a digit (RFC 1123)',
  );
  assert.equal(parseHostname(`${'a'.repeat(63)}.lan`).ok, true);
});

test('bad characters, long labels, long names, edge hyphens and numeric last labels are refused', () => {
  for (const bad of [
    'bad_host/..',
    'a..b',
    '-a',
    'a-',
    'a.-b',
    '',
    '.',
    'a.',
    'host name',
    'x.10',
    '1234',
    '0x0a',
    'ü.lan',
    'a/b',
  ])
    assert.equal(parseHostname(bad).ok, false, bad);
  assert.equal(parseHostname('a'.repeat(64)).ok, false, '64-character label');
  assert.equal(parseHostname('a'.repeat(70)).ok, false, '70 characters');
  assert.equal(parseHostname(`${'a.'.repeat(126)}ab`).ok, false, '254 characters');
  assert.equal(parseHostname(`${'a.'.repeat(125)}abc`).ok, true, '253 characters');
  assert.equal(parseHostname(`${'a.'.repeat(32)}ab`, KERNEL_HOSTNAME_MAX).ok, false, 'over the kernel limit');
});

test('search domains may be fully qualified (trailing dot)', () => {
  assert.deepEqual(parseDomainName('lab.lan.'), { ok: true, value: 'lab.lan' });
  assert.equal(parseDomainName('lab..lan').ok, false);
});

test('property: accepted names are lower-case RFC 1123 names; nothing throws', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'aZ09-._ /'.split('')), maxLength: 80 }), (text) => {
      const parsed = parseHostname(text);
      if (!parsed.ok) return;
      assert.ok(parsed.value.length <= 253);
      for (const label of parsed.value.split('.'))
        assert.match(label, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => void parseHostname(text)),
    { numRuns: 1000 },
  );
});
