/**
 * applySpec on an in-memory tree: what the spec declares lands where it says, never replaces
 * a directory, reads sources only from where the loader allowed, and names every unknown
 * unit at its node with near matches.
 */
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDirSync } from '../../../test/helpers/temp-dir.ts';
import { createMergedUsr } from '../../rootfs/install.ts';
import { loadSpec, SpecError } from '../../specfile/load.ts';
import { dirNode, fileNode, symlinkNode, Tree, treePath } from '../../tree/tree.ts';
import { applySpec } from './configure.ts';

function baseTree(): Tree {
  const tree = new Tree();
  createMergedUsr(tree, 'amd64');
  const unit = (name: string, text: string) =>
    tree.set(treePath(`usr/lib/systemd/system/${name}`), fileNode(text));
  unit('docker.service', '[Service]\nExecStart=/usr/bin/dockerd\n[Install]\nWantedBy=multi-user.target\n');
  unit('getty@.service', '[Service]\nExecStart=/sbin/agetty %I\n[Install]\nWantedBy=getty.target\n');
  unit(
    'systemd-resolved.service',
    '[Install]\nWantedBy=multi-user.target\nAlias=dbus-org.freedesktop.resolve1.service\n',
  );
  unit('systemd-firstboot.service', '[Service]\n');
  tree.set(
    treePath('usr/lib/systemd/system/dbus-org.freedesktop.resolve1.service'),
    symlinkNode('systemd-resolved.service'),
  );
  tree.set(treePath('etc/ssl/certs'), dirNode());
  tree.set(treePath('etc/ssl/certs/ca.pem'), fileNode('pem'));
  tree.set(treePath('etc/hostname'), fileNode(''));
  return tree;
}

function specIn(lines: string[]): { file: string; dir: string } {
  const dir = tempDirSync('hook-apply-');
  const file = join(dir, 'hook.yaml');
  writeFileSync(file, `packages: [systemd]\n${lines.join('\n')}\n`);
  return { file, dir };
}

async function applyError(tree: Tree, file: string, allowOutsideSources = false): Promise<SpecError> {
  try {
    await applySpec(tree, loadSpec(file, { allowOutsideSources }));
  } catch (error) {
    assert.ok(error instanceof SpecError, String((error as Error)?.stack));
    return error;
  }
  assert.fail('applySpec succeeded');
}

test('files, links, owners and units land where the spec says', async () => {
  const { file } = specIn([
    'files: [{ path: bin/tool, content: "#!/bin/sh\\n", mode: "0755", owner: "www-data:adm" }]',
    'symlinks: [{ path: usr/sbin/iptables, target: iptables-nft }]',
    'systemd: { enable: [docker.service, getty@tty1.service], mask: [systemd-firstboot.service, tmp.mount] }',
  ]);
  const tree = baseTree();
  await applySpec(tree, loadSpec(file));
  const tool = tree.get(treePath('usr/bin/tool'));
  assert.equal(tool?.kind, 'file');
  assert.deepEqual([tool?.uid, tool?.gid, tool?.kind === 'file' && tool.mode], [33, 4, 0o755]);
  assert.deepEqual(tree.get(treePath('usr/sbin/iptables')), symlinkNode('iptables-nft'));
  assert.equal(
    tree.get(treePath('etc/systemd/system/multi-user.target.wants/docker.service'))?.kind,
    'symlink',
  );
  assert.equal(
    tree.get(treePath('etc/systemd/system/getty.target.wants/getty@tty1.service'))?.kind,
    'symlink',
  );
  assert.deepEqual(tree.get(treePath('etc/systemd/system/tmp.mount')), symlinkNode('/dev/null'));
  const passwd = tree.get(treePath('etc/passwd'));
  assert.ok(
    passwd?.kind === 'file' && new TextDecoder().decode(passwd.content.data).includes('\nwww-data:x:33:33:'),
  );
});

