/** Debian version numbers: parsing and ordering exactly as dpkg does (deb-version(7)). */
import { HookError } from '../errors.ts';

export interface DebianVersion {
  epoch: number;
  upstream: string;
  /** Empty when the version has no `-revision` part (which dpkg orders like `0`). */
  revision: string;
}

export type VersionOp = '<<' | '<=' | '=' | '>=' | '>>';

/** Parsed versions are cached: the resolver compares the same few thousand strings over and over. */
const parsedCache = new Map<string, DebianVersion>();
const CACHE_LIMIT = 200_000;

export function parseVersion(text: string): DebianVersion {
  const cached = parsedCache.get(text);
  if (cached) return cached;
  const version = parseUncached(text);
  if (parsedCache.size >= CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(text, version);
  return version;
}

function parseUncached(text: string): DebianVersion {
  const trimmed = text.trim();
  if (trimmed === '' || /\s/.test(trimmed)) {
    throw new HookError('E_INDEX', `Invalid Debian version "${text}": empty or contains whitespace`);
  }
  let epoch = 0;
  let rest = trimmed;
  const colon = trimmed.indexOf(':');
  if (colon >= 0) {
    const epochText = trimmed.slice(0, colon);
    if (!/^[0-9]+$/.test(epochText)) {
      throw new HookError(
        'E_INDEX',
        `Invalid Debian version "${text}": epoch "${epochText}" is not a number`,
      );
    }
    epoch = Number(epochText);
    rest = trimmed.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '') {
    throw new HookError('E_INDEX', `Invalid Debian version "${text}": empty upstream version`);
  }
  return { epoch, upstream, revision };
}

const CH_0 = 48;
const CH_9 = 57;
const CH_TILDE = 126;

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** dpkg's weight of a non-digit character: `~` below the end of the string, letters below the rest. */
function order(c: number): number {
  if (c === 0 || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === CH_TILDE) return -1;
  return c + 256;
}

/** dpkg's verrevcmp: alternating runs of non-digits (by `order`) and digits (numerically). */
function compareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const la = a.length;
  const lb = b.length;
  while (i < la || j < lb) {
    // Non-digit run; a character past the end reads as 0, like C's NUL.
    for (;;) {
      const ca = i < la ? a.charCodeAt(i) : 0;
      const cb = j < lb ? b.charCodeAt(j) : 0;
      if (!((ca !== 0 && !isDigit(ca)) || (cb !== 0 && !isDigit(cb)))) break;
      const oa = order(ca);
      const ob = order(cb);
      if (oa !== ob) return oa < ob ? -1 : 1;
      i++;
      j++;
    }
    while (i < la && a.charCodeAt(i) === CH_0) i++;
    while (j < lb && b.charCodeAt(j) === CH_0) j++;
    let firstDiff = 0;
    while (i < la && j < lb && isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < la && isDigit(a.charCodeAt(i))) return 1;
    if (j < lb && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

/** Orders two version strings like `dpkg --compare-versions`: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va.epoch !== vb.epoch) return va.epoch < vb.epoch ? -1 : 1;
  const upstream = compareFragment(va.upstream, vb.upstream);
  if (upstream !== 0) return upstream;
  return compareFragment(va.revision, vb.revision);
}

/** Whether `version` satisfies the relation `op ref` (e.g. `satisfies('1.2', '>=', '1.0')`). */
export function satisfies(version: string, op: VersionOp, ref: string): boolean {
  const c = compareVersions(version, ref);
  switch (op) {
    case '<<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '=':
      return c === 0;
    case '>=':
      return c >= 0;
    case '>>':
      return c > 0;
  }
}
