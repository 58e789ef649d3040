/**
 * The files the OS needs that no package provides and no maintainer script will create:
 * identity (os-release, machine-id), consoles, device nodes, the CA bundle and
 * systemd settings for an OS that lives in RAM.
 */
import type { Arch } from '../arch.ts';
import { HookError } from '../errors.ts';
import { fileNode, imagePath, symlinkNode, type Tree } from '../rootfs/tree.ts';

export interface OsIdentity {
  name: string;
  version: string;
  arch: Arch;
}

/**
 * A double-quoted os-release value (os-release(5): shell-compatible quoting, with `\`, `"`,
 * `$` and backquote escaped). A control character could start a new assignment, so it is
 * refused; the spec loader refuses such versions and names already.
 */
export function osReleaseValue(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new HookError(
      'E_SPEC',
      `Refusing os-release value ${JSON.stringify(value)}: it contains a control character`,
      {
        hint: 'name and version may hold letters, digits and . _ ~ + -',
      },
    );
  }
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

export function osRelease(identity: OsIdentity): string {
  // VARIANT_ID is unquoted, as os-release(5) writes IDs: lower case, digits, . _ - only.
  if (!/^[a-z0-9._-]+$/.test(identity.name)) {
    throw new HookError('E_SPEC', `Refusing os-release VARIANT_ID ${JSON.stringify(identity.name)}`, {
      hint: 'name may hold lower-case letters, digits and . _ -',
    });
  }
  return [
    'NAME="HookOS"',
    `PRETTY_NAME=${osReleaseValue(`HookOS ${identity.version} (${identity.name})`)}`,
    'ID=hookos',
    'ID_LIKE=debian',
    `VERSION=${osReleaseValue(identity.version)}`,
    `VERSION_ID=${osReleaseValue(identity.version)}`,
    `VARIANT_ID=${identity.name}`,
    'HOME_URL="https://tinkerbell.org/"',
    '',
  ].join('\n');
}

/** Console autologin: the getty starts a root shell directly (no login, so no PAM is needed). */
function gettyDropIn(baudArgs: string): string {
  return [
    '[Service]',
    'ExecStart=',
    `ExecStart=-/sbin/agetty --noclear --skip-login --login-program /bin/bash --login-options "-l" ${baudArgs}`,
    '',
  ].join('\n');
}

const FILES: Record<string, string> = {
  'etc/machine-id': '',
  'etc/hostname': '',
  'etc/fstab': '# HookOS runs from RAM: nothing to mount\n',
  'etc/systemd/system/serial-getty@.service.d/autologin.conf': gettyDropIn(
    '--keep-baud 115200,57600,38400,9600 - $TERM',
  ),
  'etc/systemd/system/getty@.service.d/autologin.conf': gettyDropIn('- $TERM'),
  'etc/systemd/journald.conf.d/hookos.conf':
    '[Journal]\nStorage=volatile\nRuntimeMaxUse=64M\nForwardToConsole=no\n',
  'etc/profile':
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\nexport SYSTEMD_PAGER=cat PAGER=cat\nfor f in /etc/profile.d/*.sh; do [ -r "$f" ] && . "$f"; done\n',
  'etc/issue': 'HookOS \\r (\\l) — Tinkerbell provisioning environment\n\n',
  // Hostname from DHCP or static ipam; otherwise derived from the first Ethernet MAC.
  'usr/lib/systemd/system/hook-hostname.service': [
    '[Unit]',
    'Description=HookOS: hostname from the MAC address when nothing else names the machine',
    'After=network-online.target',
    'Before=hook-bootkit.service',
    '',
    '[Service]',
    'Type=oneshot',
    'ExecStart=/bin/sh -c \'h=$(cat /proc/sys/kernel/hostname); case "$h" in ""|localhost|"(none)") for d in /sys/class/net/*; do [ "$(cat $d/type 2>/dev/null)" = 1 ] && [ -e $d/device ] || continue; m=$(tr -d : < $d/address); echo "hook-$m" > /proc/sys/kernel/hostname; break; done;; esac\'',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n'),
  'etc/profile.d/hookos.sh':
    'export PS1="hookos:\\w# "\n[ -n "$HOOK_MOTD_SHOWN" ] || { export HOOK_MOTD_SHOWN=1; cat /etc/motd 2>/dev/null; }\n',
  'etc/motd':
    'HookOS: Tinkerbell provisioning OS. Logs: journalctl -u hook-bootkit, docker logs tink-worker\n',
};

export function addOsFiles(tree: Tree, identity: OsIdentity): void {
  tree.set(imagePath('usr/lib/os-release'), fileNode(osRelease(identity)));
  tree.set(imagePath('etc/os-release'), symlinkNode('../usr/lib/os-release'));
  for (const [path, text] of Object.entries(FILES)) tree.set(imagePath(path), fileNode(text));
  tree.set(imagePath('etc/resolv.conf'), symlinkNode('../run/systemd/resolve/stub-resolv.conf'));
  // systemd mounts devtmpfs on /dev itself; these nodes are there for anything before it.
  tree.mkdirp(imagePath('dev'));
  tree.set(imagePath('dev/console'), { kind: 'char', mode: 0o600, uid: 0, gid: 0, major: 5, minor: 1 });
  tree.set(imagePath('dev/null'), { kind: 'char', mode: 0o666, uid: 0, gid: 0, major: 1, minor: 3 });
  for (const dir of ['proc', 'sys', 'run', 'var/lib/docker', 'worker', 'var/log'])
    tree.mkdirp(imagePath(dir));
  // Debian creates these in maintainer scripts; Docker clients look for /var/run/docker.sock.
  tree.set(imagePath('var/run'), symlinkNode('/run'));
  tree.set(imagePath('var/lock'), symlinkNode('/run/lock'));
  tree.set(imagePath('tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  tree.set(imagePath('var/tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  if (!tree.has(tree.resolveParents(imagePath('usr/bin/sh'))))
    tree.set(imagePath('usr/bin/sh'), symlinkNode('dash'));
}

/** What update-ca-certificates would generate: the bundle TLS clients (Docker pulls) read. */
export function addCaBundle(tree: Tree): number {
  const prefix = 'usr/share/ca-certificates/';
  const parts: Uint8Array[] = [];
  for (const [path, node] of tree.entries()) {
    if (node.kind === 'file' && path.startsWith(prefix) && path.endsWith('.crt'))
      parts.push(node.content.data);
  }
  if (parts.length === 0) return 0;
  const bundle = Buffer.concat(
    parts.map((p) => (p.at(-1) === 0x0a ? p : Buffer.concat([p, Buffer.from('\n')]))),
  );
  tree.set(imagePath('etc/ssl/certs/ca-certificates.crt'), fileNode(bundle));
  return parts.length;
}
