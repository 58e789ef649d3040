/**
 * Where the Debian archive is: explicit settings, environment, or the host's apt sources
 * (one-line `sources.list` and deb822 `*.sources` files). Only Debian's own archives are
 * taken from apt; third-party repositories listed beside them are ignored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HookError } from '../errors.ts';
import { parseDeb822 } from './deb822.ts';
import type { ArchiveSettings } from './types.ts';

export const DEFAULT_SUITES = ['trixie', 'trixie-updates', 'trixie-security'];
export const DEFAULT_COMPONENTS = ['main', 'non-free-firmware'];

export interface DiscoveredMirrors {
  mirror?: string;
  securityMirror?: string;
}

/** One `deb` entry, whichever file format it came from. */
export interface SourceEntry {
  uri: string;
  suite: string;
  components: string[];
}

const CODENAMES = new Set([
  'buzz',
  'rex',
  'bo',
  'hamm',
  'slink',
  'potato',
  'woody',
  'sarge',
  'etch',
  'lenny',
  'squeeze',
  'wheezy',
  'jessie',
  'stretch',
  'buster',
  'bullseye',
  'bookworm',
  'trixie',
  'forky',
  'duke',
  'sid',
  'stable',
  'testing',
  'unstable',
  'oldstable',
  'oldoldstable',
  'experimental',
  'rc-buggy',
]);
const SUITE_SUFFIXES = ['-updates', '-security', '-backports', '-backports-sloppy', '-proposed-updates'];
const DEBIAN_COMPONENTS = new Set(['main', 'contrib', 'non-free', 'non-free-firmware']);

/** `trixie-security` → `trixie`; `bookworm/updates` (old security layout) → `bookworm`. */
function suiteBase(suite: string): string {
  const base = suite.replace(/\/updates$/, '');
  for (const suffix of SUITE_SUFFIXES) if (base.endsWith(suffix)) return base.slice(0, -suffix.length);
  return base;
}

export function isSecuritySuite(suite: string): boolean {
  return suite.endsWith('-security') || suite.endsWith('/updates');
}

/**
 * A Debian archive entry names a Debian suite and Debian components over HTTP(S). This is
 * what tells `deb <mirror>/debian trixie main` from e.g. a vendor's `.../debian bookworm stable`.
 */
