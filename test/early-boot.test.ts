/**
 * The early boot on its own: the tools in the early archive (busybox, zstd and the libraries
 * found through their ELF headers) unpack every payload by themselves, in a chroot holding
 * nothing else; and when early boot fails, the console says why and a shell answers.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cpioTrailer, readCpio, writeCpio } from '../src/formats/cpio.ts';
import { zstdFrameEnd } from '../src/formats/zstd-frames.ts';
import { PAYLOAD_DIR, PAYLOAD_INDEX, readInitramfs } from '../src/pipeline/initramfs/early-boot.ts';
import { dirNode, fileNode, type TreeNode, type TreePath, treePath } from '../src/tree/tree.ts';
import { withBootedOs } from './helpers/boot.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { tempDir } from './helpers/temp-dir.ts';

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

/** SHA-256 of every regular file, by path. */
function sums(dir: string): string[] {
  return execFileSync('sh', ['-c', 'find . -type f -print0 | xargs -0 sha256sum'], {
    cwd: dir,
    maxBuffer: 1 << 26,
  })
    .toString()
    .split('\n')
    .filter((line) => line !== '')
    .sort();
}

test('/init, run in a chroot of the early archive, unpacks the OS as GNU cpio and zstd do', {
  timeout: 15 * 60_000,
}, async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root (chroot, file owners); CI does');
  const image = await buildDefaultOs('x86_64');
  const initramfs = await readFile(join(image.outDir, 'initramfs-x86_64'));
  const { early, payloads, index, handover } = await readInitramfs(initramfs);
  const work = await tempDir('hook-early-', { keepOnFailure: true });
  const root = join(work, 'early');
  const carrier = join(work, 'carrier');
  const reference = join(work, 'reference');
  for (const dir of [root, carrier, reference]) await mkdir(dir);
  assert.ok(early.some((e) => e.name === 'usr/bin/zstd'));
  assert.ok(
    payloads.some((p) => p.carrier !== undefined),
    'some payloads are single files',
  );
  assert.ok(handover.includes('usr/bin/busybox'), 'busybox is handed over, not carried twice');
  // What the kernel does: the early archive, then the uncompressed carrier, unpacked by GNU cpio.
  const earlyEnd = zstdFrameEnd(initramfs, 0).offset;
  const carrierBytes = initramfs.subarray(earlyEnd + ((4 - (earlyEnd % 4)) % 4));
  for (const dir of [root, carrier]) {
    execFileSync('sh', ['-c', 'zstd -dc | cpio -i -d -m --quiet --no-absolute-filenames'], {
      cwd: dir,
      input: initramfs.subarray(0, earlyEnd),
    });
    execFileSync('cpio', ['-i', '-d', '-m', '--quiet', '--no-absolute-filenames'], {
      cwd: dir,
      input: carrierBytes,
      maxBuffer: 1 << 20,
    });
  }
  // The reference, made by the host's own tools from the same carrier: GNU cpio for the archives,
  // the host's zstd for the single files (it gives each the mode, owner and time of its payload).
  for (const line of index.trim().split('\n')) {
    const [kind, , name] = line.split(' ');
    if (kind === 'cpio') {
      execFileSync(
        'sh',
        ['-c', `zstd -dc "${join(carrier, PAYLOAD_DIR, name ?? '')}" | cpio -i -d -m -u --quiet`],
        {
          cwd: reference,
        },
      );
    } else if (kind === 'file') {
      execFileSync('zstd', ['-dqf', '--output-dir-mirror', reference, '--', `${name}.zst`], {
        cwd: join(carrier, PAYLOAD_DIR, 'files'),
      });
    } else if (kind === 'early') {
      execFileSync('cp', ['-a', join(carrier, name ?? ''), join(reference, name ?? '')]);
    }
  }
  // The real /init, not as PID 1: it unpacks into /sysroot with the early archive's busybox and
  // zstd, in a root holding nothing else, and exits.
  execFileSync('chroot', [root, '/init'], { stdio: 'inherit' });
  const ours = listing(join(root, 'sysroot'));
  const theirs = listing(reference);
  assert.ok(theirs.length > 2000, `only ${theirs.length} entries`);
  assert.deepEqual(ours, theirs, '/init in the chroot gives the tree GNU cpio and zstd give');
  assert.deepEqual(sums(join(root, 'sysroot')), sums(reference), 'every file has the same bytes');
  assert.ok(
    ours.some((line) => /^f 4755 0:0 \d+ {2}usr\/bin\/mount$/.test(line)),
    'setuid programs keep their mode',
  );
  assert.ok(
    ours.some((line) => /^f 755 0:0 \d+ {2}usr\/sbin\/dockerd$/.test(line)),
    'a file payload gets the mode of its carrier entry',
  );
  // Each payload was deleted once unpacked: RAM never held the OS twice.
  const left = execFileSync('find', [join(root, PAYLOAD_DIR), '-type', 'f'])
    .toString()
    .trim()
    .split('\n');
  assert.deepEqual(left, [join(root, PAYLOAD_INDEX)], 'only the index is left in /payload');
});

test('a failing early boot says why on the console and leaves a working shell', {
  timeout: 15 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  const initramfs = await readFile(join(image.outDir, 'initramfs-x86_64'));
  const { payloads, index } = await readInitramfs(initramfs);
  const earlyEnd = zstdFrameEnd(initramfs, 0).offset;
  // Same early archive; a chunk of the OS cut in half, as a failed download would leave it.
  const victim = payloads.find((p) => /^\d+-base/.test(p.file));
  assert.ok(victim, 'a base chunk');
  const broken = payloads.map((p) =>
    p === victim ? { ...p, compressed: p.compressed.subarray(0, p.compressed.byteLength >> 1) } : p,
  );
  // Every folder of the carrier, parents first: the kernel's unpacker creates none by itself.
  const folders = [
    ...new Set(
      broken.flatMap((p) => {
        const parts = `${PAYLOAD_DIR}/${p.file}`.split('/').slice(0, -1);
        return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      }),
    ),
  ].sort();
  const carrier: Array<[TreePath, TreeNode]> = [
    ...folders.map((folder): [TreePath, TreeNode] => [treePath(folder), dirNode(0o700)]),
    ...broken.map((p): [TreePath, TreeNode] => [
      treePath(`${PAYLOAD_DIR}/${p.file}`),
      fileNode(p.compressed, p.carrier?.mode ?? 0o600, p.carrier?.uid ?? 0, p.carrier?.gid ?? 0),
    ]),
    [treePath(PAYLOAD_INDEX), fileNode(index)],
  ];
  const pad = (4 - (earlyEnd % 4)) % 4;
  const work = await tempDir('hook-early-fail-', { keepOnFailure: true });
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
      const message = await vm.waitFor(/hookos-init: early boot failed: ([^\r\n]*)\r?\n/, {
        timeoutMs: 5 * 60_000,
      });
      assert.match(message[1] ?? '', new RegExp(`unpacking /payload/${victim.file} failed`));
      await vm.waitFor(/a busybox shell follows/, { timeoutMs: 60_000 });
      const shell = await vm.run('echo alive; busybox ls /payload', { timeoutMs: 60_000 });
      assert.match(shell.output, /^alive$/m, 'the shell runs commands');
      assert.match(shell.output, new RegExp(victim.file), 'the failed payload is still there to look at');
    },
  );
});
