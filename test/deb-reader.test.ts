import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pack } from 'tar-stream';
import { type DebEntry, readDeb, readDebControl } from '../src/debian/deb.ts';
import { compress } from '../src/formats/compress.ts';
import { treePath } from '../src/tree/tree.ts';
import { testDeb } from './fixtures/formats/test-debs.ts';

const UTC = { ...process.env, TZ: 'UTC' };
const work = mkdtempSync(join(tmpdir(), 'deb-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Listed {
  perm: string;
  owner: string;
  size: string;
  date: string;
  path: string;
  link?: string;
}

/** Undoes GNU tar's default "escape" quoting (`\\`, `\n`, octal bytes) of names in `tar -tv`. */
function unescapeTar(text: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = {
    '\\': 0x5c,
    n: 0x0a,
    t: 0x09,
    r: 0x0d,
    a: 7,
    b: 8,
    f: 12,
    v: 11,
    '?': 0x3f,
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1))?.[0];
    if (octal) {
      bytes.push(Number.parseInt(octal, 8));
      i += 3;
    } else {
      bytes.push(simple[text[i + 1] as string] ?? Number.NaN);
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `dpkg-deb -c` (the oracle): one record per data.tar entry, paths normalized. */
function dpkgList(debPath: string): Listed[] {
  const out = execFileSync('dpkg-deb', ['-c', debPath], { encoding: 'utf8', env: UTC, maxBuffer: 1 << 28 });
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const m = /^(\S{10}) ([^/\s]+)\/(\S+)\s+(\S+) (\d{4}-\d\d-\d\d \d\d:\d\d) (.*)$/.exec(line);
      assert.ok(m, `unexpected dpkg-deb -c line: ${line}`);
      const [, perm = '', user, group, size = '', date = '', rest = ''] = m;
      const separator = perm.startsWith('l') ? ' -> ' : perm.startsWith('h') ? ' link to ' : undefined;
      const at = separator ? rest.indexOf(separator) : -1;
      const name = at >= 0 ? rest.slice(0, at) : rest;
      const record: Listed = {
        perm,
        owner: `${user}/${group}`,
        size,
        date,
        path: treePath(unescapeTar(name)),
      };
      if (separator && at >= 0) {
        const link = unescapeTar(rest.slice(at + separator.length));
        record.link = perm.startsWith('h') ? treePath(link) : link;
      }
      return record;
    });
}

const TYPE_CHAR: Record<DebEntry['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  char: 'c',
  block: 'b',
  fifo: 'p',
};

function permString(entry: DebEntry): string {
  const m = entry.mode;
  const triple = (shift: number, special: number, specialChar: string) => {
    const r = m & (4 << shift) ? 'r' : '-';
    const w = m & (2 << shift) ? 'w' : '-';
    const x = m & (1 << shift);
    const xChar = m & special ? (x ? specialChar : specialChar.toUpperCase()) : x ? 'x' : '-';
    return r + w + xChar;
  };
  return TYPE_CHAR[entry.type] + triple(6, 0o4000, 's') + triple(3, 0o2000, 's') + triple(0, 0o1000, 't');
}

