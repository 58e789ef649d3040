import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HookError } from '../errors.ts';
import { archListMatches, formatGroup, parseProvides, parseRelation, parseRelations } from './relations.ts';

describe('parseRelations', () => {
  it('parses alternatives, versions, arch qualifiers, arch lists and profiles', () => {
    const groups = parseRelations('a (>= 1.0) | b:any, c [amd64] <!nocheck>, d:native (<< 2:3~rc1)');
    assert.deepEqual(groups, [
      [
        { name: 'a', op: '>=', version: '1.0' },
        { name: 'b', archQualifier: 'any' },
      ],
      [{ name: 'c', archRestrictions: ['amd64'], profileRestrictions: [['!nocheck']] }],
      [{ name: 'd', archQualifier: 'native', op: '<<', version: '2:3~rc1' }],
    ]);
  });

  it('reads the obsolete < and > as <= and >=, like dpkg', () => {
    assert.deepEqual(parseRelations('a (< 1), b (> 2), c(>>3)'), [
      [{ name: 'a', op: '<=', version: '1' }],
      [{ name: 'b', op: '>=', version: '2' }],
      [{ name: 'c', op: '>>', version: '3' }],
    ]);
  });

  it('tolerates folded whitespace and a trailing comma', () => {
    assert.deepEqual(parseRelations(' libc6 (>= 2.34) ,\n  zlib1g  ,'), [
      [{ name: 'libc6', op: '>=', version: '2.34' }],
      [{ name: 'zlib1g' }],
    ]);
    assert.deepEqual(parseRelations(undefined), []);
    assert.deepEqual(parseRelations(''), []);
  });

  it('drops alternatives whose arch list or profiles exclude them when evaluated', () => {
    const field = 'a [amd64] | b [!amd64], c <stage1>, d <!nocheck> <stage1>, e [linux-any]';
    assert.deepEqual(
      parseRelations(field, { arch: 'arm64' }).map((g) => g.map((r) => r.name)),
      [['b'], ['d'], ['e']],
    );
    assert.deepEqual(
      parseRelations(field, { arch: 'amd64', profiles: ['stage1'] }).map((g) => g.map((r) => r.name)),
      [['a'], ['c'], ['d'], ['e']],
    );
  });

  it('reports malformed relations with the field name', () => {
    assert.throws(
      () => parseRelations('a (>= 1.0', { field: 'Depends' }),
      (e: unknown) => e instanceof HookError && e.code === 'E_INDEX' && e.message.includes('Depends'),
    );
    assert.throws(() => parseRelations('a | | b'), HookError);
    assert.throws(() => parseRelation('a (~= 1)'), HookError);
  });

  it('formats groups back', () => {
    assert.equal(formatGroup(parseRelations('a:any (>= 1) | b')[0]!), 'a:any (>= 1) | b');
  });
});

describe('archListMatches', () => {
  it('handles positive, negated and wildcard lists', () => {
    assert.equal(archListMatches(['amd64', 'i386'], 'amd64'), true);
    assert.equal(archListMatches(['amd64'], 'arm64'), false);
    assert.equal(archListMatches(['!amd64'], 'arm64'), true);
    assert.equal(archListMatches(['!amd64', '!arm64'], 'arm64'), false);
    assert.equal(archListMatches(['any-arm64'], 'arm64'), true);
    assert.equal(archListMatches(['kfreebsd-any'], 'amd64'), false);
  });
});

describe('parseProvides', () => {
  it('parses plain and versioned provides', () => {
    assert.deepEqual(parseProvides('mail-transport-agent, libfoo-abi (= 1.2-3), c:any'), [
      { name: 'mail-transport-agent' },
      { name: 'libfoo-abi', version: '1.2-3' },
      { name: 'c' },
    ]);
  });

  it('rejects operators other than = and alternatives', () => {
    assert.throws(() => parseProvides('a (>= 1)'), HookError);
    assert.throws(() => parseProvides('a | b'), HookError);
  });
});
