import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HookError } from '../errors.ts';
import {
  DEFAULT_COMPONENTS,
  DEFAULT_SUITES,
  deriveSecurityMirror,
  discoverMirrors,
  parseDeb822Sources,
  parseOneLineSources,
  resolveArchiveSettings,
} from './sources.ts';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function aptRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hook-apt-'));
  roots.push(root);
  mkdirSync(join(root, 'etc/apt/sources.list.d'), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(root, 'etc/apt', path), text);
  return root;
}

const DEB822 = `Types: deb deb-src
# a comment
URIs: http://mirror.example/debian/
Suites: trixie trixie-updates
Components: main contrib non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: trixie-security
Components: main
`;

const VENDOR_DEB822 = `Types: deb
URIs: https://vendor.example/node_20.x
Suites: nodistro
Components: main
`;

describe('parseOneLineSources', () => {
  it('reads deb lines with options and skips comments and deb-src', () => {
    const entries = parseOneLineSources(
      [
        '# deb http://old.example/debian buster main',
        'deb-src http://mirror.example/debian trixie main',
        'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian trixie main contrib # tail',
        '',
        'deb http://security.example/debian-security bookworm/updates main',
      ].join('\n'),
    );
    assert.deepEqual(entries, [
      { uri: 'http://mirror.example/debian', suite: 'trixie', components: ['main', 'contrib'] },
      { uri: 'http://security.example/debian-security', suite: 'bookworm/updates', components: ['main'] },
    ]);
  });
});

describe('parseDeb822Sources', () => {
  it('expands URIs × Suites and skips disabled or deb-src-only stanzas', () => {
    const entries = parseDeb822Sources(
      `${DEB822}\nTypes: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: sid\nComponents: main\n\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: sid\nComponents: main\n`,
    );
    assert.deepEqual(
      entries.map((e) => `${e.uri} ${e.suite}`),
      [
        'http://mirror.example/debian/ trixie',
        'http://mirror.example/debian/ trixie-updates',
        'http://security.example/debian-security trixie-security',
      ],
    );
    assert.deepEqual(entries[0]?.components, ['main', 'contrib', 'non-free-firmware']);
  });
});

describe('discoverMirrors', () => {
  it('finds the Debian archive and security archive in deb822 files, ignoring vendor repos', () => {
    const root = aptRoot({
      'sources.list.d/a-nodesource.sources': VENDOR_DEB822,
      'sources.list.d/debian.sources': DEB822,
      'sources.list.d/debian.sources.disabled': 'Types: deb\nURIs: http://no.example/debian\nSuites: sid\n',
    });
    assert.deepEqual(discoverMirrors(root), {
      mirror: 'http://mirror.example/debian',
      securityMirror: 'http://security.example/debian-security',
    });
  });

  it('finds them in one-line files and ignores a vendor repo using a Debian codename', () => {
    const root = aptRoot({
      'sources.list': 'deb https://cloud.example/apt cloud-sdk-bookworm main\n',
      'sources.list.d/docker.list': 'deb https://vendor.example/linux/debian bookworm stable\n',
      'sources.list.d/z.list':
        'deb http://mirror.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main\n',
    });
    assert.deepEqual(discoverMirrors(root), {
      mirror: 'http://mirror.example/debian',
      securityMirror: 'http://security.example/debian-security',
    });
  });

  it('returns nothing when there are no sources', () => {
    assert.deepEqual(discoverMirrors(aptRoot({})), {});
    assert.deepEqual(discoverMirrors(join(tmpdir(), 'hook-no-such-root')), {});
  });
});

describe('resolveArchiveSettings', () => {
  const root = aptRoot({ 'sources.list.d/debian.sources': DEB822 });

  it('uses apt sources with the default suites and components', () => {
    assert.deepEqual(resolveArchiveSettings({ env: {}, aptRoot: root }), {
      mirror: 'http://mirror.example/debian',
      securityMirror: 'http://security.example/debian-security',
      suites: DEFAULT_SUITES,
      components: DEFAULT_COMPONENTS,
    });
    assert.deepEqual(DEFAULT_SUITES, ['trixie', 'trixie-updates', 'trixie-security']);
    assert.deepEqual(DEFAULT_COMPONENTS, ['main', 'non-free-firmware']);
  });

  it('prefers the environment over apt, and derives the security mirror from it', () => {
    const settings = resolveArchiveSettings({
      env: { HOOK_MIRROR: 'http://env.example/debian/' },
      aptRoot: root,
    });
    assert.equal(settings.mirror, 'http://env.example/debian');
    assert.equal(settings.securityMirror, 'http://env.example/debian-security');
    const both = resolveArchiveSettings({
      env: { HOOK_MIRROR: 'http://env.example/debian', HOOK_SECURITY_MIRROR: 'http://sec.example/ds' },
      aptRoot: root,
    });
    assert.equal(both.securityMirror, 'http://sec.example/ds');
  });

  it('prefers explicit options over the environment', () => {
    const settings = resolveArchiveSettings({
      mirror: 'https://user:pw@opt.example/mirror/debian',
      suites: ['bookworm'],
      components: ['main'],
      env: { HOOK_MIRROR: 'http://env.example/debian', HOOK_SECURITY_MIRROR: 'http://envsec.example/x' },
      aptRoot: root,
    });
    assert.equal(settings.mirror, 'https://user:pw@opt.example/mirror/debian');
    assert.equal(settings.securityMirror, 'http://envsec.example/x');
    assert.deepEqual(settings.suites, ['bookworm']);
    assert.deepEqual(settings.components, ['main']);
  });

  it('fails with E_MIRROR and a hint when no mirror is known', () => {
    assert.throws(
      () => resolveArchiveSettings({ env: {}, aptRoot: aptRoot({}) }),
      (error: unknown) =>
        error instanceof HookError &&
        error.code === 'E_MIRROR' &&
        /archive\.mirror/.test(error.hint ?? '') &&
        /--mirror/.test(error.hint ?? '') &&
        /HOOK_MIRROR/.test(error.hint ?? ''),
    );
  });

  it('rejects a non-HTTP mirror and a mirror whose security mirror cannot be derived', () => {
    assert.throws(() => resolveArchiveSettings({ mirror: 'ftp://x.example/debian', env: {} }), /http/);
    assert.throws(
      () => resolveArchiveSettings({ mirror: 'http://x.example/pool', env: {} }),
      (error: unknown) =>
        error instanceof HookError && error.code === 'E_MIRROR' && /SECURITY/.test(error.hint ?? ''),
    );
    const noSecurity = resolveArchiveSettings({
      mirror: 'http://x.example/pool',
      suites: ['trixie'],
      env: {},
    });
    assert.equal(noSecurity.securityMirror, 'http://x.example/pool');
  });
});

describe('deriveSecurityMirror', () => {
  it('replaces the last debian path segment', () => {
    assert.equal(deriveSecurityMirror('http://h.example/debian'), 'http://h.example/debian-security');
    assert.equal(
      deriveSecurityMirror('http://h.example:3142/debian/'),
      'http://h.example:3142/debian-security',
    );
    assert.equal(deriveSecurityMirror('http://h.example/mirrors'), undefined);
  });
});