export function isDebianEntry(entry: SourceEntry): boolean {
  if (!/^https?:\/\//i.test(entry.uri)) return false;
  if (!CODENAMES.has(suiteBase(entry.suite))) return false;
  return entry.components.some((c) => DEBIAN_COMPONENTS.has(c.replace(/^updates\//, '')));
}

/** Parses one-line `deb [options] uri suite component...` entries. */
export function parseOneLineSources(text: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*/, '').trim();
    if (line === '') continue;
    const withoutOptions = line.replace(/\[[^\]]*\]/, ' ');
    const [type, uri, suite, ...components] = withoutOptions.split(/\s+/);
    if (type !== 'deb' || !uri || !suite) continue;
    entries.push({ uri, suite, components });
  }
  return entries;
}

/** Parses deb822 `.sources` stanzas (`Types`, `URIs`, `Suites`, `Components`, `Enabled`). */
export function parseDeb822Sources(text: string, source = 'sources file'): SourceEntry[] {
  const entries: SourceEntry[] = [];
  for (const stanza of parseDeb822(text, source)) {
    const words = (field: string): string[] => (stanza[field] ?? '').split(/\s+/).filter((w) => w !== '');
    if (!words('Types').includes('deb')) continue;
    if ((stanza.Enabled ?? 'yes').toLowerCase() === 'no') continue;
    for (const uri of words('URIs')) {
      for (const suite of words('Suites')) entries.push({ uri, suite, components: words('Components') });
    }
  }
  return entries;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every entry apt would read, in apt's order: sources.list, then sources.list.d sorted. */
export function readAptSources(aptRoot = '/'): SourceEntry[] {
  const etc = join(aptRoot, 'etc', 'apt');
  const entries: SourceEntry[] = [];
  const main = readText(join(etc, 'sources.list'));
  if (main !== undefined) entries.push(...parseOneLineSources(main));
  let names: string[] = [];
  try {
    names = readdirSync(join(etc, 'sources.list.d')).sort();
  } catch {
    // No sources.list.d: nothing more to read.
  }
  for (const name of names) {
    const path = join(etc, 'sources.list.d', name);
    const text = name.endsWith('.list') || name.endsWith('.sources') ? readText(path) : undefined;
    if (text === undefined) continue;
    try {
      entries.push(...(name.endsWith('.list') ? parseOneLineSources(text) : parseDeb822Sources(text, path)));
    } catch {
      // apt would reject a malformed file; it cannot name our archive either, so skip it.
    }
  }
  return entries;
}

export function normalizeMirror(uri: string): string {
  return uri.replace(/\/+$/, '');
}

/** The first Debian archive entry and the first Debian security entry of the host's apt sources. */
export function discoverMirrors(aptRoot = '/'): DiscoveredMirrors {
  const found: DiscoveredMirrors = {};
  for (const entry of readAptSources(aptRoot)) {
    if (!isDebianEntry(entry)) continue;
    const key = isSecuritySuite(entry.suite) ? 'securityMirror' : 'mirror';
    found[key] ??= normalizeMirror(entry.uri);
  }
  return found;
}

/** `http://host/debian` → `http://host/debian-security`; undefined when the path has no `debian` segment. */
export function deriveSecurityMirror(mirror: string): string | undefined {
  const url = new URL(mirror);
  const segments = url.pathname.replace(/\/+$/, '').split('/');
  const last = segments.lastIndexOf('debian');
  if (last < 0) return undefined;
  segments[last] = 'debian-security';
  url.pathname = segments.join('/');
  return normalizeMirror(url.toString());
}

export interface ResolveArchiveOptions {
  mirror?: string;
  securityMirror?: string;
  suites?: string[];
  components?: string[];
  env?: NodeJS.ProcessEnv;
  aptRoot?: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new HookError('E_MIRROR', `The ${what} "${value}" is not a valid URL`, {
      hint: 'Give a base URL such as http://<host>/debian',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HookError('E_MIRROR', `The ${what} "${value}" is not an http:// or https:// URL`);
  }
  return normalizeMirror(value);
}

/**
 * Settings for the archive client. Precedence: explicit option (spec or --mirror) >
 * HOOK_MIRROR / HOOK_SECURITY_MIRROR > the host's apt sources. The security mirror from apt
 * is used only with apt's main mirror; a mirror given explicitly gets its security mirror
 * derived from it (`.../debian` → `.../debian-security`) unless one is given too.
 */
export function resolveArchiveSettings(options: ResolveArchiveOptions = {}): ArchiveSettings {
  const env = options.env ?? process.env;
  const explicitMirror = nonEmpty(options.mirror) ?? nonEmpty(env.HOOK_MIRROR);
  const explicitSecurity = nonEmpty(options.securityMirror) ?? nonEmpty(env.HOOK_SECURITY_MIRROR);
  const apt = explicitMirror === undefined ? discoverMirrors(options.aptRoot ?? '/') : {};
  const mirrorValue = explicitMirror ?? apt.mirror;
  if (mirrorValue === undefined) {
    throw new HookError('E_MIRROR', 'No Debian mirror is configured and none was found in the apt sources', {
      hint: 'Set archive.mirror in the spec, pass --mirror <url>, or export HOOK_MIRROR=<url> (e.g. http://<host>/debian)',
    });
  }
  const mirror = checkUrl(mirrorValue, 'mirror');
  const suites = options.suites && options.suites.length > 0 ? [...options.suites] : [...DEFAULT_SUITES];
  const components =
    options.components && options.components.length > 0 ? [...options.components] : [...DEFAULT_COMPONENTS];
  const securityValue = explicitSecurity ?? apt.securityMirror ?? deriveSecurityMirror(mirror);
  if (securityValue === undefined && suites.some(isSecuritySuite)) {
    throw new HookError(
      'E_MIRROR',
      `Cannot tell the security mirror for ${mirror} (its path has no "debian" part)`,
      {
        hint: 'Set archive.securityMirror in the spec or export HOOK_SECURITY_MIRROR=<url>',
      },
    );
  }
  const securityMirror = securityValue === undefined ? mirror : checkUrl(securityValue, 'security mirror');
  return { mirror, securityMirror, suites, components };
}
