/**
 * Users and groups, declared instead of created by maintainer scripts. The files are written
 * once from the base set plus the spec; systemd-sysusers adds the packages' own system users
 * (from /usr/lib/sysusers.d) at boot.
 */
import { HookError } from '../errors.ts';
import { fileNode, type Tree, treePath } from '../tree/tree.ts';

export interface UserSpec {
  name: string;
  uid: number;
  gid?: number | undefined;
  home?: string | undefined;
  shell?: string | undefined;
  groups?: string[] | undefined;
  password?: string | undefined;
}

export interface GroupSpec {
  name: string;
  gid: number;
}

/**
 * The static users and groups of Debian's base-passwd (passwd.master, group.master), which
 * base-passwd installs as /etc/passwd and /etc/group, plus the groups udev's rules name
 * (systemd's basic.conf). File owners in the spec may name any of them.
 */
export const BASE_GROUPS: readonly GroupSpec[] = [
  { name: 'root', gid: 0 },
  { name: 'daemon', gid: 1 },
  { name: 'bin', gid: 2 },
  { name: 'sys', gid: 3 },
  { name: 'adm', gid: 4 },
  { name: 'tty', gid: 5 },
  { name: 'disk', gid: 6 },
  { name: 'lp', gid: 7 },
  { name: 'mail', gid: 8 },
  { name: 'news', gid: 9 },
  { name: 'uucp', gid: 10 },
  { name: 'man', gid: 12 },
  { name: 'proxy', gid: 13 },
  { name: 'kmem', gid: 15 },
  { name: 'dialout', gid: 20 },
  { name: 'fax', gid: 21 },
  { name: 'voice', gid: 22 },
  { name: 'cdrom', gid: 24 },
  { name: 'floppy', gid: 25 },
  { name: 'tape', gid: 26 },
  { name: 'sudo', gid: 27 },
  { name: 'audio', gid: 29 },
  { name: 'dip', gid: 30 },
  { name: 'www-data', gid: 33 },
  { name: 'backup', gid: 34 },
  { name: 'operator', gid: 37 },
  { name: 'list', gid: 38 },
  { name: 'irc', gid: 39 },
  { name: 'src', gid: 40 },
  { name: 'shadow', gid: 42 },
  { name: 'utmp', gid: 43 },
  { name: 'video', gid: 44 },
  { name: 'sasl', gid: 45 },
  { name: 'plugdev', gid: 46 },
  { name: 'staff', gid: 50 },
  { name: 'games', gid: 60 },
  { name: 'users', gid: 100 },
  { name: 'input', gid: 101 }, // systemd's basic.conf (udev rules)
  { name: 'kvm', gid: 102 }, // systemd's basic.conf (udev rules)
  { name: 'render', gid: 103 }, // systemd's basic.conf (udev rules)
  { name: 'sgx', gid: 104 }, // systemd's basic.conf (udev rules)
  { name: 'nogroup', gid: 65534 },
];

