import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HookError } from '../errors.ts';
import { compareVersions, parseVersion, satisfies } from './version.ts';

const sign = (n: number) => Math.sign(n);

describe('parseVersion', () => {
  it('splits epoch, upstream and revision at the first colon and the last hyphen', () => {
    assert.deepEqual(parseVersion('1:2.3-4-5'), { epoch: 1, upstream: '2.3-4', revision: '5' });
    assert.deepEqual(parseVersion('2.30'), { epoch: 0, upstream: '2.30', revision: '' });
    assert.deepEqual(parseVersion('0:1.0~rc1-1+deb13u1'), {
      epoch: 0,
      upstream: '1.0~rc1',
      revision: '1+deb13u1',
    });
  });

  it('rejects malformed versions with E_INDEX', () => {
    for (const bad of ['', 'a b', 'x:1.0', '-1']) {
      assert.throws(
        () => parseVersion(bad),
        (e: unknown) => e instanceof HookError && e.code === 'E_INDEX',
      );
    }
  });
});

describe('compareVersions (dpkg ordering)', () => {
  // [a, b, expected sign] — the classic cases of dpkg's own test suite and deb-version(7).
  const vectors: Array<[string, string, number]> = [
    ['1.0', '1.0', 0],
    ['0:1.0', '1.0', 0],
    ['1.0-0', '1.0', 0],
    ['1.001', '1.1', 0],
    ['001', '1', 0],
    ['1.0', '1.1', -1],
    ['1.2', '1.10', -1],
    ['1.0-1', '1.0-2', -1],
    ['1.0-1', '1.0.1-1', -1],
    ['1:0.1', '2.0', 1],
    ['2:0.1', '1:9.9', 1],
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~~a', -1],
    ['1.0~~a', '1.0~', -1],
    ['1.0~', '1.0', -1],
    ['1.0', '1.0a', -1],
    ['1.0a', '1.0+', -1],
    ['1.0+', '1.0.', -1],
    ['1.0', '1.0+deb13u1', -1],
    ['1.0-1', '1.0-1+b1', -1],
    ['1.0-1~bpo13+1', '1.0-1', -1],
    ['1.0', '1.0-0~', 1],
    ['1.a', '1.b', -1],
    ['1.A', '1.a', -1],
    ['1.Z', '1.a', -1],
    ['1.20240101235959123', '1.20240101235959122', 1],
    ['99999999999999999999', '100000000000000000000', -1],
    ['2.41-12+deb13u1', '2.41-12', 1],
    ['257.9-1~deb13u1', '257.9-1', -1],
  ];
  for (const [a, b, expected] of vectors) {
    it(`${a} ${expected < 0 ? '<' : expected > 0 ? '>' : '='} ${b}`, () => {
      assert.equal(sign(compareVersions(a, b)), expected);
      assert.equal(sign(compareVersions(b, a)), 0 - expected || 0);
    });
  }

  const versionArb = fc
    .tuple(
      fc.option(fc.nat(3), { nil: undefined }),
      fc.stringMatching(/^[0-9][0-9a-z.+~]{0,8}$/),
      fc.option(fc.stringMatching(/^[0-9a-z.+~]{1,6}$/), { nil: undefined }),
    )
    .map(
      ([epoch, upstream, revision]) =>
        `${epoch === undefined ? '' : `${epoch}:`}${upstream}${revision ? `-${revision}` : ''}`,
    );

  it('is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        assert.equal(compareVersions(a, a), 0);
        assert.equal(sign(compareVersions(a, b)) + sign(compareVersions(b, a)), 0);
      }),
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareVersions);
        assert.ok(compareVersions(x!, z!) <= 0);
        assert.ok(compareVersions(x!, y!) <= 0 && compareVersions(y!, z!) <= 0);
      }),
    );
  });
});

describe('satisfies', () => {
  it('implements the five relations', () => {
    assert.equal(satisfies('1.0', '<<', '1.1'), true);
    assert.equal(satisfies('1.1', '<<', '1.1'), false);
    assert.equal(satisfies('1.1', '<=', '1.1'), true);
    assert.equal(satisfies('1:1.1', '=', '1:1.1-0'), true);
    assert.equal(satisfies('1.1', '=', '1.1-1'), false);
    assert.equal(satisfies('1.2', '>=', '1.1'), true);
    assert.equal(satisfies('1.1~rc1', '>=', '1.1'), false);
    assert.equal(satisfies('1.2', '>>', '1.1'), true);
    assert.equal(satisfies('1.1', '>>', '1.1'), false);
  });
});
