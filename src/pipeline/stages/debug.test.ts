/**
 * The debug variant on an in-memory OS: sshd configured for root by key only, the spec's and
 * the builder's keys (certificates and broken .pub files left out, repeats dropped), the sshd
 * user, host keys left to the boot (none in the image), ssh.service enabled, os-release saying
 * it is a debug build; a build without --debug gets none of it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDirSync } from '../../../test/helpers/temp-dir.ts';
import { createMergedUsr } from '../../rootfs/install.ts';
import { writeUsersAndGroups } from '../../rootfs/users.ts';
import { fileNode, Tree, treePath } from '../../tree/tree.ts';
import { type BuildContext, createContext } from '../context.ts';
import type { Reporter } from '../reporter.ts';
import { osRelease } from './configure.ts';
import { builderPublicKeys, debugStage } from './debug.ts';

/** A public key line whose data names its type, as ssh-keygen writes one. */
function key(type: string, seed: number, comment = `key${seed}`): string {
  const name = Buffer.from(type);
  const blob = Buffer.concat([Buffer.alloc(4), name, Buffer.alloc(36, seed)]);
  blob.writeUInt32BE(name.length, 0);
  return `${type} ${blob.toString('base64')} ${comment}`;
}

function osTree(): Tree {
  const tree = new Tree();
  createMergedUsr(tree, 'amd64');
  writeUsersAndGroups(tree, [], []);
  tree.set(
    treePath('usr/share/openssh/sshd_config'),
    fileNode('Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n'),
  );
  tree.set(
    treePath('usr/lib/systemd/system/ssh.service'),
    fileNode(
      '[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n',
    ),
  );
  return tree;
}

function context(
  dir: string,
  yaml: string,
  keysDir: string | undefined,
): { ctx: BuildContext; warnings: string[] } {
  const specFile = join(dir, 'hook.yaml');
  writeFileSync(specFile, `archive: { mirror: "http://deb.example/debian" }\npackages: [systemd]\n${yaml}`);
  const warnings: string[] = [];
  const reporter: Reporter = {
    stage: () => () => {},
    progress: () => {},
    info: () => {},
    warn: (m) => warnings.push(m),
  };
  const ctx = createContext({ specFile, reporter, debug: keysDir !== undefined, sshKeysDir: keysDir });
  return { ctx, warnings };
}

const text = (tree: Tree, path: string) => {
  const node = tree.get(tree.resolveParents(treePath(path)));
  return node?.kind === 'file' ? new TextDecoder().decode(node.content.data) : undefined;
};

test("--debug: sshd for root by key only, the spec's and the builder's keys, the sshd user, ssh.service enabled", async () => {
  const dir = tempDirSync('hook-debug-');
  const keys = join(dir, 'ssh');
  mkdirSync(keys);
  writeFileSync(join(keys, 'id_ed25519.pub'), `${key('ssh-ed25519', 2)}\n`);
  writeFileSync(join(keys, 'id_ecdsa.pub'), `${key('ecdsa-sha2-nistp256', 3)}\n${key('ssh-ed25519', 1)}\n`);
  writeFileSync(join(keys, 'id_ed25519-cert.pub'), `${key('ssh-ed25519-cert-v01@openssh.com', 4)}\n`);
  writeFileSync(join(keys, 'broken.pub'), 'ssh-ed25519 AAAA\n');
  writeFileSync(join(keys, 'id_ed25519'), 'PRIVATE KEY, never read\n');
  const { ctx, warnings } = context(
    dir,
    `users: [{ name: ops, uid: 100 }]\nssh:\n  authorizedKeys:\n    - ${key('ssh-ed25519', 1)}\n`,
    keys,
  );
  assert.equal(ctx.outDir, join(dir, 'out-debug'), 'a debug build goes beside the release one');
  const tree = osTree();
  await debugStage(ctx, tree);

  const authorized = text(tree, 'root/.ssh/authorized_keys');
  assert.equal(
    authorized,
    [key('ssh-ed25519', 1), key('ecdsa-sha2-nistp256', 3), key('ssh-ed25519', 2), ''].join('\n'),
    'spec keys first, then every .pub in name order; the same line once',
  );
  assert.ok(!authorized?.includes('PRIVATE'));
  assert.deepEqual(
    [tree.get(treePath('root/.ssh')), tree.get(treePath('root/.ssh/authorized_keys'))].map(
      (n) => n && 'mode' in n && n.mode,
    ),
    [0o700, 0o600],
  );
  assert.deepEqual(warnings, [
    `debug build: skipped a public key in ${join(keys, 'broken.pub')} (the key's data does not start with its type ssh-ed25519 (a truncated or mixed-up key?))`,
  ]);

  assert.equal(
    text(tree, 'etc/ssh/sshd_config'),
    'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n',
    "the package's template, as its postinst installs it",
  );
  const debugConf = text(tree, 'etc/ssh/sshd_config.d/hook-debug.conf') ?? '';
  for (const line of [
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
  ])
    assert.match(debugConf, new RegExp(`^${line}$`, 'm'));
  assert.match(
    text(tree, 'usr/lib/systemd/system/hook-ssh-keygen.service') ?? '',
    /^ExecStart=\/usr\/bin\/ssh-keygen -A$/m,
  );
  assert.match(
    text(tree, 'usr/lib/systemd/system/ssh.service.d/10-hook.conf') ?? '',
    /^After=hook-ssh-keygen\.service$/m,
  );
  assert.equal(tree.get(treePath('etc/systemd/system/multi-user.target.wants/ssh.service'))?.kind, 'symlink');
  assert.equal(tree.get(treePath('etc/systemd/system/sshd.service'))?.kind, 'symlink', "ssh.service's alias");
  assert.deepEqual(
    tree.entries().filter(([path]) => /ssh_host_/.test(path)),
    [],
    'no host key in the image',
  );
  // uid 100 is the spec's ops: sshd gets the next free system uid, group nogroup.
  assert.match(text(tree, 'etc/passwd') ?? '', /^sshd:x:101:65534:sshd:\/run\/sshd:\/usr\/sbin\/nologin$/m);
  assert.match(text(tree, 'etc/passwd') ?? '', /^ops:x:100:/m);
  assert.match(
    osRelease({ name: 'hookos', version: '1.0', arch: 'x86_64', debug: true }),
    /^VARIANT="debug"$/m,
  );
  assert.match(
    osRelease({ name: 'hookos', version: '1.0', arch: 'x86_64', debug: true }),
    /^PRETTY_NAME="HookOS 1\.0 \(hookos, debug build\)"$/m,
  );
});

test('without --debug nothing changes; a debug build without any key says only the console can log in', async () => {
  const dir = tempDirSync('hook-debug-');
  const release = context(dir, '', undefined);
  const tree = osTree();
  const before = JSON.stringify(tree.entries());
  await debugStage(release.ctx, tree);
  assert.equal(JSON.stringify(tree.entries()), before);
  assert.equal(release.ctx.outDir, join(dir, 'out'));
  assert.doesNotMatch(osRelease({ name: 'hookos', version: '1.0', arch: 'x86_64' }), /VARIANT=/);

  const none = context(dir, '', join(dir, 'no-such-dir'));
  await debugStage(none.ctx, osTree());
  assert.match(
    none.warnings.join('\n'),
    /debug build without any SSH key: .*no-such-dir has no \*\.pub and the spec no ssh\.authorizedKeys, so only the console can log in/,
  );
  assert.deepEqual(await builderPublicKeys(join(dir, 'no-such-dir')), { keys: [], skipped: [], files: [] });
});
