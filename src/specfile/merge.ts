/**
 * Layered specs: a spec that says `extends: <base>` is the base with its own keys merged in.
 * The rules, by kind of value:
 *
 * - **Maps merge** key by key, recursively (`kernel:`, `archive:`, `systemd:`, `image.env`, …):
 *   a key the child does not write keeps the base's value.
 * - **Scalars replace** (`name`, `kernel.cmdline`, `sizeBudget`, `output.dir`, …).
 * - **Lists append**: the child's entries come after the base's. An entry naming one the base
 *   already has replaces it in place (packages and users/groups by name, files and symlinks by
 *   path, registries by host, images by ref; a repeated string is kept once). An entry
 *   `"!<key>"` removes the base's entry with that key: `"!docker-cli"` in `packages`,
 *   `"!etc/motd"` in `files`, `"!ops"` in `users`, `"!usr/share/doc/**"` in `exclude`. A
 *   removal that matches nothing is an error (a typo would otherwise change nothing).
 *   `kernel.modules` only appends: its `!` entries exclude what earlier entries selected, base
 *   entries included, and a later entry selects again what the base excluded (select.ts).
 *   `image.entrypoint` and `image.cmd` are one command each: they replace.
 * - Two YAML tags change a rule for one value: `!override` (the child's map or list replaces
 *   the base's whole), `!reset` (the key goes back to its default, as if neither wrote it).
 *
 * Every value of the result remembers which file and which node in it wrote it (its origin),
 * so an error found later — by the schema, or at build time — points into the right file.
 */

import { didYouMean } from '../util/suggest.ts';
import { type DocPath, formatDocPath } from './docpath.ts';
import { canonicalPath, normalizeOsPath } from './paths.ts';

export const OVERRIDE_TAG = '!override';
export const RESET_TAG = '!reset';

/** One spec file's values, as written (before defaults and validation). */
export interface Layer {
  /** Index of the layer in the chain (base first). */
  index: number;
  raw: unknown;
  /** Formatted document paths of the values tagged `!override` / `!reset` in this file. */
  tags: ReadonlyMap<string, typeof OVERRIDE_TAG | typeof RESET_TAG>;
}

/** Which layer wrote a value, at which path of that layer's document. */
export interface Origin {
  layer: number;
  path: DocPath;
  /** Origins of the children of a map or list (by key or index in the merged value). */
  children?: Map<string | number, Origin>;
}

export interface MergeProblem {
  layer: number;
  path: DocPath;
  message: string;
  hint?: string;
}

/** The origin of the value at `path` of a merged result. */
export function originAt(root: Origin, path: DocPath): Origin {
  let origin = root;
  for (const [i, segment] of path.entries()) {
    const child = origin.children?.get(segment);
    // Below a value written whole by one file, paths are that file's paths.
    if (child === undefined) return { layer: origin.layer, path: [...origin.path, ...path.slice(i)] };
    origin = child;
  }
  return origin;
}

type ListRule =
  /** Entries identified by a key: same key replaces, "!key" removes. */
  | {
      kind: 'keyed';
      what: string;
      key: (item: unknown) => string | undefined;
      removal: (text: string) => string;
    }
  /** Strings: a repeated one is kept once, "!value" removes. */
  | { kind: 'strings'; what: string }
  /** Appended as written (kernel.modules, whose "!" entries are patterns). */
  | { kind: 'append' }
  /** The child's list replaces the base's (a command line). */
  | { kind: 'replace' };

const field =
  (name: string) =>
  (item: unknown): string | undefined => {
    const value = isRecord(item) ? item[name] : undefined;
    return typeof value === 'string' ? value : undefined;
  };

/** Paths compare after normalisation: `./etc//motd`, `etc/motd` and `/etc/motd` are one file. */
function pathKey(path: string): string {
  const normalized = normalizeOsPath(path.replace(/^\/+/, ''));
  return normalized.value === undefined ? path : canonicalPath(normalized.value);
}

const byPath = (item: unknown) => {
  const path = field('path')(item);
  return path === undefined ? undefined : pathKey(path);
};

const STRINGS = (what: string): ListRule => ({ kind: 'strings', what });