/** The same record, computed from our reader's output. */
function ourRecord(entry: DebEntry): Listed {
  const size =
    entry.type === 'char' || entry.type === 'block'
      ? `${entry.devMajor},${entry.devMinor}`
      : String(entry.data?.byteLength ?? 0);
  const date = new Date(entry.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const record: Listed = {
    perm: permString(entry),
    owner: `${entry.uname || entry.uid}/${entry.gname || entry.gid}`,
    size,
    date,
    path: entry.path,
  };
  if (entry.linkTarget !== undefined) record.link = entry.linkTarget;
  return record;
}

function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

for (const pkg of ['hostname', 'bash', 'systemd']) {
  test(`readDeb(${pkg}) lists exactly what dpkg-deb -c lists; file data match md5sums`, async () => {
    const path = await testDeb(pkg);
    const deb = await readDeb(readFileSync(path), pkg);
    assert.deepEqual(deb.data.map(ourRecord), dpkgList(path));

    const ctrlNames = execFileSync('sh', ['-c', `dpkg-deb --ctrl-tarfile "$1" | tar -t`, 'sh', path], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((name) => name !== '' && !name.endsWith('/'))
      .map((name) => treePath(name));
    assert.deepEqual([...deb.control.keys()].sort(), ctrlNames.sort());
    const controlFile = execFileSync('dpkg-deb', ['-I', path, 'control']);
    assert.ok(Buffer.from(deb.control.get('control') ?? []).equals(controlFile));

    // md5sums (written by Debian's build) covers every regular file but the conffiles.
    const lines = (name: string) =>
      Buffer.from(deb.control.get(name) ?? [])
        .toString()
        .trim()
        .split('\n');
    const sums = new Map(lines('md5sums').map((line) => [line.slice(34), line.slice(0, 32)] as const));
    const conffiles = new Set(lines('conffiles').map((line) => treePath(line)));
    const files = deb.data.filter((e) => e.type === 'file' && !conffiles.has(e.path));
    assert.equal(files.length, sums.size);
    for (const file of files)
      assert.equal(md5(file.data ?? new Uint8Array()), sums.get(file.path), file.path);

    const fields = await readDebControl(readFileSync(path), pkg);
    const oracle = execFileSync('dpkg-deb', ['-f', path, 'Package', 'Version', 'Architecture'], {
      encoding: 'utf8',
    });
    assert.equal(
      `Package: ${fields.Package}\nVersion: ${fields.Version}\nArchitecture: ${fields.Architecture}\n`,
      oracle,
    );
  });
}

/** A package tree with everything data.tar can hold, built on disk (we run as root). */
function craftedRoot(): string {
  const root = join(work, 'root');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN/control'),
    'Package: crafted\nVersion: 1.0\nArchitecture: all\nMaintainer: Test <t@example.invalid>\nDescription: test\n',
  );
  writeFileSync(join(root, 'DEBIAN/postinst'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/suid'), 'setuid program\n');
  chmodSync(join(root, 'usr/bin/suid'), 0o4755);
  writeFileSync(join(root, 'usr/bin/a'), 'linked content\n');
  linkSync(join(root, 'usr/bin/a'), join(root, 'usr/bin/b'));
  symlinkSync('/etc/alternatives/x', join(root, 'usr/bin/x'));
  symlinkSync('../share/doc', join(root, 'usr/bin/doc'));
  mkdirSync(join(root, 'dev'));
  execFileSync('mknod', [join(root, 'dev/console'), 'c', '5', '1']);
  execFileSync('mknod', [join(root, 'dev/loop9'), 'b', '7', '9']);
  execFileSync('mkfifo', [join(root, 'dev/fifo')]);
  mkdirSync(join(root, 'srv/sticky'), { recursive: true });
  chmodSync(join(root, 'srv/sticky'), 0o1777);
  writeFileSync(join(root, 'srv/owned'), 'owned by 1234:5678\n');
  chownSync(join(root, 'srv/owned'), 1234, 5678);
  const deep = join(root, 'srv', `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`);
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `long-name-ünïcødé-${'g'.repeat(80)}`), 'deep\n');
  return root;
}

test('readDeb matches dpkg-deb -c on a crafted package (every entry type, odd modes, long names) for every compression', async () => {
  const root = craftedRoot();
  for (const z of ['xz', 'zstd', 'gzip', 'none']) {
    const debPath = join(work, `crafted-${z}.deb`);
    execFileSync('dpkg-deb', [`-Z${z}`, '--build', '--nocheck', root, debPath], { stdio: 'pipe' });
    const members = execFileSync('ar', ['t', debPath], { encoding: 'utf8' });
    assert.match(members, z === 'none' ? /data\.tar\n/ : /data\.tar\.(xz|zst|gz)\n/);
    const deb = await readDeb(readFileSync(debPath), `crafted-${z}.deb`);
    assert.deepEqual(deb.data.map(ourRecord), dpkgList(debPath), z);
    const byPath = new Map(deb.data.map((e) => [e.path as string, e]));
    assert.equal(byPath.get('dev/console')?.devMajor, 5);
    assert.equal(byPath.get('usr/bin/suid')?.mode, 0o4755);
    assert.equal(byPath.get('usr/bin/x')?.linkTarget, '/etc/alternatives/x');
    const link = [byPath.get('usr/bin/a'), byPath.get('usr/bin/b')].find((e) => e?.type === 'hardlink');
    assert.ok(
      link?.linkTarget === 'usr/bin/a' || link?.linkTarget === 'usr/bin/b',
      'hard link target normalized',
    );
    assert.equal(Buffer.from(deb.control.get('postinst') ?? []).toString(), '#!/bin/sh\nexit 0\n');
    assert.equal((await readDebControl(readFileSync(debPath))).Package, 'crafted');
  }
});

/** A .deb assembled by `ar` around a hand-written data.tar (tar-stream), for hostile entries. */
async function hostileDeb(name: string, entries: Array<Parameters<ReturnType<typeof pack>['entry']>[0]>) {
  const tarOf = async (list: typeof entries) => {
    const p = pack();
    for (const header of list) p.entry(header, header.type === 'file' ? 'x' : '');
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of p) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'debian-binary'), '2.0\n');
  writeFileSync(
    join(dir, 'control.tar.gz'),
    await compress(await tarOf([{ name: './control', type: 'file' }]), 'gzip'),
  );
  writeFileSync(join(dir, 'data.tar.zst'), await compress(await tarOf(entries), 'zstd'));
  execFileSync('ar', ['rc', 'x.deb', 'debian-binary', 'control.tar.gz', 'data.tar.zst'], { cwd: dir });
  return readFileSync(join(dir, 'x.deb'));
}

