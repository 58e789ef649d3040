/**
 * Which kernel modules go into the image: patterns from the spec, then everything the chosen
 * modules need to load (their `depends=` and the `pre:` modules of their soft dependencies).
 *
 * A pattern with a `/` is a glob on the path under lib/modules/<ver>/ (`kernel/fs/ext4/*`,
 * `kernel/drivers/net/ethernet/**`); without one it is a module name (`8021q`, `br_netfilter`,
 * `-` and `_` alike) or a glob on names (`xt_*`). `!pattern` removes what earlier patterns
 * matched; the last pattern matching a module decides, as in .gitignore, so a spec that extends
 * another can select again what its base excluded. A module needed by a selected one is still
 * taken, since without it the selected one would not load.
 */
import picomatch from 'picomatch';
import { HookError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import type { ModuleInfo } from './modinfo.ts';

export function selectModules(all: ModuleInfo[], patterns: string[]): ModuleInfo[] {
  const byName = new Map(all.map((m) => [m.name, m]));
  const selected = new Map<ModuleInfo, boolean>();
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    for (const m of matchPattern(all, byName, pattern, !negated)) selected.set(m, !negated);
  }
  const chosen = [...selected].filter(([, chosen]) => chosen).map(([m]) => m);
  const closed = closeOverDependencies(chosen, all, byName);
  return all.filter((m) => closed.has(m));
}

function normalizeName(name: string): string {
  return name.replaceAll('-', '_');
}

function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

function matchPattern(
  all: ModuleInfo[],
  byName: Map<string, ModuleInfo>,
  pattern: string,
  mustExist: boolean,
): ModuleInfo[] {
  if (pattern === '') throw new HookError('E_KERNEL', 'Empty kernel module pattern');
  if (pattern.includes('/')) {
    const matches = picomatch(pattern, { dot: true });
    return all.filter((m) => matches(m.path));
  }
  if (isGlob(pattern)) {
    const matches = picomatch(normalizeName(pattern));
    return all.filter((m) => matches(m.name));
  }
  const found = byName.get(normalizeName(pattern));
  if (found !== undefined) return [found];
  if (!mustExist) return [];
  const near = suggest(normalizeName(pattern), [...byName.keys()]);
  throw new HookError('E_KERNEL', `No kernel module named "${pattern}" in the kernel package`, {
    hint:
      near.length > 0
        ? `Did you mean ${near.join(', ')}? (It may also be built into the kernel.)`
        : 'It may be built into the kernel (see modules.builtin), or it is not in this kernel.',
  });
}

/** Adds `depends=` modules and softdep `pre:` modules until nothing new comes in. */
function closeOverDependencies(
  chosen: ModuleInfo[],
  all: ModuleInfo[],
  byName: Map<string, ModuleInfo>,
): Set<ModuleInfo> {
  const byAlias = aliasIndex(all);
  const closed = new Set<ModuleInfo>();
  const pending = [...chosen];
  for (let mod = pending.pop(); mod !== undefined; mod = pending.pop()) {
    if (closed.has(mod)) continue;
    closed.add(mod);
    for (const name of mod.depends) {
      const dep = byName.get(normalizeName(name));
      if (dep === undefined) {
        throw new HookError(
          'E_KERNEL',
          `Module ${mod.name} depends on ${name}, which is not in the kernel package`,
        );
      }
      pending.push(dep);
    }
    // A soft dependency may name a module, an alias, or something built in (then nothing to add).
    for (const name of softdepPre(mod)) pending.push(...resolveSoft(name, byName, byAlias));
  }
  return closed;
}

/** The `pre:` names of `softdep=pre: a b post: c` values. */
export function softdepPre(mod: ModuleInfo): string[] {
  const names: string[] = [];
  for (const value of mod.softdeps) {
    let inPre = false;
    for (const word of value.split(/\s+/)) {
      if (word === 'pre:') inPre = true;
      else if (word.endsWith(':')) inPre = false;
      else if (inPre && word !== '') names.push(word);
    }
  }
  return names;
}

function aliasIndex(all: ModuleInfo[]): Map<string, ModuleInfo[]> {
  const index = new Map<string, ModuleInfo[]>();
  for (const m of all) {
    for (const alias of m.aliases) {
      const list = index.get(alias) ?? [];
      list.push(m);
      index.set(alias, list);
    }
  }
  return index;
}

function resolveSoft(
  name: string,
  byName: Map<string, ModuleInfo>,
  byAlias: Map<string, ModuleInfo[]>,
): ModuleInfo[] {
  const direct = byName.get(normalizeName(name));
  if (direct !== undefined) return [direct];
  return byAlias.get(name) ?? [];
}
