import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HookError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import { buildIndex, resolve } from './resolver.ts';
import type { BinaryPackage } from './types.ts';

interface Spec {
  version?: string;
  arch?: string;
  suite?: string;
  depends?: string;
  preDepends?: string;
  recommends?: string;
  provides?: string;
  conflicts?: string;
  priority?: string;
  multiArch?: BinaryPackage['multiArch'];
  essential?: boolean;
}

function pkg(name: string, spec: Spec = {}): BinaryPackage {
  const version = spec.version ?? '1.0';
  const arch = spec.arch ?? 'amd64';
  const p: BinaryPackage = {
    name,
    version,
    architecture: arch,
    essential: spec.essential ?? false,
    priority: spec.priority ?? 'optional',
    filename: `pool/main/${name[0]}/${name}/${name}_${version}_${arch}.deb`,
    size: 1,
    sha256: '0'.repeat(64),
    origin: { suite: spec.suite ?? 'trixie', component: 'main', mirror: 'http://mirror.invalid/debian' },
    fields: {},
  };
  if (spec.depends) p.depends = spec.depends;
  if (spec.preDepends) p.preDepends = spec.preDepends;
  if (spec.recommends) p.recommends = spec.recommends;
  if (spec.provides) p.provides = spec.provides;
  if (spec.conflicts) p.conflicts = spec.conflicts;
  if (spec.multiArch) p.multiArch = spec.multiArch;
  return p;
}

const names = (r: ReturnType<typeof resolve>) => r.packages.map((p) => `${p.name}=${p.version}`);
const amd64 = { arch: 'amd64' } as const;

function resolveError(index: BinaryPackage[], requests: string[]): HookError {
  try {
    resolve(index, requests, amd64);
  } catch (error) {
    if (error instanceof HookError) return error;
    throw error;
  }
  assert.fail('expected a HookError');
}