test('readDeb refuses entries that climb out of the root (E_UNSAFE_PATH naming the entry)', async () => {
  const climbing = await hostileDeb('climb', [
    { name: './', type: 'directory' },
    { name: './../../etc/passwd', type: 'file' },
  ]);
  await assert.rejects(readDeb(climbing, 'evil.deb'), {
    code: 'E_UNSAFE_PATH',
    message: /"\.\/\.\.\/\.\.\/etc\/passwd" of evil\.deb/,
  });
  const hardlinkOut = await hostileDeb('hardlink', [
    { name: './x', type: 'file' },
    { name: './usr/y', type: 'link', linkname: '/../x' },
  ]);
  await assert.rejects(readDeb(hardlinkOut, 'evil.deb'), {
    code: 'E_UNSAFE_PATH',
    message: /"\.\/usr\/y" of evil\.deb.*\/\.\.\/x/,
  });
  const hardlinkDots = await hostileDeb('hardlink-dots', [
    { name: './x', type: 'file' },
    { name: './usr/y', type: 'link', linkname: './usr/../x' },
  ]);
  await assert.rejects(readDeb(hardlinkDots), { code: 'E_UNSAFE_PATH' });
  // Absolute hard-link targets that stay inside, and absolute symlinks, are fine.
  const fine = await hostileDeb('fine', [
    { name: './x', type: 'file' },
    { name: './y', type: 'link', linkname: '/x' },
    { name: './z', type: 'symlink', linkname: '/../../etc/alternatives/z' },
  ]);
  const deb = await readDeb(fine);
  assert.deepEqual(
    deb.data.map((e) => [e.path, e.type, e.linkTarget]),
    [
      ['x', 'file', undefined],
      ['y', 'hardlink', 'x'],
      ['z', 'symlink', '/../../etc/alternatives/z'],
    ],
  );
});

test('readDeb refuses archives that are not .debs with E_ARCHIVE_FORMAT', async () => {
  await assert.rejects(readDeb(Buffer.from('!<arch>\n')), {
    code: 'E_ARCHIVE_FORMAT',
    message: /debian-binary/,
  });
  await assert.rejects(readDeb(Buffer.from('hello')), { code: 'E_ARCHIVE_FORMAT' });
});
