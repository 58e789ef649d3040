/**
 * A private apt installation (its own Dir, empty dpkg status, generated sources.list) used as
 * an oracle for the resolver: `apt-get install --simulate` says what apt would install, and
 * the Packages files apt downloaded are the same input our resolver gets.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parsePackagesIndex } from '../../src/debian/packages-index.ts';
import type { BinaryPackage } from '../../src/debian/types.ts';

const run = promisify(execFile);

export const SIM_SUITES = ['trixie', 'trixie-updates', 'trixie-security'] as const;
export const SIM_COMPONENTS = ['main', 'non-free-firmware'] as const;
const HOST_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface HostMirrors {
  /** Base URL of the main archive, no trailing slash. */
  mirror: string;
  /** Base URL of the security archive, no trailing slash. */
  securityMirror: string;
}

/** Reads the Debian mirror URLs from the host's apt sources (deb822 `.sources` and one-line `.list`). */
export async function hostDebianMirrors(): Promise<HostMirrors> {
  const files: string[] = ['/etc/apt/sources.list'];
  for (const name of await readdir('/etc/apt/sources.list.d').catch(() => [] as string[])) {
    files.push(join('/etc/apt/sources.list.d', name));
  }
  const uris: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const match of text.matchAll(/^URIs:\s*(.+)$/gim)) uris.push(...(match[1] ?? '').split(/\s+/));
    for (const match of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) uris.push(match[1] ?? '');
  }
  const clean = uris.map((u) => u.replace(/\/+$/, '')).filter((u) => /^https?:\/\//.test(u));
  const mirror = clean.find((u) => u.endsWith('/debian'));
  const securityMirror = clean.find((u) => u.endsWith('/debian-security'));
  if (!mirror || !securityMirror) {
    throw new Error(
      `host apt sources name no Debian mirror (/debian and /debian-security): ${clean.join(', ')}`,
    );
  }
  return { mirror, securityMirror };
}

function cacheRoot(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'hook');
}

export interface PackagesFile {
  path: string;
  suite: string;
  component: string;
}

export class AptSim {
  constructor(
    readonly root: string,
    readonly arch: 'amd64' | 'arm64',
    readonly mirrors: HostMirrors,
  ) {}

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, APT_CONFIG: join(this.root, 'apt.conf'), LC_ALL: 'C.UTF-8' };
  }

  /** Runs `apt-get update` into the private lists directory (conditional requests: cheap when fresh). */
  async update(): Promise<void> {
    await run('apt-get', ['-q', 'update'], { env: this.env, maxBuffer: 64 << 20 });
  }

  /** `apt-get install --simulate --no-install-recommends`; returns name → version of every `Inst` line. */
  async simulateInstall(requests: string[]): Promise<Map<string, string>> {
    const { stdout } = await run(
      'apt-get',
      ['-q', 'install', '--simulate', '--no-install-recommends', '-o', 'Debug::NoLocking=1', ...requests],
      { env: this.env, maxBuffer: 64 << 20 },
    );
    const installs = new Map<string, string>();
    for (const match of stdout.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) /gm)) {
      installs.set((match[1] ?? '').replace(/:(amd64|arm64|all)$/, ''), match[2] ?? '');
    }
    return installs;
  }

  /** The uncompressed Packages files apt downloaded, with the suite and component they belong to. */
  async packagesFiles(): Promise<PackagesFile[]> {
    const lists = join(this.root, 'state', 'lists');
    const files: PackagesFile[] = [];
    for (const name of (await readdir(lists)).sort()) {
      const match = /_dists_([^_]+)_([^_]+)_binary-([^_]+)_Packages$/.exec(name);
      if (!match || match[3] !== this.arch) continue;
      files.push({ path: join(lists, name), suite: match[1] ?? '', component: match[2] ?? '' });
    }
    return files;
  }

  /** Our index built from the very files apt uses. */
  async index(): Promise<BinaryPackage[]> {
    const all: BinaryPackage[] = [];
    for (const file of await this.packagesFiles()) {
      const mirror = file.suite.endsWith('-security') ? this.mirrors.securityMirror : this.mirrors.mirror;
      const text = await readFile(file.path, 'utf8');
      const packages = parsePackagesIndex(
        text,
        { suite: file.suite, component: file.component, mirror },
        file.path,
      );
      for (const pkg of packages) all.push(pkg);
    }
    return all;
  }
}

/** Creates (or reuses, under the shared download cache) a private apt setup for `arch` and updates it. */
export async function createAptSim(arch: 'amd64' | 'arm64'): Promise<AptSim> {
  const mirrors = await hostDebianMirrors();
  const root = join(cacheRoot(), 'apt-sim', arch);
  for (const dir of [
    'etc/sources.list.d',
    'etc/preferences.d',
    'etc/apt.conf.d',
    'state/lists/partial',
    'cache/archives/partial',
    'log',
  ]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await writeFile(join(root, 'state', 'status'), '');
  const sources = SIM_SUITES.map((suite) => {
    const url = suite.endsWith('-security') ? mirrors.securityMirror : mirrors.mirror;
    return `deb [signed-by=${HOST_KEYRING}] ${url} ${suite} ${SIM_COMPONENTS.join(' ')}\n`;
  }).join('');
  await writeFile(join(root, 'etc', 'sources.list'), sources);
  const conf = [
    `Dir "${root}/";`,
    `Dir::State "${root}/state/";`,
    `Dir::State::status "${root}/state/status";`,
    `Dir::State::lists "${root}/state/lists/";`,
    `Dir::State::extended_states "${root}/state/extended_states";`,
    `Dir::Cache "${root}/cache/";`,
    `Dir::Etc "${root}/etc/";`,
    `Dir::Etc::sourcelist "${root}/etc/sources.list";`,
    `Dir::Etc::sourceparts "${root}/etc/sources.list.d/";`,
    `Dir::Etc::preferences "${root}/etc/preferences";`,
    `Dir::Etc::preferencesparts "${root}/etc/preferences.d/";`,
    `Dir::Etc::parts "${root}/etc/apt.conf.d/";`,
    `Dir::Etc::trusted "${HOST_KEYRING}";`,
    `Dir::Etc::trustedparts "${root}/etc/trusted.gpg.d/";`,
    `Dir::Log "${root}/log/";`,
    `APT::Architecture "${arch}";`,
    `APT::Architectures { "${arch}"; };`,
    // The private root may live in a directory the _apt user cannot write.
    'APT::Sandbox::User "root";',
    'Acquire::Languages "none";',
    'Acquire::GzipIndexes "false";',
    'APT::Install-Recommends "false";',
    '',
  ].join('\n');
  await writeFile(join(root, 'apt.conf'), conf);
  await mkdir(join(root, 'etc', 'trusted.gpg.d'), { recursive: true });
  const sim = new AptSim(root, arch, mirrors);
  await sim.update();
  return sim;
}
