/**
 * The archive client against a local mirror on 127.0.0.1 that serves a real chunk of the
 * Debian archive (trixie-security's signed InRelease, its main/amd64 Packages.xz and one
 * small .deb, first downloaded from the host's mirror through our own client), then the
 * same data tampered with, and transient and permanent server faults.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { cachedPath, casPath, defaultCacheDir } from '../src/debian/cache.ts';
import { fetchPackages } from '../src/debian/fetch.ts';
import { httpGet } from '../src/debian/http.ts';
import { loadKeyring, verifyInRelease } from '../src/debian/inrelease.ts';
import { loadPackages } from '../src/debian/load-indexes.ts';
import { resolveArchiveSettings } from '../src/debian/sources.ts';
import type { ArchiveSettings, BinaryPackage } from '../src/debian/types.ts';
import { HookError } from '../src/errors.ts';
import { type MirrorServer, startMirrorServer } from './helpers/mirror-server.ts';

const SUITE = 'trixie-security';
const INRELEASE = `/dists/${SUITE}/InRelease`;
const PACKAGES_XZ = `/dists/${SUITE}/main/binary-amd64/Packages.xz`;
const fast = { baseDelayMs: 10, maxDelayMs: 50 };
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function walk(dir: string): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    try {
      readdirSync(path);
      return walk(path);
    } catch {
      return [path];
    }
  });
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** One byte changed at `at`, same length. */
function flipByte(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** Writes `data` over `path` and puts the old mtime back with `touch -r`, hiding the edit from size+mtime checks. */
function touchR(path: string, data: Buffer): void {
  const reference = `${path}.reference`;
  execFileSync('touch', ['-r', path, reference]);
  writeFileSync(path, data);
  execFileSync('touch', ['-r', reference, path]);
  rmSync(reference);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function rejectsWith(code: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof HookError, `expected a HookError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('archive client against a local mirror', () => {
  let root: string;
  let server: MirrorServer;
  let local: ArchiveSettings;
  let realPackages: BinaryPackage[];
  let deb: BinaryPackage;
  let inRelease: Buffer;
  let packagesXz: Buffer;
  let debBytes: Buffer;

  before(async () => {
    // The real data, through our own verified client, into the shared download cache.
    const shared = defaultCacheDir();
    const real = resolveArchiveSettings({ suites: [SUITE], components: ['main'] });
    inRelease = await httpGet(`${real.securityMirror}${INRELEASE}`);
    const release = await verifyInRelease(inRelease.toString('utf8'), await loadKeyring(), { source: SUITE });
    realPackages = await loadPackages({ settings: real, arch: 'amd64', cacheDir: shared });
    const xzEntry = release.files.get('main/binary-amd64/Packages.xz');
    assert.ok(xzEntry);
    const xzPath = await cachedPath(shared, xzEntry.sha256, xzEntry.size);
    if (xzPath === undefined) {
      // A warm shared cache may hold only the decompressed index: fetch the compressed one.
      packagesXz = await httpGet(`${real.securityMirror}${PACKAGES_XZ}`);
    } else {
      packagesXz = readFileSync(xzPath);
    }
    assert.equal(sha(packagesXz), xzEntry.sha256);
    const smallest = [...realPackages].sort((a, b) => a.size - b.size)[0];
    assert.ok(smallest);
    deb = smallest;
    const fetched = await fetchPackages([deb], { cacheDir: shared });
    debBytes = readFileSync(fetched.get(deb.sha256) as string);

    root = tempDir('hook-mirror-root-');
    for (const [path, data] of [
      [INRELEASE, inRelease],
      [PACKAGES_XZ, packagesXz],
      [`/${deb.filename}`, debBytes],
    ] as const) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), data);
    }
    server = await startMirrorServer(root);
    local = { mirror: server.url, securityMirror: server.url, suites: [SUITE], components: ['main'] };
  });

  afterEach(() => server.clearInjections());
  after(async () => {
    await server?.close();
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  const load = (cacheDir: string, log?: (m: string) => void) =>
    loadPackages({ settings: local, arch: 'amd64', cacheDir, retry: fast, ...(log ? { log } : {}) });
  const localDeb = (): BinaryPackage => ({ ...deb, origin: { ...deb.origin, mirror: server.url } });
  const noTempFiles = (cacheDir: string) =>
    assert.deepEqual(
      walk(cacheDir).filter((p) => p.includes('.tmp-')),
      [],
    );

  it('loads the same packages as from the real mirror, and a warm run downloads no index', async () => {
    const cacheDir = tempDir('hook-cache-');
    const packages = await load(cacheDir);
    assert.equal(packages.length, realPackages.length);
    assert.deepEqual(
      packages.map((p) => `${p.name} ${p.version} ${p.sha256}`),
      realPackages.map((p) => `${p.name} ${p.version} ${p.sha256}`),
    );
    assert.deepEqual(packages[0]?.origin, { suite: SUITE, component: 'main', mirror: server.url });
    const before = server.requests.length;
    await load(cacheDir);
    assert.deepEqual(server.requests.slice(before), [INRELEASE]);
  });

  it('downloads a .deb that dpkg-deb accepts, and a second fetch is served from the cache', async () => {
    const cacheDir = tempDir('hook-cache-');
    const progress: boolean[] = [];
    const paths = await fetchPackages([localDeb(), localDeb()], {
      cacheDir,
      onProgress: (p) => progress.push(p.fromCache),
    });
    const path = paths.get(deb.sha256);
    assert.ok(path);
    assert.equal(sha(readFileSync(path)), deb.sha256);
    const info = execFileSync('dpkg-deb', ['--field', path, 'Package', 'Version'], { encoding: 'utf8' });
    assert.match(info, new RegExp(`Package: ${deb.name}\\nVersion: ${deb.version.replace(/[+.]/g, '\\$&')}`));
    await fetchPackages([localDeb()], { cacheDir, onProgress: (p) => progress.push(p.fromCache) });
    assert.deepEqual(progress, [false, true]);
  });

  it('refuses a tampered InRelease (E_SIGNATURE naming it) and caches nothing', async () => {
    const cacheDir = tempDir('hook-cache-');
    const text = inRelease.toString('utf8');
    server.override(INRELEASE, flipByte(inRelease, text.indexOf('Codename:') + 12));
    try {
      await assert.rejects(
        load(cacheDir),
        rejectsWith('E_SIGNATURE', new RegExp(`InRelease of ${SUITE} \\(.*${INRELEASE}\\).*signature`)),
      );
    } finally {
      server.override(INRELEASE, undefined);
    }
    assert.deepEqual(walk(cacheDir), []);
  });

  it('refuses a tampered Packages index (E_CHECKSUM naming it) and caches nothing of it', async () => {
    const cacheDir = tempDir('hook-cache-');
    const tampered = flipByte(packagesXz, Math.floor(packagesXz.length / 2));
    server.override(PACKAGES_XZ, tampered);
    try {
      await assert.rejects(
        load(cacheDir),
        rejectsWith('E_CHECKSUM', /index .*main\/binary-amd64\/Packages\.xz/),
      );
    } finally {
      server.override(PACKAGES_XZ, undefined);
    }
    assert.deepEqual(walk(join(cacheDir, 'sha256')), []);
    assert.ok(!walk(cacheDir).some((p) => sha(readFileSync(p)) === sha(tampered)));
  });

  it('refuses a tampered .deb (E_CHECKSUM naming the package file) and caches nothing', async () => {
    const cacheDir = tempDir('hook-cache-');
    server.override(`/${deb.filename}`, flipByte(debBytes, debBytes.length - 10));
    try {
      await assert.rejects(
        fetchPackages([localDeb()], { cacheDir, retry: fast }),
        rejectsWith('E_CHECKSUM', new RegExp(`package file ${deb.filename.replace(/[+.]/g, '\\$&')}`)),
      );
    } finally {
      server.override(`/${deb.filename}`, undefined);
    }
    assert.deepEqual(walk(cacheDir), []);
  });

  for (const fault of ['status500', 'reset', 'truncate'] as const) {
    it(`recovers from ${fault} on InRelease, Packages.xz and the .deb`, async () => {
      const cacheDir = tempDir('hook-cache-');
      server.inject(INRELEASE, fault, 1);
      server.inject(PACKAGES_XZ, fault, 2);
      server.inject(`/${deb.filename}`, fault, 3);
      const before = server.requests.length;
      const packages = await load(cacheDir);
      assert.equal(packages.length, realPackages.length);
      const paths = await fetchPackages([localDeb()], { cacheDir, retry: fast });
      assert.equal(sha(readFileSync(paths.get(deb.sha256) as string)), deb.sha256);
      const counts = (path: string) => server.requests.slice(before).filter((r) => r === path).length;
      assert.deepEqual([counts(INRELEASE), counts(PACKAGES_XZ), counts(`/${deb.filename}`)], [2, 3, 4]);
      noTempFiles(cacheDir);
    });
  }

  it('fails clearly on a permanent failure, leaving no partial file', async () => {
    const cacheDir = tempDir('hook-cache-');
    server.inject(`/${deb.filename}`, 'truncate', 4);
    await assert.rejects(
      fetchPackages([localDeb()], { cacheDir, retry: fast }),
      rejectsWith('E_HTTP', new RegExp(`${deb.filename.replace(/[+.]/g, '\\$&')}.*gave up after 4 attempts`)),
    );
    noTempFiles(cacheDir);
    assert.deepEqual(walk(cacheDir), []);
    server.inject(`/${deb.filename}`, 'status500', 4);
    await assert.rejects(
      fetchPackages([localDeb()], { cacheDir, retry: fast }),
      rejectsWith('E_HTTP', /HTTP 500/),
    );
    assert.deepEqual(walk(cacheDir), []);
  });

  it('uses the last verified InRelease when the mirror is unreachable, and fails without one', async () => {
    const cacheDir = tempDir('hook-cache-');
    await load(cacheDir);
    const warnings: string[] = [];
    server.inject(INRELEASE, 'reset', 4);
    const packages = await load(cacheDir, (m) => warnings.push(m));
    assert.equal(packages.length, realPackages.length);
    assert.ok(warnings.some((w) => /using the InRelease of trixie-security verified earlier/.test(w)));
    server.inject(INRELEASE, 'reset', 4);
    await assert.rejects(
      load(tempDir('hook-cache-')),
      rejectsWith('E_HTTP', /InRelease.*ECONNRESET|InRelease.*socket/),
    );
  });

  it('refuses an oversized InRelease while it streams, with bounded memory', async () => {
    // 300 MB, once announced in Content-Length and once without it (chunked): either way the
    // client must stop at the 16 MiB cap instead of buffering it (it used to take 2.8 GB).
    for (const contentLength of [true, false]) {
      const cacheDir = tempDir('hook-cache-');
      server.generate(INRELEASE, 300 * 1024 * 1024, { contentLength });
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 2);
      try {
        await assert.rejects(
          load(cacheDir),
          rejectsWith(
            'E_HTTP',
            new RegExp(`${INRELEASE}: .*more than the limit of ${16 * 1024 * 1024} bytes`),
          ),
        );
      } finally {
        clearInterval(sampler);
        server.generate(INRELEASE, undefined);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      assert.ok(peak - before < 96 * 1024 * 1024, `RSS grew by ${(peak - before) >> 20} MiB`);
      assert.ok((server.sent.get(INRELEASE) ?? 0) < 64 * 1024 * 1024, 'stopped reading early');
      assert.deepEqual(walk(cacheDir), []);
    }
  });

  it('fails a stalled InRelease within the stall timeout with a clear error, telling the log it waits', async () => {
    const cacheDir = tempDir('hook-cache-');
    server.inject(INRELEASE, 'stall', 2);
    const logs: string[] = [];
    const started = performance.now();
    await assert.rejects(
      loadPackages({
        settings: local,
        arch: 'amd64',
        cacheDir,
        retry: { ...fast, attempts: 2, stallTimeoutMs: 500, waitNoticeMs: 100 },
        log: (m) => logs.push(m),
      }),
      rejectsWith(
        'E_HTTP',
        new RegExp(
          `GET ${server.url}${INRELEASE} stalled: no data for 500 ms \\(gave up after 2 attempts\\)`,
        ),
      ),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    assert.ok(
      logs.some((m) => m.startsWith(`waiting for ${server.url}${INRELEASE} (`)),
      logs.join('\n'),
    );
  });

  it('fails a stalled .deb download with an error naming it, and retries it first', async () => {
    const cacheDir = tempDir('hook-cache-');
    server.inject(`/${deb.filename}`, 'stall', 1);
    const waits: string[] = [];
    const paths = await fetchPackages([localDeb()], {
      cacheDir,
      retry: { ...fast, stallTimeoutMs: 300 },
      onWait: (m) => waits.push(m),
    });
    assert.equal(sha(readFileSync(paths.get(deb.sha256) as string)), deb.sha256);
    assert.ok(
      waits.some((m) => /retrying .*stalled: no data for 300 ms/.test(m)),
      waits.join('\n'),
    );
    noTempFiles(cacheDir);
  });

  it('finds a .deb edited in the cache with its mtime put back (touch -r), deletes it and downloads it again', async () => {
    const cacheDir = tempDir('hook-cache-');
    const paths = await fetchPackages([localDeb()], { cacheDir });
    const path = paths.get(deb.sha256) as string;
    touchR(path, flipByte(debBytes, debBytes.length - 10));
    const repairs: string[] = [];
    const before = server.requests.length;
    const progress: boolean[] = [];
    await fetchPackages([localDeb()], {
      cacheDir,
      onRepair: (m) => repairs.push(m),
      onProgress: (p) => progress.push(p.fromCache),
    });
    assert.equal(repairs.length, 1);
    assert.match(
      repairs[0] ?? '',
      new RegExp(`package file ${escapeRegExp(deb.filename)} .* is damaged: SHA-256 is`),
    );
    assert.deepEqual(server.requests.slice(before), [`/${deb.filename}`]);
    assert.deepEqual(progress, [false]);
    assert.equal(sha(readFileSync(path)), deb.sha256, 'healed in place');
    // A truncated one too, and the next run uses the healed entry without a word.
    touchR(path, debBytes.subarray(0, 1000));
    await fetchPackages([localDeb()], { cacheDir, onRepair: (m) => repairs.push(m) });
    assert.equal(repairs.length, 2);
    await fetchPackages([localDeb()], { cacheDir, onRepair: (m) => repairs.push(m) });
    assert.equal(repairs.length, 2);
    assert.equal(sha(readFileSync(path)), deb.sha256);
  });

  it('finds a Packages index edited in the cache with its mtime put back, and loads the signed one', async () => {
    const cacheDir = tempDir('hook-cache-');
    await load(cacheDir);
    const release = await verifyInRelease(inRelease.toString('utf8'), await loadKeyring(), { source: SUITE });
    const plain = release.files.get('main/binary-amd64/Packages');
    const xzEntry = release.files.get('main/binary-amd64/Packages.xz');
    assert.ok(plain && xzEntry);
    const plainPath = casPath(cacheDir, plain.sha256);
    const xzPath = casPath(cacheDir, xzEntry.sha256);
    // A version that is not in the signed index, same length, so only the content differs.
    const text = readFileSync(plainPath, 'utf8');
    const victim = realPackages.find((p) => /^\d/.test(p.version) && !p.version.startsWith('9'));
    assert.ok(victim);
    const stanza = `Package: ${victim.name}\n`;
    const at = text.indexOf(`Version: ${victim.version}\n`, text.indexOf(stanza));
    assert.ok(at > 0);
    const forged = `9${victim.version.slice(1)}`;
    touchR(
      plainPath,
      Buffer.from(`${text.slice(0, at)}Version: ${forged}${text.slice(at + 9 + victim.version.length)}`),
    );
    assert.equal(statSync(plainPath).size, plain.size);
    const repairs: string[] = [];
    const before = server.requests.length;
    const packages = await loadPackages({
      settings: local,
      arch: 'amd64',
      cacheDir,
      onRepair: (m) => repairs.push(m),
    });
    assert.equal(
      packages.find((p) => p.name === victim.name && p.version === forged),
      undefined,
    );
    assert.deepEqual(
      packages.map((p) => `${p.name} ${p.version}`),
      realPackages.map((p) => `${p.name} ${p.version}`),
    );
    assert.equal(repairs.length, 1);
    assert.match(repairs[0] ?? '', /index .*main\/binary-amd64\/Packages .* is damaged/);
    assert.deepEqual(server.requests.slice(before), [INRELEASE], 'rebuilt from the intact Packages.xz');
    assert.equal(sha(readFileSync(plainPath)), plain.sha256, 'healed');
    // Both the index and its compressed form damaged: the compressed one is fetched again.
    touchR(plainPath, readFileSync(plainPath).subarray(0, 4096));
    touchR(xzPath, flipByte(readFileSync(xzPath), 100));
    const again = await loadPackages({
      settings: local,
      arch: 'amd64',
      cacheDir,
      onRepair: (m) => repairs.push(m),
    });
    assert.equal(again.length, realPackages.length);
    assert.equal(repairs.length, 3);
    assert.ok(
      server.requests
        .slice(before)
        .some((r) => r.endsWith(`/by-hash/SHA256/${xzEntry.sha256}`) || r === PACKAGES_XZ),
    );
    assert.equal(sha(readFileSync(xzPath)), xzEntry.sha256);
    assert.equal(sha(readFileSync(plainPath)), plain.sha256);
  });

  it('deletes a kept InRelease that no longer verifies when the mirror is unreachable', async () => {
    const cacheDir = tempDir('hook-cache-');
    await load(cacheDir);
    const [kept] = walk(join(cacheDir, 'inrelease'));
    assert.ok(kept);
    const text = readFileSync(kept, 'utf8');
    touchR(kept, Buffer.from(text.replace('Codename: trixie-security', 'Codename: trixie-sekurity')));
    server.inject(INRELEASE, 'reset', 4);
    const repairs: string[] = [];
    await assert.rejects(
      loadPackages({
        settings: local,
        arch: 'amd64',
        cacheDir,
        retry: fast,
        onRepair: (m) => repairs.push(m),
      }),
      rejectsWith('E_HTTP', /InRelease.*gave up after 4 attempts/),
    );
    assert.equal(repairs.length, 1);
    assert.match(
      repairs[0] ?? '',
      /InRelease of trixie-security kept from an earlier run .* no longer verifies/,
    );
    assert.equal(existsSync(kept), false);
  });

  it('skips a component the suite does not carry', async () => {
    const cacheDir = tempDir('hook-cache-');
    const logs: string[] = [];
    const packages = await loadPackages({
      settings: { ...local, components: ['main', 'no-such-component'] },
      arch: 'amd64',
      cacheDir,
      log: (m) => logs.push(m),
    });
    assert.equal(packages.length, realPackages.length);
    assert.ok(logs.some((m) => /trixie-security has no no-such-component packages for amd64/.test(m)));
  });
});
