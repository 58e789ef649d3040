import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMergedUsr } from '../../rootfs/install.ts';
import { fileNode, symlinkNode, Tree, treePath } from '../../tree/tree.ts';
import { addBusyboxApplets, addCaBundle, addOsFiles, BUSYBOX_APPLETS } from './configure.ts';

function osTree(): Tree {
  const tree = new Tree();
  createMergedUsr(tree, 'amd64');
  tree.set(treePath('usr/bin/busybox'), fileNode('busybox', 0o755));
  return tree;
}

const text = (tree: Tree, path: string) => {
  const node = tree.get(tree.resolveParents(treePath(path)));
  return node?.kind === 'file' ? new TextDecoder().decode(node.content.data) : undefined;
};

test('busybox applets are linked only where no package or spec entry put the tool', () => {
  const tree = osTree();
  tree.set(treePath('usr/bin/diff'), fileNode('GNU diff', 0o755)); // diffutils installed
  tree.set(treePath('usr/sbin/arping'), fileNode('iputils arping', 0o755));
  tree.set(treePath('usr/bin/vi'), symlinkNode('vim.tiny'));
  const added = addBusyboxApplets(tree);
  assert.deepEqual(
    added,
    BUSYBOX_APPLETS.filter((a) => !['diff', 'arping', 'vi'].includes(a)),
  );
  const awk = tree.get(treePath('usr/bin/awk'));
  assert.ok(awk?.kind === 'symlink' && awk.target === 'busybox');
  assert.equal(text(tree, 'usr/bin/diff'), 'GNU diff');
  assert.equal(tree.get(treePath('usr/bin/arping')), undefined, 'arping is in /usr/sbin already');

  const noBusybox = new Tree();
  createMergedUsr(noBusybox, 'amd64');
  assert.deepEqual(addBusyboxApplets(noBusybox), [], 'no busybox, no links to it');
});

test("/etc/hosts and /etc/networks as netbase's postinst writes them, unless something put them there", () => {
  const tree = osTree();
  addOsFiles(tree, { name: 'hookos', version: '1', arch: 'x86_64' });
  assert.match(
    text(tree, 'etc/hosts') ?? '',
    /^127\.0\.0\.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n/,
  );
  assert.match(text(tree, 'etc/networks') ?? '', /^default\t\t0\.0\.0\.0\n/);
  const custom = osTree();
  custom.set(treePath('etc/hosts'), fileNode('10.0.0.1 tink\n'));
  addOsFiles(custom, { name: 'hookos', version: '1', arch: 'x86_64' });
  assert.equal(text(custom, 'etc/hosts'), '10.0.0.1 tink\n');
});

test("the CA bundle: the package's certificates, then the registries'", () => {
  const tree = osTree();
  tree.set(treePath('usr/share/ca-certificates/mozilla/A.crt'), fileNode('A'));
  assert.equal(addCaBundle(tree, ['REGISTRY CA']), 2);
  assert.equal(text(tree, 'etc/ssl/certs/ca-certificates.crt'), 'A\nREGISTRY CA\n');
});
