/**
 * What the OS services add to the image: the bundled programs, their systemd units and drop-ins,
 * and the units to enable. The image builder places these (src/image/osie-bundle.ts bundles and
 * reads them); nothing here runs inside the OS.
 */

/** Programs bundled by esbuild: image path → entry point (relative to the repository root). */
export const OSIE_BUNDLES: ReadonlyMap<string, string> = new Map([
  ['usr/lib/hook/hook-bootkit.js', 'osie/bootkit/main.ts'],
  ['usr/lib/hook/hook-docker.js', 'osie/docker/main.ts'],
  ['usr/lib/hook/hook-network.js', 'osie/network/main.ts'],
  ['usr/lib/hook/hook-syslog.js', 'osie/syslog/main.ts'],
]);

/** The early boot's /init (a busybox shell script), relative to osie/. */
export const OSIE_EARLY_INIT = 'early/init.sh';

const SYSTEM_UNITS = 'usr/lib/systemd/system';

/** Unit files and drop-ins: image path → file under osie/units/. */
export const OSIE_UNIT_FILES: ReadonlyMap<string, string> = new Map(
  [
    'hook-bootkit.service',
    'hook-docker.service',
    'hook-network.service',
    'hook-reboot.path',
    'hook-reboot.service',
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
  'hook-network.service',
  'hook-reboot.path',
  'hook-syslog.service',
];
