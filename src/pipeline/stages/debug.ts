/**
 * The debug variant (`hook build --debug`, Hook's `make debug`): OpenSSH's server, root login
 * with a key only, and nothing else changed. What openssh-server's maintainer scripts would do
 * is declared here: the privilege-separation user `sshd` (its sysusers.d line, written into
 * /etc/passwd at build time), /etc/ssh/sshd_config (the package's template, which the postinst
 * installs with ucf), host keys — made at every boot by hook-ssh-keygen.service before sshd,
 * never in the image, where every machine booting it would share them — and ssh.service
 * enabled. /run/sshd is ssh.service's RuntimeDirectory. The keys in root's authorized_keys are
 * the spec's `ssh.authorizedKeys` and the builder's `~/.ssh/*.pub`. The OS says it is a debug
 * build in os-release (VARIANT="debug"; configure stage).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HookError } from '../../errors.ts';
import { REPO_ROOT } from '../../repo.ts';
import { enableUnit } from '../../rootfs/systemd-units.ts';
import { BASE_USERS, type UserSpec, writeUsersAndGroups } from '../../rootfs/users.ts';
import { sshPublicKeyProblem } from '../../specfile/embedded.ts';
import { fileNode, type Tree, treePath } from '../../tree/tree.ts';
import type { BuildContext } from '../context.ts';

/** The packages a debug build adds to the spec's (with their dependencies). */
export const DEBUG_PACKAGES: readonly string[] = ['openssh-server'];

/**
 * Left out of a debug build although openssh-server depends on them: tools of maintainer
 * scripts only (ucf installs sshd_config from its template; runit-helper wires runit
 * services), which HookOS never runs. Without them perl-base, sensible-utils and two Perl
 * libraries stay out too: 7.3 MiB less on the default spec, and nothing the spec's own
 * packages need is removed (resolved both ways against trixie: the default spec's set is the
 * same with or without them).
 */
export const DEBUG_OMIT: readonly string[] = ['ucf', 'runit-helper'];

/**
 * Packages a debug build keeps although the spec omits them: the default spec leaves SQLite out
 * (only lslogins, excluded, needs it there), but OpenSSH's sshd-session links libwtmpdb, which
 * needs it; without it every login is refused ("error while loading shared libraries").
 */
export const DEBUG_NEEDS: readonly string[] = ['libsqlite3-0'];

/** Files under osie/debug/ → where they go in the OS. */
const DEBUG_FILES: ReadonlyArray<[from: string, to: string]> = [
  ['hook-ssh-keygen.service', 'usr/lib/systemd/system/hook-ssh-keygen.service'],
  ['ssh.service.d/10-hook.conf', 'usr/lib/systemd/system/ssh.service.d/10-hook.conf'],
  ['hook-debug.conf', 'etc/ssh/sshd_config.d/hook-debug.conf'],
];

/** The template openssh-server's postinst installs as /etc/ssh/sshd_config (through ucf). */
const SSHD_CONFIG_TEMPLATE = 'usr/share/openssh/sshd_config';
const NOGROUP = 65534;

export interface PublicKeys {
  /** One key per line as authorized_keys takes it, in order, without repeats. */
  keys: string[];
  /** Files that were skipped, and why. */
  skipped: string[];
}

/**
 * The builder's public keys: every line of every `*.pub` in `dir` (certificates, `*-cert.pub`,
 * are left out: authorized_keys takes keys). A missing folder has none.
 */
export async function builderPublicKeys(dir: string): Promise<PublicKeys & { files: string[] }> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = names.filter((n) => n.endsWith('.pub') && !n.endsWith('-cert.pub')).sort();
  const keys: string[] = [];
  const skipped: string[] = [];
  for (const name of files) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) {
      skipped.push(`${join(dir, name)} (unreadable)`);
      continue;
    }
    for (const line of text.split('\n').map((l) => l.trim())) {
      if (line === '' || line.startsWith('#')) continue;
      const problem = sshPublicKeyProblem(line);
      if (problem === undefined) keys.push(line);
      else skipped.push(`${join(dir, name)} (${problem})`);
    }
  }
  return { keys, skipped, files: files.map((n) => join(dir, n)) };
}

/** The lowest uid from 100 (Debian's system range) that neither the base system nor the spec uses. */
function freeSystemUid(taken: Iterable<number>): number {
  const used = new Set(taken);
  let uid = 100;
  while (used.has(uid)) uid++;
  return uid;
}

/** Adds the debug build's SSH server, keys and identity to the configured OS tree. */
export async function debugStage(ctx: BuildContext, tree: Tree): Promise<void> {
  const debug = ctx.debug;
  if (debug === undefined) return;
  const done = ctx.reporter.stage('debug');
  const template = tree.get(treePath(SSHD_CONFIG_TEMPLATE));
  if (template?.kind !== 'file') {
    throw new HookError(
      'E_SPEC',
      `A debug build needs /${SSHD_CONFIG_TEMPLATE} from openssh-server, which is not in the OS`,
      {
        hint: 'Keep openssh-server and its files (check exclude: and packages[].include/exclude)',
      },
    );
  }
  tree.set(treePath('etc/ssh/sshd_config'), fileNode(template.content.data, 0o644));
  for (const [from, to] of DEBUG_FILES) {
    tree.set(
      treePath(to),
      fileNode(new Uint8Array(await readFile(join(REPO_ROOT, 'osie', 'debug', from))), 0o644),
    );
  }
  enableUnit(tree, 'ssh.service');

  const sshd: UserSpec = {
    name: 'sshd',
    uid: freeSystemUid([...BASE_USERS, ...ctx.spec.users].map((u) => u.uid)),
    gid: NOGROUP,
    home: '/run/sshd',
    shell: '/usr/sbin/nologin',
  };
  if (!ctx.spec.users.some((u) => u.name === 'sshd')) {
    writeUsersAndGroups(tree, [...ctx.spec.users, sshd], ctx.spec.groups);
  }

  const builder = await builderPublicKeys(debug.sshKeysDir);
  for (const why of builder.skipped) ctx.reporter.warn(`debug build: skipped a public key in ${why}`);
  const keys = [...new Set([...ctx.spec.ssh.authorizedKeys.map((k) => k.trim()), ...builder.keys])];
  if (keys.length === 0) {
    ctx.reporter.warn(
      `debug build without any SSH key: ${debug.sshKeysDir} has no *.pub and the spec no ssh.authorizedKeys, so only the console can log in`,
    );
  }
  tree.set(treePath('root/.ssh'), { kind: 'dir', mode: 0o700, uid: 0, gid: 0 });
  tree.set(treePath('root/.ssh/authorized_keys'), fileNode(keys.map((k) => `${k}\n`).join(''), 0o600));
  done(
    `sshd (root by key only), ${keys.length} authorized key${keys.length === 1 ? '' : 's'} (${ctx.spec.ssh.authorizedKeys.length} from the spec, ${builder.files.length} .pub file${builder.files.length === 1 ? '' : 's'} in ${debug.sshKeysDir})`,
  );
}
