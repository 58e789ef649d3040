/**
 * Users and groups, declared instead of created by maintainer scripts. The files are written
 * once from the base set plus the spec; systemd-sysusers adds the packages' own system users
 * (from /usr/lib/sysusers.d) at boot.
 */
import { fileNode, imagePath, type Tree } from './tree.ts';

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

const BASE_GROUPS: GroupSpec[] = [
  { name: 'root', gid: 0 },
  { name: 'daemon', gid: 1 },
  { name: 'bin', gid: 2 },
  { name: 'sys', gid: 3 },
  { name: 'adm', gid: 4 },
  { name: 'tty', gid: 5 },
  { name: 'disk', gid: 6 },
  { name: 'lp', gid: 7 },
  { name: 'mail', gid: 8 },
  { name: 'kmem', gid: 15 },
  { name: 'dialout', gid: 20 },
  { name: 'cdrom', gid: 24 },
  { name: 'floppy', gid: 25 },
  { name: 'tape', gid: 26 },
  { name: 'sudo', gid: 27 },
  { name: 'audio', gid: 29 },
  { name: 'video', gid: 44 },
  { name: 'shadow', gid: 42 },
  { name: 'utmp', gid: 43 },
  { name: 'plugdev', gid: 46 },
  { name: 'staff', gid: 50 },
  { name: 'users', gid: 100 },
  { name: 'input', gid: 101 },
  { name: 'kvm', gid: 102 },
  { name: 'render', gid: 103 },
  { name: 'sgx', gid: 104 },
  { name: 'nogroup', gid: 65534 },
];

const BASE_USERS: UserSpec[] = [
  { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash', password: '' },
  { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin', shell: '/usr/sbin/nologin' },
  { name: 'bin', uid: 2, gid: 2, home: '/bin', shell: '/usr/sbin/nologin' },
  { name: 'sys', uid: 3, gid: 3, home: '/dev', shell: '/usr/sbin/nologin' },
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
  const passwd = users.map(
    (u) =>
      `${u.name}:x:${u.uid}:${u.gid ?? u.uid}:${u.name}:${u.home ?? '/'}:${u.shell ?? '/usr/sbin/nologin'}`,
  );
  // root has an empty password: the consoles log in automatically, and there is no sshd.
  const shadow = users.map((u) => `${u.name}:${u.password ?? '!*'}:0:0:99999:7:::`);
  const group = groups.map((g) => `${g.name}:x:${g.gid}:${(members.get(g.name) ?? []).join(',')}`);
  const gshadow = groups.map((g) => `${g.name}:!::${(members.get(g.name) ?? []).join(',')}`);
  tree.set(imagePath('etc/passwd'), fileNode(lines(passwd), 0o644));
  tree.set(imagePath('etc/group'), fileNode(lines(group), 0o644));
  tree.set(imagePath('etc/shadow'), fileNode(lines(shadow), 0o640, 0, 42));
  tree.set(imagePath('etc/gshadow'), fileNode(lines(gshadow), 0o640, 0, 42));
  tree.mkdirp(imagePath('root'), 0o700);
}

function mergeByName<T extends { name: string }>(base: readonly T[], extra: readonly T[]): T[] {
  const byName = new Map(base.map((item) => [item.name, item]));
  for (const item of extra) byName.set(item.name, item);
  return [...byName.values()];
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