export const BASE_USERS: readonly UserSpec[] = [
  { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash', password: '' },
  { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin', shell: '/usr/sbin/nologin' },
  { name: 'bin', uid: 2, gid: 2, home: '/bin', shell: '/usr/sbin/nologin' },
  { name: 'sys', uid: 3, gid: 3, home: '/dev', shell: '/usr/sbin/nologin' },
  { name: 'sync', uid: 4, gid: 65534, home: '/bin', shell: '/bin/sync' },
  { name: 'games', uid: 5, gid: 60, home: '/usr/games', shell: '/usr/sbin/nologin' },
  { name: 'man', uid: 6, gid: 12, home: '/var/cache/man', shell: '/usr/sbin/nologin' },
  { name: 'lp', uid: 7, gid: 7, home: '/var/spool/lpd', shell: '/usr/sbin/nologin' },
  { name: 'mail', uid: 8, gid: 8, home: '/var/mail', shell: '/usr/sbin/nologin' },
  { name: 'news', uid: 9, gid: 9, home: '/var/spool/news', shell: '/usr/sbin/nologin' },
  { name: 'uucp', uid: 10, gid: 10, home: '/var/spool/uucp', shell: '/usr/sbin/nologin' },
  { name: 'proxy', uid: 13, gid: 13, home: '/bin', shell: '/usr/sbin/nologin' },
  { name: 'www-data', uid: 33, gid: 33, home: '/var/www', shell: '/usr/sbin/nologin' },
  { name: 'backup', uid: 34, gid: 34, home: '/var/backups', shell: '/usr/sbin/nologin' },
  { name: 'list', uid: 38, gid: 38, home: '/var/list', shell: '/usr/sbin/nologin' },
  { name: 'irc', uid: 39, gid: 39, home: '/run/ircd', shell: '/usr/sbin/nologin' },
  { name: '_apt', uid: 42, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' },
  { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent', shell: '/usr/sbin/nologin' },
];

export function writeUsersAndGroups(
  tree: Tree,
  extraUsers: readonly UserSpec[],
  extraGroups: readonly GroupSpec[],
): void {
  const groups = mergeByName(BASE_GROUPS, extraGroups);
  const users = mergeByName(BASE_USERS, extraUsers);
  const members = new Map<string, string[]>();
  for (const user of users) {
    for (const group of user.groups ?? []) members.set(group, [...(members.get(group) ?? []), user.name]);
  }
  const passwd = users.map((u) =>
    record([u.name, 'x', u.uid, u.gid ?? u.uid, u.name, u.home ?? '/', u.shell ?? '/usr/sbin/nologin']),
  );
  // root has an empty password: the consoles log in automatically, and there is no sshd.
  const shadow = users.map((u) => record([u.name, u.password ?? '!*', 0, 0, 99999, 7, '', '', '']));
  const group = groups.map((g) => record([g.name, 'x', g.gid, (members.get(g.name) ?? []).join(',')]));
  const gshadow = groups.map((g) => record([g.name, '!', '', (members.get(g.name) ?? []).join(',')]));
  tree.set(treePath('etc/passwd'), fileNode(lines(passwd), 0o644));
  tree.set(treePath('etc/group'), fileNode(lines(group), 0o644));
  tree.set(treePath('etc/shadow'), fileNode(lines(shadow), 0o640, 0, 42));
  tree.set(treePath('etc/gshadow'), fileNode(lines(gshadow), 0o640, 0, 42));
  tree.mkdirp(treePath('root'), 0o700);
}

function mergeByName<T extends { name: string }>(base: readonly T[], extra: readonly T[]): T[] {
  const byName = new Map(base.map((item) => [item.name, item]));
  for (const item of extra) byName.set(item.name, item);
  return [...byName.values()];
}

/**
 * One line of passwd, shadow, group or gshadow. The spec loader already refuses values that
 * could add a field or a line; this is the last guard before the file is written.
 */
function record(fields: ReadonlyArray<string | number>): string {
  for (const field of fields) {
    if (typeof field === 'string' && /[:\n\r\0]/.test(field)) {
      // The value is not repeated: it may be a password hash.
      throw new HookError(
        'E_SPEC',
        `Refusing the account line of "${String(fields[0]).replace(/[^\x20-\x7e]/g, '?')}": a field contains ":" or a line break`,
        {
          hint: 'Account names, homes, shells and password hashes may not contain ":" or control characters',
        },
      );
    }
  }
  return fields.join(':');
}

function lines(items: string[]): string {
  return `${items.join('\n')}\n`;
}

/** "user:group" or "uid:gid" → numeric ids, looked up in the base set plus the spec's. */
export function resolveOwner(
  owner: string,
  users: readonly UserSpec[],
  groups: readonly GroupSpec[],
): [number, number] | undefined {
  const [user = '', group = ''] = owner.split(':');
  const uid = /^\d+$/.test(user)
    ? Number(user)
    : mergeByName(BASE_USERS, users).find((u) => u.name === user)?.uid;
  const gid = /^\d+$/.test(group)
    ? Number(group)
    : mergeByName(BASE_GROUPS, groups).find((g) => g.name === group)?.gid;
  return uid === undefined || gid === undefined ? undefined : [uid, gid];
}