test('a file or link over a directory of the image is refused; the directory stays', async () => {
  const { file } = specIn([
    'files: [{ path: etc/ssl/certs, content: x }]',
    'symlinks: [{ path: etc/ssl/./certs/, target: /tmp }]',
  ]);
  // The trailing "/" is refused at load; the file over the directory only against the tree.
  assert.throws(() => loadSpec(file), /symlinks\[0\]\.path: bad path "etc\/ssl\/\.\/certs\/"/);
  const fileOnly = specIn(['files: [{ path: etc/ssl/certs, content: x }]']).file;
  const tree = baseTree();
  const error = await applyError(tree, fileOnly);
  assert.equal(
    error.message,
    `${fileOnly}:2:17: files[0].path: /etc/ssl/certs is a directory in the image: a file there would replace it and everything in it`,
  );
  assert.equal(tree.get(treePath('etc/ssl/certs'))?.kind, 'dir');
  assert.equal(tree.get(treePath('etc/ssl/certs/ca.pem'))?.kind, 'file');
  const link = specIn(['symlinks: [{ path: etc/ssl/certs, target: /tmp }]']).file;
  assert.match(
    (await applyError(baseTree(), link)).message,
    /symlinks\[0\]\.path: \/etc\/ssl\/certs is a directory/,
  );
});

test('a path under a file of the image is E_SPEC at the entry, not an internal error', async () => {
  const { file } = specIn(['files: [{ path: etc/hostname/x, content: x }]']);
  const error = await applyError(baseTree(), file);
  assert.match(
    error.message,
    /:2:17: files\[0\]\.path: Cannot create directory \/etc\/hostname: a file is there$/,
  );
});

test('a source swapped for a link to a host file after loading is refused as it is read', async () => {
  const { file, dir } = specIn(['files: [{ path: etc/x.conf, source: x.conf }]']);
  writeFileSync(join(dir, 'x.conf'), 'x\n');
  const loaded = loadSpec(file);
  rmSync(join(dir, 'x.conf'));
  symlinkSync('/etc/hostname', join(dir, 'x.conf'));
  await assert.rejects(applySpec(baseTree(), loaded), (error: unknown) => {
    assert.ok(error instanceof SpecError);
    assert.match(
      error.message,
      /files\[0\]\.source: source .*x\.conf is outside the spec's folder .* \(it resolves to \/etc\/hostname\)/,
    );
    assert.match(error.hint ?? '', /--allow-outside-sources/);
    return true;
  });
  const allowed = baseTree();
  await applySpec(allowed, loadSpec(file, { allowOutsideSources: true }));
  assert.equal(allowed.get(treePath('etc/x.conf'))?.kind, 'file');
});

test('unknown units are named together at their nodes, with near matches and aliases explained', async () => {
  const { file } = specIn([
    'systemd:',
    '  enable: [dockr.service, dbus-org.freedesktop.resolve1.service, getty@ttyS0.service]',
    '  mask: [systemd-firstbot.service, nothing-like-it.timer, dev-sda.device]',
  ]);
  const error = await applyError(baseTree(), file);
  assert.deepEqual(
    error.message.split('\n').map((line) => line.slice(file.length)),
    [
      ':3:12: systemd.enable[0]: no unit file dockr.service in the image',
      ':3:27: systemd.enable[1]: dbus-org.freedesktop.resolve1.service is an alias of systemd-resolved.service, not a unit file',
      ':4:10: systemd.mask[0]: no unit systemd-firstbot.service in the image to mask',
      ':4:36: systemd.mask[1]: no unit nothing-like-it.timer in the image to mask',
    ],
  );
  assert.equal(
    error.hint,
    [
      'Did you mean docker.service?',
      'Enable systemd-resolved.service: its [Install] section creates the alias',
      'Did you mean systemd-firstboot.service?',
      'Check the unit name, and that the package providing it is in packages:',
    ].join('\n'),
  );
});
