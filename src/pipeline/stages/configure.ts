/**
 * The configure stage, and the files it generates: identity (os-release), the links and
 * directories maintainer scripts would have made, device nodes, the CA bundle. Static files
 * and services come from osie/ (osie/manifest.ts).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { OSIE_ENABLED_UNITS } from '../../../osie/manifest.ts';
import type { Arch } from '../../arch.ts';
import { HookError, isHookError } from '../../errors.ts';
import { dedupeFiles } from '../../rootfs/dedupe.ts';
import { addRegistries, pemCertificates, type RegistryTrust } from '../../rootfs/registries.ts';
import { enableUnit, maskUnit, setDefaultTarget } from '../../rootfs/systemd-units.ts';
import { resolveOwner, writeUsersAndGroups } from '../../rootfs/users.ts';
import { checkUnits } from '../../specfile/checks.ts';
import { isInside, type LoadedSpec, specError } from '../../specfile/load.ts';
import { fileNode, symlinkNode, type Tree, type TreeNode, treePath } from '../../tree/tree.ts';
import { formatSize } from '../../util/size.ts';
import type { BuildContext } from '../context.ts';
import { osieFiles } from '../osie.ts';
import type { InstalledTree } from './install.ts';

export interface OsIdentity {
  name: string;
  version: string;
  arch: Arch;
  /** A `hook build --debug` OS: os-release says so (VARIANT="debug"), for people and the console banner. */
  debug?: boolean;
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
    `PRETTY_NAME=${osReleaseValue(`HookOS ${identity.version} (${identity.name}${identity.debug ? ', debug build' : ''})`)}`,
    'ID=hookos',
    'ID_LIKE=debian',
    `VERSION=${osReleaseValue(identity.version)}`,
    `VERSION_ID=${osReleaseValue(identity.version)}`,
    ...(identity.debug ? ['VARIANT="debug"'] : []),
    `VARIANT_ID=${identity.name}`,
    'HOME_URL="https://tinkerbell.org/"',
    '',
  ].join('\n');
}

