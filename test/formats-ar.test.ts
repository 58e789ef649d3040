import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readAr } from '../src/formats/ar.ts';
import { testDeb } from './fixtures/formats/test-debs.ts';

test('readAr lists the members of a real .deb exactly as `ar t` does, with their bytes', async () => {
  const path = await testDeb('hostname');
  const buf = readFileSync(path);
  const members = readAr(buf);
  const oracle = execFileSync('ar', ['t', path], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(
    members.map((m) => m.name),
    oracle,
  );
  for (const member of members) {
    const bytes = execFileSync('ar', ['p', path, member.name], { maxBuffer: 1 << 28 });
    assert.ok(Buffer.from(member.data).equals(bytes), `data of ${member.name}`);
    assert.equal(member.data.buffer, buf.buffer, 'data is a view, not a copy');
  }
  const verbose = execFileSync('ar', ['tvO', path], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  for (const member of members) {
    // ar tv: "rw-r--r-- 0/0      4 Jan  1 00:00 1970 debian-binary 0x44"
    const line = verbose.split('\n').find((l) => l.includes(` ${member.name} `));
    assert.ok(line, member.name);
    assert.match(line, new RegExp(`^\\S+ ${member.uid}/${member.gid}\\s+${member.data.byteLength} `));
  }
});

test('readAr reads GNU/BSD names written by binutils ar (trailing slash, long-name table)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ar-test-'));
  try {
    const long = 'a-member-name-longer-than-sixteen-bytes.txt';
    writeFileSync(join(dir, 'odd'), 'odd!!'); // odd size: padding byte
    writeFileSync(join(dir, long), 'long name\n');
    execFileSync('ar', ['rcD', 'x.a', 'odd', long], { cwd: dir });
    const members = readAr(readFileSync(join(dir, 'x.a')));
    assert.deepEqual(
      members.map((m) => [m.name, Buffer.from(m.data).toString()]),
      [
        ['odd', 'odd!!'],
        [long, 'long name\n'],
      ],
    );
    assert.equal(members[0]?.mode, 0o644);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function header(name: string, size: number, end = '`\n'): string {
  return `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(size).padEnd(10)}${end}`;
}

test('readAr reads BSD #1/<len> names', () => {
  const buf = Buffer.from(`!<arch>\n${header('#1/20', 24)}a-long-bsd-name.txtXdata`, 'latin1');
  const [member] = readAr(buf);
  assert.equal(member?.name, 'a-long-bsd-name.txtX');
  assert.equal(Buffer.from(member?.data ?? []).toString(), 'data');
});

test('readAr refuses malformed archives with E_ARCHIVE_FORMAT naming the member or offset', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['bad magic', Buffer.from('!<arch!\n'), /offset 0: missing "!<arch>" magic/],
    ['truncated header', Buffer.from(`!<arch>\n${header('x', 1).slice(0, 30)}`), /offset 8: truncated/],
    [
      'bad terminator',
      Buffer.from(`!<arch>\n${header('x', 1, 'ab')}y\n`),
      /"x" at offset 8: header does not end/,
    ],
    ['size too big', Buffer.from(`!<arch>\n${header('x', 100)}short`), /"x" at offset 8: size 100 runs past/],
    ['missing padding', Buffer.from(`!<arch>\n${header('x', 1)}y`), /"x" at offset 8: missing padding/],
    [
      'bad number',
      Buffer.from(`!<arch>\n${header('x', 1).replace('100644', '1x0644')}y\n`),
      /bad mode field/,
    ],
    ['long name without table', Buffer.from(`!<arch>\n${header('/0', 1)}y\n`), /without a "\/\/" name table/],
  ];
  for (const [label, buf, message] of cases) {
    assert.throws(() => readAr(buf), { code: 'E_ARCHIVE_FORMAT', message }, label);
  }
});
