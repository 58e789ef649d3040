/**
 * Everything HookOS adds to the Debian packages, in one place: the bundled programs, the early
 * boot's /init, small scripts, systemd units and drop-ins, the units to enable, static files
 * (osie/files, copied as they are), and the Debian packages all of these cannot run without.
 * The builder places them (src/pipeline/osie.ts); nothing in this file runs inside the OS.
 */

/**
 * How every service is started: Debian's QuickJS with the bundle as an ES module. qjs 2025-04-26
 * calls a promise rejection unhandled as soon as it happens, before an `await` or `.catch` in
 * the same turn can handle it, and then exits; `--no-unhandled-rejection` turns that check off
 * (every service handles its failures in runMain, osie/lib/args.ts).
 */
export const QJS = '/usr/bin/qjs';
export const QJS_FLAGS: readonly string[] = ['--no-unhandled-rejection', '-m'];

/** Programs bundled by esbuild: image path → entry point (relative to the repository root). */
export const OSIE_BUNDLES: ReadonlyMap<string, string> = new Map([
  ['usr/lib/hook/hook-bootkit.js', 'osie/bootkit/main.ts'],
  ['usr/lib/hook/hook-docker.js', 'osie/docker/main.ts'],
  ['usr/lib/hook/hook-network.js', 'osie/network/main.ts'],
  ['usr/lib/hook/hook-syslog.js', 'osie/syslog/main.ts'],
  // The live status above the console prompts (osie/status/consoles.ts says how).
  ['usr/lib/hook/hook-status.js', 'osie/status/main.ts'],
  // The `docker` command at the console (ps, logs, inspect, ...), in place of Debian's docker-cli.
  ['usr/bin/docker', 'osie/docker-cli/main.ts'],
]);

/** The early boot's /init (a busybox shell script), relative to osie/. */
export const OSIE_EARLY_INIT = 'early/init.sh';

/** Small shell scripts: OS path → file under osie/scripts/ (installed executable). */
export const OSIE_SCRIPTS: ReadonlyMap<string, string> = new Map([
  // Names the machine hook-<mac> when neither DHCP nor ipam= did (hook-hostname.service).
  ['usr/lib/hook/hook-hostname', 'hook-hostname.sh'],
]);

/**
 * Static files copied into the OS as they are (mode 0644): osie/files/<path> → /<path>. The
 * console autologin, journald in RAM, the shell profile and banner, an empty machine-id (so
 * systemd makes one at boot) and hostname (so DHCP or ipam= names the machine).
 */
export const OSIE_FILES_DIR = 'files';

const SYSTEM_UNITS = 'usr/lib/systemd/system';

/** Unit files and drop-ins: image path → file under osie/units/. */
export const OSIE_UNIT_FILES: ReadonlyMap<string, string> = new Map(
  [
    'hook-bootkit.service',
    'hook-docker.service',
    'hook-hostname.service',
    'hook-network.service',
    'hook-reboot.path',
    'hook-reboot.service',
    'hook-status.service',
    'hook-syslog.service',
    'docker.service.d/10-hook.conf',
    'systemd-networkd-wait-online.service.d/10-hook.conf',
    'systemd-time-wait-sync.service.d/10-hook.conf',
  ].map((file) => [`${SYSTEM_UNITS}/${file}`, file]),
);

/**
 * Units to enable from their [Install] sections:
 * hook-bootkit.service → multi-user.target.wants, hook-network.service →
 * systemd-networkd.service.wants, hook-reboot.path → multi-user.target.wants.
 * hook-docker.service needs no enabling: docker.service's drop-in wants it. docker.service,
 * systemd-networkd.service and systemd-timesyncd.service are the packages' own units and must
 * be enabled by the image as usual.
 */
export const OSIE_ENABLED_UNITS: readonly string[] = [
  'hook-bootkit.service',
  'hook-hostname.service',
  'hook-network.service',
  'hook-reboot.path',
  'hook-status.service',
  'hook-syslog.service',
  // A login on the first virtual console (console=tty0); serial consoles get theirs from
  // systemd-getty-generator, one per console= entry.
  'getty@.service',
];

/** A Debian package the OS cannot do without, and who needs it for what. */
export interface RequiredPackage {
  name: string;
  /** The OS part that breaks without it. */
  neededBy: string;
  why: string;
}

/**
 * The Debian packages the early boot and the services need, whatever else a spec selects. A spec
 * that leaves one out builds an OS that cannot work, so the builder refuses it.
 */
export const OSIE_REQUIRED_PACKAGES: readonly RequiredPackage[] = [
  {
    name: 'busybox-static',
    neededBy: '/init (early boot)',
    why: 'the shell and cpio that unpack the OS into its tmpfs',
  },
  { name: 'zstd', neededBy: '/init (early boot)', why: 'decompresses the OS payloads' },
  { name: 'systemd', neededBy: 'every service', why: 'init, journald, networkd, the units in osie/units' },
  { name: 'systemd-sysv', neededBy: '/init (early boot)', why: '/sbin/init, which /init switches to' },
  {
    name: 'udev',
    neededBy: 'hook-network',
    why: 'NIC names and /run/udev/data, which hook-network waits for',
  },
  {
    name: 'quickjs',
    neededBy: 'hook-bootkit, hook-docker, hook-network, hook-syslog, docker',
    why: '/usr/bin/qjs runs them all',
  },
  {
    name: 'socat',
    neededBy: 'hook-bootkit, docker',
    why: 'HTTP to the Docker API socket (qjs has no sockets)',
  },
  {
    name: 'bash',
    neededBy: 'hook-syslog',
    why: 'opens the UDP socket to syslog_host (/dev/udp), which qjs cannot',
  },
  {
    name: 'docker.io',
    neededBy: 'hook-bootkit, hook-docker',
    why: 'the engine that runs tink-worker and the actions',
  },
  {
    name: 'iproute2',
    neededBy: 'hook-status',
    why: '`ip -j address show`: the interfaces and addresses on the console',
  },
  {
    name: 'util-linux',
    neededBy: 'docker (its help)',
    why: 'nsenter, the way into a container (no docker exec)',
  },
  {
    name: 'coreutils',
    neededBy: 'systemd-time-wait-sync.service.d',
    why: 'timeout(1) caps the wait for NTP',
  },
];
