/**
 * Entry point of hook-network (bundled to /usr/lib/hook/hook-network.js, run by the oneshot
 * hook-network.service before systemd-networkd starts): writes networkd files for the network
 * the kernel command line asks for. networkd reads /run/systemd/network when it starts, so no
 * reload is needed.
 */
import { access, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { credentialValues } from '../lib/redact.ts';
import { hookSettings } from '../lib/settings.ts';
import { warningReporter } from '../lib/warnings.ts';
import { decideNetwork, LINK_WAIT_MS, type LinkInfo } from './networkd.ts';

const NETWORK_DIR = 'run/systemd/network';
const OUR_FILES = /^\d\d-hook-.*\.(network|netdev)$/;

const USAGE = `Usage: hook-network [--cmdline FILE] [--root DIR] [--dry-run]
Writes systemd-networkd files to /${NETWORK_DIR} from the kernel command line
(DHCP on every Ethernet port by default; interface=, vlan_id=+hw_addr=, ipam=; ip= is left
to systemd-network-generator). --dry-run prints the files instead of writing them.
When a setting names a NIC by MAC, waits up to ${LINK_WAIT_MS / 1000} s for it to appear (not with --dry-run).`;

runMain('hook-network', async (args, log) => {
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const cmdlineText = await readFile(optionValue(args, '--cmdline') ?? '/proc/cmdline', 'latin1');
  const cmdline = parseCmdline(cmdlineText);
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  // On a running machine (where --dry-run is for inspection) the links have long settled.
  const plan = await decideNetwork(settings, listLinks, {
    timeoutMs: args.includes('--dry-run') ? 0 : LINK_WAIT_MS,
  });
  const report = warningReporter(log, 'hook-network');
  for (const warning of plan.warnings) report(warning);
  if (args.includes('--dry-run')) {
    for (const [name, text] of plan.files) process.stdout.write(`# /${NETWORK_DIR}/${name}\n${text}`);
    if (plan.hostname !== undefined) process.stdout.write(`# hostname ${plan.hostname}\n`);
    return;
  }
  const root = optionValue(args, '--root') ?? '/';
  const dir = join(root, NETWORK_DIR);
  await mkdir(dir, { recursive: true });
  // A re-run replaces what an earlier run wrote.
  for (const name of await readdir(dir)) if (OUR_FILES.test(name)) await rm(join(dir, name));
  for (const [name, text] of plan.files) await writeFile(join(dir, name), text, { mode: 0o644 });
  if (plan.hostname !== undefined) await setHostname(root, plan.hostname);
  if (settings.hasDracutIp)
    log.info('ip= is on the command line: systemd-network-generator configures the network');
  log.info('wrote the network configuration', {
    files: [...plan.files.keys()].join(','),
    hostname: plan.hostname,
    waited_ms: plan.waitedMs,
  });
});

/**
 * Interfaces present now. A link counts as initialized once udev has written its database entry
 * (/run/udev/data/n<ifindex>), which happens after udev's rename, so its name is final; without
 * a running udev (no /run/udev/data) names never change and every link counts as initialized.
 */
async function listLinks(): Promise<LinkInfo[]> {
  const links: LinkInfo[] = [];
  let names: string[] = [];
  try {
    names = await readdir('/sys/class/net');
  } catch {
    return links;
  }
  const udevRunning = await exists('/run/udev/data');
  for (const name of names) {
    if (name === 'lo') continue;
    try {
      const mac = (await readFile(`/sys/class/net/${name}/address`, 'utf8')).trim();
      const ifindex = (await readFile(`/sys/class/net/${name}/ifindex`, 'utf8')).trim();
      const initialized = !udevRunning || (await exists(`/run/udev/data/n${ifindex}`));
      links.push({ name, mac, initialized });
    } catch {
      // The link vanished (or was renamed) meanwhile; the next poll sees it again.
    }
  }
  return links;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The kernel hostname directly (no D-Bus this early), and /etc/hostname for later readers. */
async function setHostname(root: string, hostname: string): Promise<void> {
  if (root === '/') await writeFile('/proc/sys/kernel/hostname', hostname);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/hostname'), `${hostname}\n`);
}
