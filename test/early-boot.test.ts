/**
 * The early boot on its own: the tools in the early archive (busybox, zstd and the libraries
 * found through their ELF headers) unpack every payload by themselves, in a chroot holding
 * nothing else; and when early boot fails, the console says why and a shell answers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PAYLOAD_DIR, PAYLOAD_INDEX, readInitramfs } from '../src/build/initramfs/early-boot.ts';
import { decompress } from '../src/formats/compress.ts';
import { cpioTrailer, readCpio, writeCpio } from '../src/formats/cpio.ts';
import { zstdFrameEnd } from '../src/formats/zstd-frames.ts';
import { dirNode, fileNode, type TreeNode, type TreePath, treePath } from '../src/tree/tree.ts';
import { withBootedOs } from './helpers/boot.ts';
import { buildDefaultOs } from './helpers/built-os.ts';

/** `find` over an unpacked tree: type, mode, owner, size (files), target (links), path. */
function listing(dir: string): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', '-printf', '%y %m %U:%G %s %l %P\\n'], {
    cwd: dir,
    maxBuffer: 1 << 26,
  })
    .toString()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (line.startsWith('d ') ? line.replace(/^(d \d+ \d+:\d+) \d+/, '$1 -') : line))
    .sort();
}

test('the early archive alone unpacks every payload exactly as GNU cpio does', {
  timeout: 15 * 60_000,
}, async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root (chroot, file owners); CI does');
  const image = await buildDefaultOs('x86_64');
  const { early, payloads } = await readInitramfs(await readFile(join(image.outDir, 'initramfs-x86_64')));
  const work = await mkdtemp(join(tmpdir(), 'hook-early-'));
  const root = join(work, 'early');
  const reference = join(work, 'reference');
  await mkdir(root);
  await mkdir(reference);
  assert.ok(early.some((e) => e.name === 'usr/bin/zstd'));
  // The early archive unpacked by GNU cpio: a root holding nothing but what /init has.
  const initramfs = await readFile(join(image.outDir, 'initramfs-x86_64'));
  const frame = initramfs.subarray(0, zstdFrameEnd(initramfs, 0).offset);
  execFileSync('sh', ['-c', 'zstd -dc | cpio -i -d -m --quiet --no-absolute-filenames'], {
    cwd: root,
    input: frame,
  });
  await mkdir(join(root, PAYLOAD_DIR));
  let index = '';
  for (const payload of payloads) {
    await writeFile(join(root, PAYLOAD_DIR, payload.file), payload.compressed);
    const bytes = (await decompress(payload.compressed)).byteLength;
    index += `${payload.file} ${bytes} zstd\n`;
    execFileSync('sh', ['-c', 'zstd -dc | cpio -i -d -m -u --quiet'], {
      cwd: reference,
      input: payload.compressed,
      maxBuffer: 1 << 20,
    });
  }
  await writeFile(join(root, PAYLOAD_INDEX), index);
  // The unpack loop of osie/early/init.sh, run by the early archive's own busybox and zstd.
  execFileSync(
    'chroot',
    [
      root,
      '/usr/bin/busybox',
      'sh',
      '-c',
      'set -o pipefail; cd /sysroot && while read -r f b k; do /usr/bin/zstd -dcq "/payload/$f" | /usr/bin/busybox cpio -i -d -m -u 2>/dev/null || exit 1; done < /payload/index',
    ],
    { stdio: 'inherit' },
  );
  const ours = listing(join(root, 'sysroot'));
  const theirs = listing(reference);
  assert.ok(theirs.length > 3000, `only ${theirs.length} entries`);
  assert.deepEqual(ours, theirs, 'busybox cpio in the chroot gives the tree GNU cpio gives');
  assert.ok(
    ours.some((line) => /^f 4755 0:0 \d+ {2}usr\/bin\/mount$/.test(line)),
    'setuid programs keep their mode',
  );
});

test('a failing early boot says why on the console and leaves a working shell', {
  timeout: 15 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  const initramfs = await readFile(join(image.outDir, 'initramfs-x86_64'));
  const { payloads, index } = await readInitramfs(initramfs);
  const earlyEnd = zstdFrameEnd(initramfs, 0).offset;
  // Same early archive; the second payload cut in half, as a failed download would leave it.
  const broken = payloads.map((p, i) =>
    i === 1 ? { ...p, compressed: p.compressed.subarray(0, p.compressed.byteLength >> 1) } : p,
  );
  const carrier: Array<[TreePath, TreeNode]> = [
    [treePath(PAYLOAD_DIR), dirNode(0o700)],
    ...broken.map((p): [TreePath, TreeNode] => [
      treePath(`${PAYLOAD_DIR}/${p.file}`),
      fileNode(p.compressed),
    ]),
    [treePath(PAYLOAD_INDEX), fileNode(index)],
  ];
  const pad = (4 - (earlyEnd % 4)) % 4;
  const work = await mkdtemp(join(tmpdir(), 'hook-early-fail-'));
  await writeFile(
    join(work, 'initramfs-x86_64'),
    Buffer.concat([
      initramfs.subarray(0, earlyEnd),
      Buffer.alloc(pad),
      ...writeCpio(carrier, { mtime: 0, inodeBase: 1_000_000 }),
      cpioTrailer(),
    ]),
  );
  await copyFile(join(image.outDir, 'vmlinuz-x86_64'), join(work, 'vmlinuz-x86_64'));
  assert.equal(
    readCpio(Buffer.concat([...writeCpio(carrier, { mtime: 0 }), cpioTrailer()])).length,
    carrier.length,
  );
  await withBootedOs(
    { outDir: work, arch: 'x86_64', memoryMiB: 1024, logFile: join(work, 'console.log') },
    async (vm) => {
      const message = await vm.waitFor(/hookos-init: early boot failed: ([^\n]*)/, { timeoutMs: 5 * 60_000 });
      assert.match(message[1] ?? '', new RegExp(`unpacking /payload/${payloads[1]?.file} failed`));
      await vm.waitFor(/a busybox shell follows/, { timeoutMs: 60_000 });
      const shell = await vm.run('echo alive; busybox ls /payload', { timeoutMs: 60_000 });
      assert.match(shell.output, /^alive$/m, 'the shell runs commands');
      assert.match(
        shell.output,
        new RegExp(payloads[1]?.file ?? '-'),
        'the failed payload is still there to look at',
      );
    },
  );
});
