import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CURRENT, lockOutputDir, publishSet, SETS_DIR } from './publish.ts';

const CHECKSUMMED = /^(vmlinuz|initramfs)-(x86_64|aarch64)$/;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hook-publish-'));
  dirs.push(dir);
  return dir;
}
const files = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([name, text]) => [name, [Buffer.from(text)]]));

describe('publishSet', () => {
  it('shows every name through .current, and keeps the previous set only', async () => {
    const out = tempDir();
    for (const generation of [1, 2, 3]) {
      await publishSet(
        out,
        files({ 'vmlinuz-x86_64': `k${generation}`, 'initramfs-x86_64': `i${generation}` }),
        {
          checksummed: CHECKSUMMED,
        },
      );
    }
    assert.equal(readlinkSync(join(out, 'vmlinuz-x86_64')), join(CURRENT, 'vmlinuz-x86_64'));
    assert.equal(readFileSync(join(out, 'vmlinuz-x86_64'), 'utf8'), 'k3');
    assert.equal(readFileSync(join(out, 'initramfs-x86_64'), 'utf8'), 'i3');
    assert.equal(readdirSync(join(out, SETS_DIR)).length, 2, 'the current set and the one before it');
    assert.match(readFileSync(join(out, 'checksum.txt'), 'utf8'), /^[0-9a-f]{128} {2}initramfs-x86_64\n/);
  });

  it('carries the other architecture over and lists both in checksum.txt', async () => {
    const out = tempDir();
    await publishSet(out, files({ 'vmlinuz-aarch64': 'arm' }), { checksummed: CHECKSUMMED });
    await publishSet(out, files({ 'vmlinuz-x86_64': 'x86' }), { checksummed: CHECKSUMMED });
    assert.equal(readFileSync(join(out, 'vmlinuz-aarch64'), 'utf8'), 'arm');
    const sums = readFileSync(join(out, 'checksum.txt'), 'utf8');
    assert.match(sums, / {2}vmlinuz-aarch64\n/);
    assert.match(sums, / {2}vmlinuz-x86_64\n/);
  });

  it('publishes a new set when the current one was deleted by hand (.current dangling)', async () => {
    const out = tempDir();
    await publishSet(out, files({ 'vmlinuz-x86_64': 'a' }), { checksummed: CHECKSUMMED });
    for (const set of readdirSync(join(out, SETS_DIR))) rmSync(join(out, SETS_DIR, set), { recursive: true });
    await publishSet(out, files({ 'vmlinuz-x86_64': 'b' }), { checksummed: CHECKSUMMED });
    assert.equal(readFileSync(join(out, 'vmlinuz-x86_64'), 'utf8'), 'b');
    assert.match(readFileSync(join(out, 'checksum.txt'), 'utf8'), / {2}vmlinuz-x86_64\n$/);
  });

  it('adopts plain files an older version left, without changing what is served', async () => {
    const out = tempDir();
    writeFileSync(join(out, 'vmlinuz-x86_64'), 'old kernel');
    writeFileSync(join(out, 'vmlinuz-aarch64'), 'old arm kernel');
    writeFileSync(join(out, 'notes.txt'), 'not ours');
    await publishSet(out, files({ 'vmlinuz-x86_64': 'new kernel' }), { checksummed: CHECKSUMMED });
    assert.ok(lstatSync(join(out, 'vmlinuz-aarch64')).isSymbolicLink());
    assert.equal(readFileSync(join(out, 'vmlinuz-aarch64'), 'utf8'), 'old arm kernel');
    assert.equal(readFileSync(join(out, 'vmlinuz-x86_64'), 'utf8'), 'new kernel');
    assert.ok(lstatSync(join(out, 'notes.txt')).isFile(), 'files that are not ours stay as they are');
  });

  it('removes a name whose artifact is no longer in the set', async () => {
    const out = tempDir();
    await publishSet(out, files({ 'vmlinuz-x86_64': 'a', 'initramfs-x86_64': 'b' }), {
      checksummed: CHECKSUMMED,
    });
    await publishSet(out, files({ 'vmlinuz-x86_64': 'c' }), {
      checksummed: CHECKSUMMED,
      carryOver: () => false,
    });
    assert.deepEqual(
      readdirSync(out)
        .filter((n) => !n.startsWith('.'))
        .sort(),
      ['checksum.txt', 'vmlinuz-x86_64'],
    );
  });
});

describe('lockOutputDir', () => {
  it('makes a second build wait until the first releases the folder', async () => {
    const out = tempDir();
    const first = await lockOutputDir(out, () => assert.fail('the first build must not wait'));
    const waited: number[] = [];
    let secondHasIt = false;
    const second = lockOutputDir(out, (pid) => waited.push(pid), { pollMs: 20 }).then((lock) => {
      secondHasIt = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(secondHasIt, false, 'the second build waits');
    assert.deepEqual(waited, [process.pid], 'and says who it waits for, once');
    await first.release();
    await (await second).release();
    assert.equal(secondHasIt, true);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const out = tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) =>
      child.on('exit', () => resolve(child.pid as number)),
    );
    writeFileSync(join(out, '.lock'), `${deadPid}\n`);
    const lock = await lockOutputDir(out, () => assert.fail('a dead holder is not waited for'));
    assert.equal(readFileSync(join(out, '.lock'), 'utf8'), `${process.pid}\n`);
    await lock.release();
  });
});
