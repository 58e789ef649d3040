/**
 * Relationship fields (Depends, Pre-Depends, Recommends, Conflicts, Breaks, Provides, ...) as
 * described in Debian Policy §7: comma-separated groups of `|`-separated alternatives, each
 * `name[:archqual] [(op version)] [[arch list]] [<profile formula>...]`.
 */
import { HookError } from '../errors.ts';
import type { VersionOp } from './version.ts';

export interface Relation {
  name: string;
  /** `any`, `native` or an architecture name, from `name:qualifier`. */
  archQualifier?: string;
  op?: VersionOp;
  version?: string;
  /** `[amd64 !arm64]` as written (source-package syntax; kept so callers can evaluate it). */
  archRestrictions?: string[];
  /** `<!nocheck> <stage1 cross>`: each inner array is one formula of terms. */
  profileRestrictions?: string[][];
}

/** A comma-separated group: satisfied when any alternative is. */
export type RelationGroup = Relation[];

export interface ProvidedName {
  name: string;
  /** Set for versioned provides (`foo (= 1.2)`), which are the only ones that satisfy versioned deps. */
  version?: string;
}

export interface ParseRelationsOptions {
  /**
   * Evaluate architecture restriction lists for this architecture and drop alternatives that do
   * not apply (as dpkg-dev does when it reduces source relations). Without it they are kept.
   */
  arch?: string;
  /** Active build profiles; alternatives whose profile formulas are all false are dropped. */
  profiles?: readonly string[];
  /** Field name for error messages. */
  field?: string;
}

// dpkg accepts the obsolete `<` and `>` and means `<=` and `>=` by them.
const OPS: Record<string, VersionOp> = {
  '<<': '<<',
  '<=': '<=',
  '=': '=',
  '>=': '>=',
  '>>': '>>',
  '<': '<=',
  '>': '>=',
};

const RELATION_RE =
  /^([A-Za-z0-9][A-Za-z0-9+.\-_]*)(?::([A-Za-z0-9-]+))?\s*(?:\(\s*(<<|<=|>=|>>|<|>|=)\s*([^\s)]+)\s*\))?\s*(?:\[([^\]]*)\])?\s*((?:<[^>]*>\s*)*)$/;

function parseError(field: string, text: string, why: string): HookError {
  return new HookError('E_INDEX', `Cannot parse ${field} field "${text}": ${why}`);
}

export function parseRelation(text: string, field = 'relationship'): Relation {
  const trimmed = text.trim();
  const match = RELATION_RE.exec(trimmed);
  if (!match) throw parseError(field, text, `"${trimmed}" is not "name[:arch] [(op version)]"`);
  const [, name, archQualifier, op, version, arches, profiles] = match;
  const relation: Relation = { name: name ?? '' };
  if (archQualifier !== undefined) relation.archQualifier = archQualifier;
  if (op !== undefined && version !== undefined) {
    relation.op = OPS[op];
    relation.version = version;
  }
  if (arches !== undefined) {
    const list = arches.trim().split(/\s+/).filter(Boolean);
    if (list.length === 0) throw parseError(field, text, 'empty architecture list');
    relation.archRestrictions = list;
  }
  if (profiles?.trim()) {
    relation.profileRestrictions = [...profiles.matchAll(/<([^>]*)>/g)].map((m) =>
      (m[1] ?? '').trim().split(/\s+/).filter(Boolean),
    );
  }
  return relation;
}

/** Parses a relationship field into groups of alternatives; empty field → no groups. */
export function parseRelations(
  field: string | undefined,
  options: ParseRelationsOptions = {},
): RelationGroup[] {
  if (field === undefined) return [];
  const fieldName = options.field ?? 'relationship';
  const groups: RelationGroup[] = [];
  for (const groupText of field.split(',')) {
    if (groupText.trim() === '') {
      // dpkg tolerates a trailing comma but not an empty group in the middle.
      continue;
    }
    const group: RelationGroup = [];
    for (const altText of groupText.split('|')) {
      if (altText.trim() === '') throw parseError(fieldName, field, 'empty alternative');
      const relation = parseRelation(altText, fieldName);
      if (applies(relation, options)) group.push(relation);
    }
    if (group.length > 0) groups.push(group);
  }
  return groups;
}

function applies(relation: Relation, options: ParseRelationsOptions): boolean {
  if (options.arch !== undefined && relation.archRestrictions) {
    if (!archListMatches(relation.archRestrictions, options.arch)) return false;
  }
  if (relation.profileRestrictions) {
    const active = new Set(options.profiles ?? []);
    const anyTrue = relation.profileRestrictions.some((formula) =>
      formula.every((term) => (term.startsWith('!') ? !active.has(term.slice(1)) : active.has(term))),
    );
    if (!anyTrue) return false;
  }
  return true;
}

/** `[amd64 arm64]` lists match when one entry matches; `[!i386 !armel]` when none does. */
export function archListMatches(list: readonly string[], arch: string): boolean {
  const negated = list.every((entry) => entry.startsWith('!'));
  if (negated) return !list.some((entry) => archMatches(entry.slice(1), arch));
  return list.some((entry) => !entry.startsWith('!') && archMatches(entry, arch));
}

/** Architecture wildcards as dpkg-architecture knows them, for the Linux architectures we build. */
export function archMatches(pattern: string, arch: string): boolean {
  if (pattern === arch || pattern === 'any') return true;
  const dash = pattern.indexOf('-');
  if (dash < 0) return false;
  const os = pattern.slice(0, dash);
  const cpu = pattern.slice(dash + 1);
  return (os === 'any' || os === 'linux') && (cpu === 'any' || cpu === arch);
}

/** Parses `Provides`: plain names or `name (= version)`; other operators are invalid there. */
export function parseProvides(field: string | undefined): ProvidedName[] {
  const provided: ProvidedName[] = [];
  for (const group of parseRelations(field, { field: 'Provides' })) {
    if (group.length !== 1) throw parseError('Provides', field ?? '', 'alternatives are not allowed');
    const relation = group[0]!;
    if (relation.op !== undefined && relation.op !== '=') {
      throw parseError('Provides', field ?? '', `only "=" may version a provided name, not "${relation.op}"`);
    }
    const entry: ProvidedName = { name: relation.name };
    if (relation.version !== undefined) entry.version = relation.version;
    provided.push(entry);
  }
  return provided;
}

export function formatRelation(relation: Relation): string {
  let text = relation.name;
  if (relation.archQualifier) text += `:${relation.archQualifier}`;
  if (relation.op && relation.version) text += ` (${relation.op} ${relation.version})`;
  return text;
}

export function formatGroup(group: RelationGroup): string {
  return group.map(formatRelation).join(' | ');
}