/** The rule of each list, by its path in the document with indices left out. */
const LIST_RULES: ReadonlyMap<string, ListRule> = new Map<string, ListRule>([
  [
    'packages',
    {
      kind: 'keyed',
      what: 'package',
      key: (item) => (typeof item === 'string' ? item : field('name')(item)),
      removal: (text) => text,
    },
  ],
  ['files', { kind: 'keyed', what: 'file', key: byPath, removal: pathKey }],
  ['symlinks', { kind: 'keyed', what: 'symlink', key: byPath, removal: pathKey }],
  ['users', { kind: 'keyed', what: 'user', key: field('name'), removal: (text) => text }],
  ['groups', { kind: 'keyed', what: 'group', key: field('name'), removal: (text) => text }],
  ['registries', { kind: 'keyed', what: 'registry', key: field('host'), removal: (text) => text }],
  ['images', { kind: 'keyed', what: 'image', key: field('ref'), removal: (text) => text }],
  ['omit', STRINGS('omitted package')],
  ['exclude', STRINGS('exclude glob')],
  ['archive.suites', STRINGS('suite')],
  ['archive.components', STRINGS('component')],
  ['kernel.firmware.packages', STRINGS('firmware package')],
  ['kernel.firmware.include', STRINGS('firmware glob')],
  ['systemd.enable', STRINGS('enabled unit')],
  ['systemd.mask', STRINGS('masked unit')],
  ['ssh.authorizedKeys', STRINGS('key')],
  ['kernel.modules', { kind: 'append' }],
  ['image.entrypoint', { kind: 'replace' }],
  ['image.cmd', { kind: 'replace' }],
]);

/** Lists not named above append as written. */
function ruleFor(path: DocPath): ListRule {
  const key = path.filter((segment) => typeof segment === 'string').join('.');
  return LIST_RULES.get(key) ?? { kind: 'append' };
}

/** The rules as a table, for documentation and tests: list path → what an entry is keyed by. */
export function listRules(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const [path, rule] of LIST_RULES) {
    out.set(
      path,
      rule.kind === 'keyed' || rule.kind === 'strings' ? `${rule.kind} (${rule.what})` : rule.kind,
    );
  }
  return out;
}

const RESET = Symbol('reset');

interface Merged {
  value: unknown;
  origin: Origin;
}

/**
 * Merges `layer` over `base` (undefined for the first file of a chain). Problems (a removal
 * that removes nothing) are collected, not thrown: the loader reports them with the rest.
 */
export function mergeLayer(base: Merged | undefined, layer: Layer, problems: MergeProblem[]): Merged {
  const merged = mergeValue(base, layer, layer.raw, [], [], problems);
  return merged === RESET ? { value: {}, origin: { layer: layer.index, path: [] } } : merged;
}

function mergeValue(
  base: Merged | undefined,
  layer: Layer,
  over: unknown,
  overPath: DocPath,
  mergedPath: DocPath,
  problems: MergeProblem[],
): Merged | typeof RESET {
  const tag = layer.tags.get(formatDocPath(overPath));
  if (tag === RESET_TAG) return RESET;
  const from = tag === OVERRIDE_TAG ? undefined : base;
  if (Array.isArray(over)) {
    const rule = ruleFor(mergedPath);
    const baseList =
      from !== undefined && Array.isArray(from.value) && rule.kind !== 'replace' ? from : undefined;
    return mergeList(baseList, layer, over, overPath, mergedPath, rule, problems);
  }
  if (isRecord(over)) {
    const baseMap = from !== undefined && isRecord(from.value) ? from : undefined;
    return mergeMap(baseMap, layer, over, overPath, mergedPath, problems);
  }
  return { value: over, origin: { layer: layer.index, path: overPath } };
}

function childOf(parent: Merged, key: string | number, value: unknown): Merged {
  return { value, origin: originAt(parent.origin, [key]) };
}

