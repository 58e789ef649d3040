import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isHookError } from '../errors.ts';
import { parseDeb822 } from './deb822.ts';
import { parsePackagesIndex, toBinaryPackage } from './packages-index.ts';
import type { BinaryPackage } from './types.ts';

const origin = { suite: 'trixie', component: 'main', mirror: 'http://127.0.0.1/debian' };
const SHA = 'ab'.repeat(32);

/** The straightforward definition the one-pass scanner must agree with. */
function reference(text: string): BinaryPackage[] {
  return parseDeb822(text, 'P').map((stanza, i) => toBinaryPackage(stanza, origin, i + 1, 'P'));
}

function outcome(parse: () => BinaryPackage[]): unknown {
  try {
    return parse().map((pkg) => ({ ...pkg }));
  } catch (error) {
    return isHookError(error) ? { code: error.code, message: error.message } : error;
  }
}

function stanza(name: string, extra = ''): string {
  return `Package: ${name}\nVersion: 1.0-1\nArchitecture: amd64\nFilename: pool/${name}.deb\nSize: 10\nSHA256: ${SHA}\n${extra}`;
}

describe('parsePackagesIndex', () => {
  it('reads the record fields and keeps every field in `fields`', () => {
    const text = `${stanza('a', 'Depends: b (>= 1),\n c | d\nMulti-Arch: foreign\nInstalled-Size: 42\nImportant: yes\nDescription: short\n long line\n .\n more\n')}\n${stanza('b')}`;
    const [a, b] = parsePackagesIndex(text, origin, 'P');
    assert.equal(a?.name, 'a');
    assert.equal(a?.depends, 'b (>= 1), c | d');
    assert.equal(a?.multiArch, 'foreign');
    assert.equal(a?.installedSizeKiB, 42);
    assert.equal(a?.fields.Important, 'yes');
    assert.equal(a?.fields.Description, 'short\nlong line\n.\nmore');
    assert.equal(a?.fields.Depends, 'b (>= 1),\nc | d');
    assert.equal(b?.name, 'b');
    assert.deepEqual(Object.keys(b?.fields ?? {}), [
      'Package',
      'Version',
      'Architecture',
      'Filename',
      'Size',
      'SHA256',
    ]);
  });

  it('agrees with parseDeb822 + toBinaryPackage on edge cases', () => {
    const cases = [
      '',
      '\n\n',
      stanza('a'),
      `${stanza('a')}\r\n\r\n${stanza('b').replaceAll('\n', '\r\n')}`,
      `# comment\n${stanza('a')}# inside\n\n \t \n${stanza('b')}`,
      `${stanza('a', 'Depends: x\n# c\n y\n')}`,
      `${stanza('a', 'Version: 2\n')}`,
      `Package:   a  \t\nVersion: 1\nArchitecture: all\nFilename: f\nSize: 1\nSHA256: ${SHA.toUpperCase()}\n`,
      `${stanza('a', 'Priority: \u00a0optional\u00a0\n')}`,
      `${stanza('a')}\u00a0\n${stanza('b')}`,
      `${stanza('a')}\v\n${stanza('b')}`,
      ' continuation first\n',
      `${stanza('a')}\n continuation after blank\n`,
      `${stanza('a')}no colon here\n`,
      `${stanza('a')}: empty name\n`,
      stanza('a').replace('Size: 10', 'Size: -1'),
      stanza('a').replace(`SHA256: ${SHA}`, 'SHA256: xyz'),
      `${stanza('a').replace('Version: 1.0-1\n', '')}\n${stanza('b')}\nbroken`,
      `${stanza('a').replace('Filename: pool/a.deb\n', 'Filename:\n')}`,
      `${stanza('a')}\n${stanza('b').replace('Package: b\n', '')}\n${stanza('c')}`,
    ];
    for (const text of cases) {
      assert.deepEqual(
        outcome(() => parsePackagesIndex(text, origin, 'P')),
        outcome(() => reference(text)),
        JSON.stringify(text),
      );
    }
  });

  it('agrees with parseDeb822 + toBinaryPackage on generated indexes', () => {
    const name = fc.constantFrom('Package', 'Version', 'Depends', 'Size', 'SHA256', 'X-Other', 'Description');
    const value = fc.constantFrom('', 'a', ' b ', '1', SHA, 'x (>= 1) | y', '\u00e9t\u00e9', '\t');
    const line = fc.oneof(
      fc.tuple(name, value).map(([n, v]) => `${n}:${v}`),
      value.map((v) => ` ${v}`),
      fc.constantFrom('', '#c', '\r', ' ', 'junk'),
    );
    const block = fc.array(line, { maxLength: 6 });
    const index = fc.tuple(fc.array(block, { maxLength: 4 }), fc.boolean()).map(([blocks, crlf]) =>
      blocks
        .map((lines) => `${stanza('p')}${lines.join('\n')}`)
        .join('\n\n')
        .replaceAll('\n', crlf ? '\r\n' : '\n'),
    );
    fc.assert(
      fc.property(index, (text) => {
        assert.deepEqual(
          outcome(() => parsePackagesIndex(text, origin, 'P')),
          outcome(() => reference(text)),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('reports errors with the line and entry number', () => {
    assert.throws(
      () => parsePackagesIndex(`${stanza('a')}\nbad line\n`, origin, 'P'),
      /Cannot parse P line 8: expected "Field: value"/,
    );
    assert.throws(
      () => parsePackagesIndex(`${stanza('a')}\n${stanza('b').replace('Size: 10\n', '')}`, origin, 'P'),
      /Cannot parse P entry 2: missing Size field/,
    );
  });
});

describe('parseDeb822', () => {
  it('joins continuation lines and keeps field case', () => {
    assert.deepEqual(parseDeb822('A: 1\nb-C:  two \n  x\n\t y\n\nD: 3'), [
      { A: '1', 'b-C': 'two\n x\n y' },
      { D: '3' },
    ]);
  });

  it('refuses a continuation line outside a field', () => {
    assert.throws(
      () => parseDeb822('A: 1\n\n more', 'F'),
      /Cannot parse F line 3: continuation line outside a field/,
    );
  });
});
