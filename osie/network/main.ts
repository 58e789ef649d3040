/**
 * Entry point of hook-network (bundled to /usr/lib/hook/hook-network.js, run by qjs from the
 * oneshot hook-network.service before systemd-networkd starts): writes networkd files for the network
 * the kernel command line asks for. networkd reads /run/systemd/network when it starts, so no
 * reload is needed.
 */
import { optionValue, runMain } from '../lib/args.ts';
import { parseCmdline } from '../lib/cmdline.ts';
import { latin1Decode } from '../lib/platform/bytes.ts';
import {
  exists,
  joinPath,
  mkdirp,
  readBytes,
  readdir,
  readText,
  remove,
  writeFile,
} from '../lib/platform/fs.ts';
import { writeStdout } from '../lib/platform/process.ts';
import { sleep } from '../lib/platform/timers.ts';
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
    writeStdout(`${USAGE}\n`);
    return;
  }
  const cmdlineText = latin1Decode(readBytes(optionValue(args, '--cmdline') ?? '/proc/cmdline'));
  const cmdline = parseCmdline(cmdlineText);
  for (const secret of credentialValues(cmdlineText)) log.addSecret(secret);
  const settings = hookSettings(cmdline);
  // On a running machine (where --dry-run is for inspection) the links have long settled.
  const plan = await decideNetwork(settings, listLinks, {
    timeoutMs: args.includes('--dry-run') ? 0 : LINK_WAIT_MS,
    sleep,
  });
  const report = warningReporter(log, 'hook-network');
  for (const warning of plan.warnings) report(warning);
  if (args.includes('--dry-run')) {
    for (const [name, text] of plan.files) writeStdout(`# /${NETWORK_DIR}/${name}\n${text}`);
    if (plan.hostname !== undefined) writeStdout(`# hostname ${plan.hostname}\n`);
    return;
  }
  const root = optionValue(args, '--root') ?? '/';
  const dir = joinPath(root, NETWORK_DIR);
  mkdirp(dir);
  // A re-run replaces what an earlier run wrote.
  for (const name of readdir(dir)) if (OUR_FILES.test(name)) remove(joinPath(dir, name));
  for (const [name, text] of plan.files) writeFile(joinPath(dir, name), text, 0o644);
  if (plan.hostname !== undefined) setHostname(root, plan.hostname);
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
    names = readdir('/sys/class/net');
  } catch {
    return links;
  }
  const udevRunning = exists('/run/udev/data');
  for (const name of names) {
    if (name === 'lo') continue;
    try {
      const mac = readText(`/sys/class/net/${name}/address`).trim();
      const ifindex = readText(`/sys/class/net/${name}/ifindex`).trim();
      const initialized = !udevRunning || exists(`/run/udev/data/n${ifindex}`);
      links.push({ name, mac, initialized });
    } catch {
      // The link vanished (or was renamed) meanwhile; the next poll sees it again.
    }
  }
  return links;
}

/** The kernel hostname directly (no D-Bus this early), and /etc/hostname for later readers. */
function setHostname(root: string, hostname: string): void {
  if (root === '/') writeFile('/proc/sys/kernel/hostname', hostname);
  mkdirp(joinPath(root, 'etc'));
  writeFile(joinPath(root, 'etc/hostname'), `${hostname}\n`);
}