function mergeMap(
  base: Merged | undefined,
  layer: Layer,
  over: Record<string, unknown>,
  overPath: DocPath,
  mergedPath: DocPath,
  problems: MergeProblem[],
): Merged {
  const value: Record<string, unknown> = {};
  const children = new Map<string | number, Origin>();
  const baseMap = (base?.value ?? {}) as Record<string, unknown>;
  const keys = [...Object.keys(baseMap), ...Object.keys(over).filter((k) => !Object.hasOwn(baseMap, k))];
  for (const key of keys) {
    const inBase = base !== undefined && Object.hasOwn(baseMap, key);
    if (!Object.hasOwn(over, key)) {
      const kept = childOf(base as Merged, key, baseMap[key]);
      value[key] = kept.value;
      children.set(key, kept.origin);
      continue;
    }
    const result = mergeValue(
      inBase ? childOf(base as Merged, key, baseMap[key]) : undefined,
      layer,
      over[key],
      [...overPath, key],
      [...mergedPath, key],
      problems,
    );
    if (result === RESET) continue;
    value[key] = result.value;
    children.set(key, result.origin);
  }
  return { value, origin: { layer: layer.index, path: overPath, children } };
}

function mergeList(
  base: Merged | undefined,
  layer: Layer,
  over: unknown[],
  overPath: DocPath,
  mergedPath: DocPath,
  rule: ListRule,
  problems: MergeProblem[],
): Merged {
  type Entry = { value: unknown; origin: Origin };
  const baseEntries: Entry[] = ((base?.value as unknown[] | undefined) ?? []).map((item, i) =>
    childOf(base as Merged, i, item),
  );
  const kept: (Entry | undefined)[] = [...baseEntries];
  const added: Entry[] = [];
  const keyOf = (item: unknown): string | undefined =>
    rule.kind === 'keyed'
      ? rule.key(item)
      : rule.kind === 'strings' && typeof item === 'string'
        ? item
        : undefined;
  over.forEach((item, j) => {
    const itemPath = [...overPath, j];
    if (
      (rule.kind === 'keyed' || rule.kind === 'strings') &&
      typeof item === 'string' &&
      item.startsWith('!')
    ) {
      const written = item.slice(1);
      const wanted = rule.kind === 'keyed' ? rule.removal(written) : written;
      let removed = 0;
      kept.forEach((entry, i) => {
        if (entry !== undefined && keyOf(entry.value) === wanted) {
          kept[i] = undefined;
          removed++;
        }
      });
      if (removed === 0) problems.push(removesNothing(layer, itemPath, rule, written, baseEntries, keyOf));
      return;
    }
    const entry = mergeValue(undefined, layer, item, itemPath, [...mergedPath, added.length], problems);
    if (entry === RESET) return;
    const key = keyOf(item);
    if (key !== undefined) {
      // Only the base's entries are replaced: two entries of one file with the same key are a
      // duplicate, which the schema reports.
      const at = kept.findIndex((e, i) => e !== undefined && e === baseEntries[i] && keyOf(e.value) === key);
      if (at >= 0) {
        if (rule.kind === 'keyed') kept[at] = entry;
        return;
      }
    }
    added.push(entry);
  });
  const entries = [...kept.filter((e): e is Entry => e !== undefined), ...added];
  const children = new Map<string | number, Origin>(entries.map((e, i) => [i, e.origin]));
  return { value: entries.map((e) => e.value), origin: { layer: layer.index, path: overPath, children } };
}

function removesNothing(
  layer: Layer,
  path: DocPath,
  rule: ListRule,
  written: string,
  baseEntries: { value: unknown }[],
  keyOf: (item: unknown) => string | undefined,
): MergeProblem {
  const what = rule.kind === 'keyed' || rule.kind === 'strings' ? rule.what : 'entry';
  const known = baseEntries.flatMap((e) => {
    const key = keyOf(e.value);
    return key === undefined ? [] : [key];
  });
  if (written === '') return { layer: layer.index, path, message: `"!" names no ${what} to remove` };
  const near = didYouMean(written, known);
  return {
    layer: layer.index,
    path,
    message: `"!${written}" removes nothing: ${layer.index === 0 ? 'this spec extends no other' : `the base has no ${what} "${written}"`}${near === undefined ? '' : ` (did you mean !${near}?)`}`,
    hint: 'An entry "!<name>" removes what the base spec (extends:) lists; quote it in YAML: "!name"',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