export function addOsFiles(tree: Tree, identity: OsIdentity): void {
  tree.set(treePath('usr/lib/os-release'), fileNode(osRelease(identity)));
  tree.set(treePath('etc/os-release'), symlinkNode('../usr/lib/os-release'));
  tree.set(treePath('etc/resolv.conf'), symlinkNode('../run/systemd/resolve/stub-resolv.conf'));
  // systemd mounts devtmpfs on /dev itself; these nodes are there for anything before it.
  tree.mkdirp(treePath('dev'));
  tree.set(treePath('dev/console'), { kind: 'char', mode: 0o600, uid: 0, gid: 0, major: 5, minor: 1 });
  tree.set(treePath('dev/null'), { kind: 'char', mode: 0o666, uid: 0, gid: 0, major: 1, minor: 3 });
  for (const dir of ['proc', 'sys', 'run', 'var/lib/docker', 'worker', 'var/log']) tree.mkdirp(treePath(dir));
  // Debian creates these in maintainer scripts; Docker clients look for /var/run/docker.sock.
  tree.set(treePath('var/run'), symlinkNode('/run'));
  tree.set(treePath('var/lock'), symlinkNode('/run/lock'));
  tree.set(treePath('tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  tree.set(treePath('var/tmp'), { kind: 'dir', mode: 0o1777, uid: 0, gid: 0 });
  if (!tree.has(tree.resolveParents(treePath('usr/bin/sh'))))
    tree.set(treePath('usr/bin/sh'), symlinkNode('dash'));
  for (const [path, text] of NETBASE_FILES)
    if (!tree.has(treePath(path))) tree.set(treePath(path), fileNode(text));
}

/**
 * What netbase's postinst writes on a new system (the build runs no script): localhost in
 * /etc/hosts matters for host-network containers such as tink-worker, whose resolver reads it
 * before asking the DNS servers Docker gives them (which need not answer for "localhost").
 */
const NETBASE_FILES: ReadonlyArray<[string, string]> = [
  [
    'etc/hosts',
    '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n',
  ],
  ['etc/networks', 'default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n\n'],
];

/**
 * Busybox applets (busybox-static is in the OS for the early boot) linked into /usr/bin where
 * no Debian package provides the tool: what a person debugging a machine reaches for. Each is
 * a symlink (0 bytes); Debian's own ss, lsblk, dmesg, journalctl, less, ps, top, ip, ping are
 * there already and win, as does any file or link the spec puts at the same path.
 */
export const BUSYBOX_APPLETS: readonly string[] = [
  'awk',
  'vi',
  'diff',
  'cmp',
  'patch',
  'hexdump',
  'xxd',
  'strings',
  'nc',
  'wget',
  'nslookup',
  'traceroute',
  'traceroute6',
  'telnet',
  'arping',
  'killall',
  'unzip',
  'bc',
];

/** Links the applets of BUSYBOX_APPLETS that no package or spec entry provides; returns their names. */
export function addBusyboxApplets(tree: Tree): string[] {
  if (tree.get(tree.resolveParents(treePath('usr/bin/busybox')))?.kind !== 'file') return [];
  const added: string[] = [];
  for (const applet of BUSYBOX_APPLETS) {
    const taken = ['usr/bin', 'usr/sbin'].some((dir) =>
      tree.has(tree.resolveParents(treePath(`${dir}/${applet}`))),
    );
    if (taken) continue;
    tree.set(treePath(`usr/bin/${applet}`), symlinkNode('busybox'));
    added.push(applet);
  }
  return added;
}

/**
 * What update-ca-certificates would generate: the bundle TLS clients (Docker pulls) read, from
 * the ca-certificates package's files, then `extra` (the spec's registry CAs, PEM).
 */
export function addCaBundle(tree: Tree, extra: readonly string[] = []): number {
  const prefix = 'usr/share/ca-certificates/';
  const parts: Uint8Array[] = [];
  for (const [path, node] of tree.entries()) {
    if (node.kind === 'file' && path.startsWith(prefix) && path.endsWith('.crt'))
      parts.push(node.content.data);
  }
  for (const pem of extra) parts.push(new TextEncoder().encode(pem));
  if (parts.length === 0) return 0;
  const bundle = Buffer.concat(
    parts.map((p) => (p.at(-1) === 0x0a ? p : Buffer.concat([p, Buffer.from('\n')]))),
  );
  tree.set(treePath('etc/ssl/certs/ca-certificates.crt'), fileNode(bundle));
  return parts.length;
}

/**
 * The configure stage: what makes the installed packages an OS that boots from RAM — its
 * identity and console files, the Hook services (osie/), the spec's users, files, links and
 * units, the CA bundle; then identical files become hard links.
 */
export async function configureStage(ctx: BuildContext, rootfs: InstalledTree): Promise<void> {
  const { spec, arch, loaded, reporter } = ctx;
  const { tree } = rootfs;
  const done = reporter.stage('configure');
  addOsFiles(tree, { name: spec.name, version: spec.version, arch, debug: ctx.debug !== undefined });
  for (const [path, file] of await osieFiles()) tree.set(treePath(path), fileNode(file.data, file.mode));
  for (const unit of OSIE_ENABLED_UNITS) enableUnit(tree, unit);
  await applySpec(tree, loaded);
  setDefaultTarget(tree, 'multi-user.target');
  const caCerts = addCaBundle(tree, await applyRegistries(tree, loaded));
  const applets = addBusyboxApplets(tree);
  const dedupe = dedupeFiles(tree);
  done(
    `${caCerts} CA certificates, ${applets.length} busybox applets, ${dedupe.linkedFiles} duplicate files linked (${formatSize(dedupe.savedBytes)} saved)`,
  );
}

/**
 * Everything the spec declares beyond packages: users, groups, symlinks, files, units. A
 * file or link never replaces a directory (with everything in it), sources are read again
 * only from where the loader allowed, and unknown units are reported together, with near
 * matches.
 */
export async function applySpec(tree: Tree, loaded: LoadedSpec): Promise<void> {
  const { spec } = loaded;
  writeUsersAndGroups(tree, spec.users, spec.groups);
  const place = (at: (string | number)[], path: string, node: TreeNode) => {
    try {
      const target = tree.resolveParents(treePath(path));
      if (tree.get(target)?.kind === 'dir') {
        throw specError(
          loaded,
          at,
          `/${target} is a directory in the image: a ${node.kind} there would replace it and everything in it`,
          'Give the path of a file inside it',
        );
      }
      tree.set(target, node);
    } catch (error) {
      if (isHookError(error) && error.code !== 'E_SPEC')
        throw specError(loaded, at, error.message, error.hint);
      throw error;
    }
  };
  for (const [i, link] of spec.symlinks.entries())
    place(['symlinks', i, 'path'], link.path, symlinkNode(link.target));
  for (const [i, file] of spec.files.entries()) {
    const data =
      file.source !== undefined
        ? await readSource(loaded, ['files', i, 'source'], file.source)
        : new TextEncoder().encode(file.content ?? '');
    const ids = resolveOwner(file.owner, spec.users, spec.groups);
    if (!ids) throw specError(loaded, ['files', i, 'owner'], `unknown user or group in "${file.owner}"`);
    const [uid, gid] = ids;
    place(['files', i, 'path'], file.path, fileNode(data, file.mode, uid, gid));
  }
  checkUnits(loaded, tree);
  for (const [i, unit] of spec.systemd.enable.entries()) {
    try {
      enableUnit(tree, unit);
    } catch (error) {
      if (isHookError(error)) throw specError(loaded, ['systemd', 'enable', i], error.message, error.hint);
      throw error;
    }
  }
  for (const unit of spec.systemd.mask) maskUnit(tree, unit);
}

/**
 * The spec's `registries:`: each CA file read (confined like a `files[].source`) and checked,
 * written where Docker looks for it; returns the certificates for the system bundle.
 */
async function applyRegistries(tree: Tree, loaded: LoadedSpec): Promise<string[]> {
  const registries: RegistryTrust[] = [];
  for (const [i, registry] of loaded.spec.registries.entries()) {
    let certificates: string[] = [];
    if (registry.ca !== undefined) {
      const at = ['registries', i, 'ca'];
      const data = await readSource(loaded, at, registry.ca);
      try {
        certificates = pemCertificates(data, registry.ca);
      } catch (error) {
        if (isHookError(error)) throw specError(loaded, at, error.message, error.hint);
        throw error;
      }
    }
    registries.push({ host: registry.host, certificates, insecure: registry.insecure });
  }
  return addRegistries(tree, registries);
}

/**
 * A `files[].source`, checked again as it is read: the loader confined it to the spec's
 * folder, and a link swapped in since must not lead elsewhere.
 */
async function readSource(loaded: LoadedSpec, at: (string | number)[], source: string): Promise<Uint8Array> {
  let real: string;
  try {
    real = await realpath(source);
  } catch {
    throw specError(loaded, at, `cannot read ${source}: it does not exist`);
  }
  // The folder of the spec that names the source (a base spec's sources are relative to it).
  const dir = loaded.dirOf(at);
  if (!loaded.allowOutsideSources && !isInside(real, await realpath(dir).catch(() => dir))) {
    throw specError(
      loaded,
      at,
      `source ${source} is outside the spec's folder ${dir} (it resolves to ${real})`,
      "Copy the file into the spec's folder, or run hook build with --allow-outside-sources",
    );
  }
  const info = await stat(real);
  if (!info.isFile()) throw specError(loaded, at, `source ${source} is not a regular file`);
  return readFile(real).catch((error: NodeJS.ErrnoException) => {
    throw specError(loaded, at, `cannot read ${source}: ${error.code ?? error.message}`);
  });
}