describe('resolve', () => {
  it('follows Depends and Pre-Depends, takes the highest version across suites, sorts by name', () => {
    const index = [
      pkg('app', { depends: 'libz (>= 1.1)', preDepends: 'dpkg' }),
      pkg('libz', { version: '1.1' }),
      pkg('libz', { version: '1.2', suite: 'trixie-updates' }),
      pkg('dpkg', { arch: 'all' }),
      pkg('unrelated'),
    ];
    const r = resolve(index, ['app'], amd64);
    assert.deepEqual(names(r), ['app=1.0', 'dpkg=1.0', 'libz=1.2']);
    assert.equal(r.packages.find((p) => p.name === 'libz')?.origin.suite, 'trixie-updates');
    assert.deepEqual(r.reasons.get('libz'), ['app', 'libz']);
    assert.deepEqual(r.reasons.get('app'), ['app']);
  });

  it('ignores packages of other architectures', () => {
    const index = [pkg('app', { depends: 'lib' }), pkg('lib', { arch: 'arm64', version: '9' }), pkg('lib')];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'lib=1.0']);
    assert.throws(
      () => resolve(index, ['app'], { arch: 'arm64' }),
      (e: unknown) => e instanceof HookError,
    );
  });

  it('installs Recommends only when asked', () => {
    const index = [pkg('app', { recommends: 'extra' }), pkg('extra')];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0']);
    assert.deepEqual(names(resolve(index, ['app'], { arch: 'amd64', followRecommends: true })), [
      'app=1.0',
      'extra=1.0',
    ]);
  });

  it('takes the first satisfiable alternative, or one that is already selected', () => {
    const index = [
      pkg('app', { depends: 'missing | b (>= 2) | c | d' }),
      pkg('b', { version: '1' }),
      pkg('c'),
      pkg('d'),
    ];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'c=1.0']);
    assert.deepEqual(names(resolve(index, ['app', 'd'], amd64)), ['app=1.0', 'd=1.0']);
  });

  it('falls back to the next alternative when the first cannot be installed', () => {
    const index = [pkg('app', { depends: 'a | b' }), pkg('a', { depends: 'gone' }), pkg('b')];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'b=1.0']);
  });

  it('chooses among providers of a virtual package like apt (priority, then the real package)', () => {
    const index = [
      pkg('app', { depends: 'mta' }),
      pkg('exim', { provides: 'mta', priority: 'standard' }),
      pkg('postfix', { provides: 'mta', priority: 'optional' }),
      pkg('ui', { depends: 'editor' }),
      pkg('editor', { priority: 'optional' }),
      pkg('vim', { provides: 'editor', priority: 'important' }),
    ];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'exim=1.0']);
    assert.deepEqual(names(resolve(index, ['app', 'postfix'], amd64)), ['app=1.0', 'postfix=1.0']);
    assert.deepEqual(names(resolve(index, ['ui'], amd64)), ['editor=1.0', 'ui=1.0']);
  });

  it('matches versioned dependencies only with versioned provides', () => {
    const index = [
      pkg('app', { depends: 'abi (>= 2)' }),
      pkg('old', { provides: 'abi (= 1.5)' }),
      pkg('plain', { provides: 'abi', priority: 'required' }),
      pkg('new', { provides: 'abi (= 2.1)' }),
    ];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'new=1.0']);
  });

  it('resolves :any only through Multi-Arch: allowed (or foreign) packages', () => {
    const ok = [pkg('app', { depends: 'perl:any' }), pkg('perl', { multiArch: 'allowed' })];
    assert.deepEqual(names(resolve(ok, ['app'], amd64)), ['app=1.0', 'perl=1.0']);
    const bad = [pkg('app', { depends: 'perl:any' }), pkg('perl')];
    assert.match(resolveError(bad, ['app']).message, /perl cannot satisfy :any \(Multi-Arch: no\)/);
  });

  it('installs a requested exact version and rejects an unknown one', () => {
    const index = [pkg('lib', { version: '1' }), pkg('lib', { version: '2' })];
    assert.deepEqual(names(resolve(index, ['lib=1'], amd64)), ['lib=1']);
    const error = resolveError(index, ['lib=3']);
    assert.equal(error.code, 'E_RESOLVE');
    assert.match(error.message, /available: 2, 1/);
  });

  it('selects the only provider of a requested virtual package and refuses an ambiguous one', () => {
    const index = [
      pkg('real', { provides: 'virt' }),
      pkg('a', { provides: 'many' }),
      pkg('b', { provides: 'many' }),
    ];
    assert.deepEqual(names(resolve(index, ['virt'], amd64)), ['real=1.0']);
    assert.match(resolveError(index, ['many']).message, /many is a virtual package provided by a, b/);
  });

  it('explains an unsatisfiable dependency with the whole chain', () => {
    const index = [
      pkg('systemd', { depends: 'libfoo (>= 2)' }),
      pkg('libfoo', { version: '1.0' }),
      pkg('top', { depends: 'mid' }),
      pkg('mid', { depends: 'systemd' }),
    ];
    const error = resolveError(index, ['systemd']);
    assert.equal(error.code, 'E_RESOLVE');
    assert.equal(
      error.message,
      'Cannot resolve dependencies: systemd → libfoo (>= 2) → no version of libfoo satisfies >= 2; available: 1.0',
    );
    assert.equal(
      resolveError(index, ['top']).message,
      'Cannot resolve dependencies: top → mid → systemd → libfoo (>= 2) → no version of libfoo satisfies >= 2; available: 1.0',
    );
  });

  it('suggests near names for an unknown package', () => {
    const index = [
      pkg('systemd'),
      pkg('systemd-sysv'),
      pkg('systemd-timesyncd'),
      pkg('docker.io'),
      pkg('zsh'),
    ];
    const error = resolveError(index, ['systemdd']);
    assert.equal(error.code, 'E_UNKNOWN_PACKAGE');
    assert.match(error.message, /systemdd/);
    assert.match(error.hint ?? '', /Did you mean: systemd, systemd-sysv/);
    assert.doesNotMatch(error.hint ?? '', /zsh/);
  });

  it('is deterministic and reuses a prebuilt index', () => {
    const index = [pkg('b', { depends: 'a' }), pkg('a'), pkg('c', { depends: 'b' })];
    const built = buildIndex(index, 'amd64');
    assert.deepEqual(names(resolve(built, ['c'], amd64)), names(resolve(index, ['c'], amd64)));
    assert.deepEqual(names(resolve(built, ['c'], amd64)), ['a=1.0', 'b=1.0', 'c=1.0']);
  });

  it('keeps back a dependency that a later package conflicts with', () => {
    const index = [
      pkg('app', { depends: 'x, y' }),
      pkg('x', { depends: 'old-impl | new-impl' }),
      pkg('old-impl'),
      pkg('new-impl'),
      pkg('y', { depends: 'new-impl', conflicts: 'old-impl' }),
    ];
    assert.deepEqual(names(resolve(index, ['app'], amd64)), ['app=1.0', 'new-impl=1.0', 'x=1.0', 'y=1.0']);
  });
});

describe('suggestNames', () => {
  it('ranks by edit distance and common prefix, at most five', () => {
    const all = [
      'nodejs',
      'node-gyp',
      'nodejs-doc',
      'libnode115',
      'npm',
      'node',
      'nodes',
      'nod',
      'nodee',
      'xnode',
    ];
    const found = suggest('nodjs', all);
    assert.ok(found.includes('nodejs'));
    assert.ok(!found.includes('npm') && !found.includes('libnode115'));
    assert.ok(found.length <= 5);
  });
});
