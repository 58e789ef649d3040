/**
 * Dependency resolution over Debian Packages indexes, following apt's own marking algorithm
 * (pkgDepCache::MarkInstall) so that the same request gives the same package set as
 * `apt-get install --no-install-recommends` on an empty system:
 * - the candidate of a name is its highest version across all suites (equal pin priorities);
 * - requested packages are marked first, then their dependencies are walked depth-first in
 *   field order (Depends, then Pre-Depends, then Recommends when asked);
 * - a group already satisfied by a marked package is skipped; otherwise its alternatives are
 *   tried in order, each alternative's real package and providers sorted like apt's
 *   CompareProviders (requested first, same name, Essential, Important/Protected, Priority,
 *   then the newest-seen package), and the first one that installs wins.
 * Essential packages are not added implicitly: images are declared, not upgraded.
 */
import { HookError } from '../errors.ts';
import { suggest } from '../util/suggest.ts';
import type { ProvidedName, Relation, RelationGroup } from './relations.ts';
import { formatGroup, parseProvides, parseRelations } from './relations.ts';
import type { BinaryPackage } from './types.ts';
import { compareVersions, satisfies } from './version.ts';

export interface ResolveOptions {
  arch: 'amd64' | 'arm64';
  followRecommends?: boolean;
  /**
   * Packages never installed: a dependency on one of them counts as met (an image builder's
   * way to leave out, say, the Python that only an optional helper script of xfsprogs needs).
   */
  omit?: ReadonlySet<string>;
}

export interface Resolution {
  /** The packages to install, sorted by name. */
  packages: BinaryPackage[];
  /** For each package name, the chain of names from a requested package down to it. */
  reasons: Map<string, string[]>;
}

interface Provider {
  pkg: BinaryPackage;
  version?: string;
}

/** Lookups over an index, built once and reusable across resolutions for the same architecture. */
export interface PackageIndex {
  arch: string;
  /** Every version of a name usable on `arch`, highest first (the first is the candidate). */
  byName: Map<string, BinaryPackage[]>;
  /** Who provides a name, over every version. */
  providers: Map<string, Provider[]>;
  /** Order in which a name first appeared, the last resort of apt's provider choice. */
  firstSeen: Map<string, number>;
}

const indexCache = new WeakMap<BinaryPackage[], Map<string, PackageIndex>>();

export function buildIndex(packages: BinaryPackage[], arch: string): PackageIndex {
  const byName = new Map<string, BinaryPackage[]>();
  const providers = new Map<string, Provider[]>();
  const firstSeen = new Map<string, number>();
  for (const pkg of packages) {
    if (pkg.architecture !== arch && pkg.architecture !== 'all') continue;
    if (!firstSeen.has(pkg.name)) firstSeen.set(pkg.name, firstSeen.size);
    const versions = byName.get(pkg.name);
    if (versions) versions.push(pkg);
    else byName.set(pkg.name, [pkg]);
    for (const provided of providedNames(pkg)) {
      const entry: Provider = { pkg };
      if (provided.version !== undefined) entry.version = provided.version;
      const list = providers.get(provided.name);
      if (list) list.push(entry);
      else providers.set(provided.name, [entry]);
    }
  }
  for (const versions of byName.values()) {
    // Stable sort: for one version present in several suites the first listed stays first.
    versions.sort((a, b) => compareVersions(b.version, a.version));
  }
  return { arch, byName, providers, firstSeen };
}

const providesCache = new WeakMap<BinaryPackage, ProvidedName[]>();
function providedNames(pkg: BinaryPackage): ProvidedName[] {
  let cached = providesCache.get(pkg);
  if (!cached) {
    cached = parseProvides(pkg.provides);
    providesCache.set(pkg, cached);
  }
  return cached;
}

interface Dependencies {
  critical: RelationGroup[];
  recommends: RelationGroup[];
  conflicts: Relation[];
}

const depsCache = new WeakMap<BinaryPackage, Map<string, Dependencies>>();
function dependenciesOf(pkg: BinaryPackage, arch: string): Dependencies {
  let perArch = depsCache.get(pkg);
  if (!perArch) {
    perArch = new Map();
    depsCache.set(pkg, perArch);
  }
  let deps = perArch.get(arch);
  if (!deps) {
    // apt's dependency list order: Depends before Pre-Depends, Recommends after both.
    deps = {
      critical: [
        ...parseRelations(pkg.depends, { arch, field: 'Depends' }),
        ...parseRelations(pkg.preDepends, { arch, field: 'Pre-Depends' }),
      ],
      recommends: parseRelations(pkg.recommends, { arch, field: 'Recommends' }),
      conflicts: [
        ...parseRelations(pkg.conflicts, { arch, field: 'Conflicts' }).flat(),
        ...parseRelations(pkg.breaks, { arch, field: 'Breaks' }).flat(),
      ],
    };
    perArch.set(arch, deps);
  }
  return deps;
}

const PRIORITY_RANK: Record<string, number> = {
  required: 1,
  important: 2,
  standard: 3,
  optional: 4,
  extra: 5,
};

function priorityRank(pkg: BinaryPackage): number {
  // apt leaves a missing Priority at 0 and an unknown one at "extra".
  if (pkg.priority === undefined) return 0;
  return PRIORITY_RANK[pkg.priority] ?? 5;
}

function isImportant(pkg: BinaryPackage): boolean {
  return pkg.fields.Important === 'yes' || pkg.fields.Protected === 'yes';
}

/** Whether a package (of the target architecture or `all`) matches a relation's arch qualifier. */
function qualifierAllows(relation: Relation, pkg: BinaryPackage, arch: string): boolean {
  const qualifier = relation.archQualifier;
  if (qualifier === undefined || qualifier === 'native' || qualifier === arch) return true;
  // `:any` needs a package that declares it may satisfy dependencies from any architecture.
  if (qualifier === 'any') return pkg.multiArch === 'allowed' || pkg.multiArch === 'foreign';
  return false;
}

function versionMatches(relation: Relation, version: string | undefined): boolean {
  if (relation.op === undefined || relation.version === undefined) return true;
  if (version === undefined) return false;
  return satisfies(version, relation.op, relation.version);
}

class Resolver {
  private readonly selected = new Map<string, BinaryPackage>();
  private readonly selectedProviders = new Map<string, Provider[]>();
  private readonly protectedNames = new Set<string>();
  private readonly candidates = new Map<string, BinaryPackage>();
  readonly reasons = new Map<string, string[]>();

  constructor(
    readonly index: PackageIndex,
    private readonly options: ResolveOptions,
  ) {}

  candidate(name: string): BinaryPackage | undefined {
    return this.candidates.get(name) ?? this.index.byName.get(name)?.[0];
  }

  setCandidate(pkg: BinaryPackage): void {
    this.candidates.set(pkg.name, pkg);
  }

  isSelected(pkg: BinaryPackage): boolean {
    return this.selected.get(pkg.name) === pkg;
  }

  selectedPackages(): BinaryPackage[] {
    return [...this.selected.values()];
  }

  private select(pkg: BinaryPackage, chain: string[]): void {
    this.selected.set(pkg.name, pkg);
    if (!this.reasons.has(pkg.name)) this.reasons.set(pkg.name, [...chain, pkg.name]);
    for (const provided of providedNames(pkg)) {
      const entry: Provider = { pkg };
      if (provided.version !== undefined) entry.version = provided.version;
      const list = this.selectedProviders.get(provided.name);
      if (list) list.push(entry);
      else this.selectedProviders.set(provided.name, [entry]);
    }
  }

  private unselect(pkg: BinaryPackage): void {
    if (this.selected.get(pkg.name) !== pkg) return;
    this.selected.delete(pkg.name);
    this.reasons.delete(pkg.name);
    for (const provided of providedNames(pkg)) {
      const list = this.selectedProviders.get(provided.name);
      if (list)
        this.selectedProviders.set(
          provided.name,
          list.filter((p) => p.pkg !== pkg),
        );
    }
  }

  /** A relation is satisfied by a marked package: the named one, or a provider. */
  private satisfiedBySelected(relation: Relation, self?: BinaryPackage): BinaryPackage | undefined {
    const arch = this.index.arch;
    const real = this.selected.get(relation.name);
    if (
      real &&
      real !== self &&
      qualifierAllows(relation, real, arch) &&
      versionMatches(relation, real.version)
    ) {
      return real;
    }
    for (const provider of this.selectedProviders.get(relation.name) ?? []) {
      if (provider.pkg === self) continue;
      if (qualifierAllows(relation, provider.pkg, arch) && versionMatches(relation, provider.version)) {
        return provider.pkg;
      }
    }
    return undefined;
  }

  groupSatisfied(group: RelationGroup): boolean {
    const omit = this.options.omit;
    if (omit && group.some((relation) => omit.has(relation.name))) return true;
    return group.some((relation) => this.satisfiedBySelected(relation) !== undefined);
  }

  /** Candidate versions that would satisfy a relation: the named package's, then providers'. */
  solutionsFor(relation: Relation): BinaryPackage[] {
    const arch = this.index.arch;
    const found: BinaryPackage[] = [];
    const real = this.candidate(relation.name);
    if (real && qualifierAllows(relation, real, arch) && versionMatches(relation, real.version))
      found.push(real);
    for (const provider of this.index.providers.get(relation.name) ?? []) {
      if (this.candidate(provider.pkg.name) !== provider.pkg) continue;
      if (!qualifierAllows(relation, provider.pkg, arch) || !versionMatches(relation, provider.version))
        continue;
      if (!found.includes(provider.pkg)) found.push(provider.pkg);
    }
    return found;
  }

  /** apt's CompareProviders for a system with nothing installed and a single architecture. */
  private compareProviders(relation: Relation, a: BinaryPackage, b: BinaryPackage): number {
    const pa = this.protectedNames.has(a.name);
    const pb = this.protectedNames.has(b.name);
    if (pa !== pb) return pa ? -1 : 1;
    if (a.name !== b.name) {
      if (a.name === relation.name) return -1;
      if (b.name === relation.name) return 1;
    }
    if (a.essential !== b.essential) return a.essential ? -1 : 1;
    const ia = isImportant(a);
    const ib = isImportant(b);
    if (ia !== ib) return ia ? -1 : 1;
    const ra = priorityRank(a);
    const rb = priorityRank(b);
    if (ra !== rb) return ra - rb;
    return (this.index.firstSeen.get(b.name) ?? 0) - (this.index.firstSeen.get(a.name) ?? 0);
  }

  private orderedSolutions(group: RelationGroup): BinaryPackage[] {
    const all: BinaryPackage[] = [];
    for (const relation of group) {
      const solutions = this.solutionsFor(relation).sort((a, b) => this.compareProviders(relation, a, b));
      for (const pkg of solutions) {
        // apt drops only adjacent duplicates (std::unique).
        if (all[all.length - 1] !== pkg) all.push(pkg);
      }
    }
    return all;
  }

  /** A cheap look one level down, as apt does before marking: can every critical group be met at all? */
  private dependenciesSatisfiable(pkg: BinaryPackage): RelationGroup | undefined {
    for (const group of dependenciesOf(pkg, this.index.arch).critical) {
      if (this.groupSatisfied(group)) continue;
      if (!group.some((relation) => this.solutionsFor(relation).length > 0)) return group;
    }
    return undefined;
  }

  /** Marks a package and, depth-first, its dependencies. Returns false when it cannot be installed. */
  markInstall(pkg: BinaryPackage, chain: string[], fromUser: boolean): boolean {
    if (this.isSelected(pkg) && !fromUser) return true;
    if (!fromUser && this.dependenciesSatisfiable(pkg) !== undefined) return false;
    if (!this.removeConflicts(pkg, fromUser)) return false;
    this.select(pkg, chain);
    const here = [...chain, pkg.name];
    const deps = dependenciesOf(pkg, this.index.arch);
    let failed = false;
    for (const group of deps.critical) {
      if (this.installGroup(group, here)) continue;
      failed = true;
      if (!fromUser) break;
    }
    if (failed && !fromUser) {
      this.unselect(pkg);
      return false;
    }
    if (this.options.followRecommends) {
      for (const group of deps.recommends) this.installGroup(group, here);
    }
    return !failed;
  }

  private installGroup(group: RelationGroup, chain: string[]): boolean {
    if (this.groupSatisfied(group)) return true;
    for (const solution of this.orderedSolutions(group)) {
      if (this.markInstall(solution, chain, false)) return true;
    }
    return false;
  }

  /**
   * apt keeps back (unmarks) a not-installed package that the new one conflicts with, unless
   * the user asked for it, in which case the new package cannot be installed.
   */
  private removeConflicts(pkg: BinaryPackage, fromUser: boolean): boolean {
    for (const relation of dependenciesOf(pkg, this.index.arch).conflicts) {
      const victim = this.satisfiedBySelected(relation, pkg);
      if (!victim) continue;
      if (this.protectedNames.has(victim.name)) {
        if (!fromUser) return false;
        continue;
      }
      this.unselect(victim);
    }
    return true;
  }

  protect(pkg: BinaryPackage, chain: string[]): void {
    this.protectedNames.add(pkg.name);
    this.select(pkg, chain);
  }

  /** Explains why a group cannot be met, following the first failing alternative down. */
  explainGroup(group: RelationGroup, seen: Set<string>): string {
    const parts: string[] = [];
    for (const relation of group) {
      const solutions = this.solutionsFor(relation);
      if (solutions.length === 0) {
        parts.push(this.explainMissing(relation));
        continue;
      }
      const first = solutions[0]!;
      if (seen.has(first.name)) {
        parts.push(`${first.name} ${first.version} cannot be installed (dependency cycle)`);
        continue;
      }
      seen.add(first.name);
      const broken = this.brokenGroup(first);
      parts.push(
        broken
          ? `${formatGroup(broken)} → ${this.explainGroup(broken, seen)}`
          : `${first.name} ${first.version} cannot be installed`,
      );
    }
    return parts.length === 1 ? parts[0]! : `none of the alternatives works: ${parts.join('; ')}`;
  }

  /** The first critical group of a package that is neither met nor installable. */
  brokenGroup(pkg: BinaryPackage): RelationGroup | undefined {
    for (const group of dependenciesOf(pkg, this.index.arch).critical) {
      if (this.groupSatisfied(group)) continue;
      const installable = group.some((relation) =>
        this.solutionsFor(relation).some((s) => this.brokenGroup0(s, new Set([pkg.name])) === undefined),
      );
      if (!installable) return group;
    }
    return undefined;
  }

  private brokenGroup0(pkg: BinaryPackage, seen: Set<string>): RelationGroup | undefined {
    if (seen.has(pkg.name) || this.isSelected(pkg)) return undefined;
    seen.add(pkg.name);
    for (const group of dependenciesOf(pkg, this.index.arch).critical) {
      if (this.groupSatisfied(group)) continue;
      const installable = group.some((relation) =>
        this.solutionsFor(relation).some((s) => this.brokenGroup0(s, seen) === undefined),
      );
      if (!installable) return group;
    }
    return undefined;
  }

  private explainMissing(relation: Relation): string {
    const versions = this.index.byName.get(relation.name) ?? [];
    const providers = this.index.providers.get(relation.name) ?? [];
    if (versions.length === 0 && providers.length === 0) {
      return `no package named ${relation.name} for ${this.index.arch}`;
    }
    if (
      relation.archQualifier &&
      versions.length > 0 &&
      !versions.some((v) => qualifierAllows(relation, v, this.index.arch))
    ) {
      return `${relation.name} cannot satisfy :${relation.archQualifier} (Multi-Arch: ${versions[0]!.multiArch ?? 'no'})`;
    }
    const available = [
      ...versions.map((v) => v.version),
      ...providers.map((p) => `${p.pkg.name} provides ${p.version ?? 'it unversioned'}`),
    ];
    const wanted = relation.op ? `${relation.op} ${relation.version}` : 'it';
    return `no version of ${relation.name} satisfies ${wanted}; available: ${[...new Set(available)].join(', ')}`;
  }
}

function indexFor(packages: BinaryPackage[] | PackageIndex, arch: string): PackageIndex {
  if (!Array.isArray(packages)) {
    if (packages.arch !== arch) throw new Error(`index built for ${packages.arch}, resolving for ${arch}`);
    return packages;
  }
  let perArch = indexCache.get(packages);
  if (!perArch) {
    perArch = new Map();
    indexCache.set(packages, perArch);
  }
  let index = perArch.get(arch);
  if (!index) {
    index = buildIndex(packages, arch);
    perArch.set(arch, index);
  }
  return index;
}

function requestedPackage(index: PackageIndex, resolver: Resolver, request: string): BinaryPackage {
  const eq = request.indexOf('=');
  const name = eq >= 0 ? request.slice(0, eq) : request;
  const version = eq >= 0 ? request.slice(eq + 1) : undefined;
  const versions = index.byName.get(name);
  if (!versions) {
    const providers = [...new Set((index.providers.get(name) ?? []).map((p) => p.pkg.name))];
    const current = providers.filter((n) => resolver.solutionsFor({ name }).some((p) => p.name === n));
    if (version === undefined && current.length === 1) return resolver.candidate(current[0]!)!;
    if (providers.length > 0) {
      throw new HookError(
        'E_RESOLVE',
        `${name} is a virtual package provided by ${providers.sort().join(', ')}`,
        {
          hint: 'Request one of the providing packages by name.',
        },
      );
    }
    const suggestions = suggest(name, index.byName.keys());
    throw new HookError('E_UNKNOWN_PACKAGE', `Unknown package "${name}" for ${index.arch}`, {
      hint:
        suggestions.length > 0
          ? `Did you mean: ${suggestions.join(', ')}?`
          : 'Check the name and the suites/components configured.',
    });
  }
  if (version === undefined) return versions[0]!;
  const exact =
    versions.find((v) => v.version === version) ??
    versions.find((v) => compareVersions(v.version, version) === 0);
  if (!exact) {
    throw new HookError(
      'E_RESOLVE',
      `Version "${version}" of ${name} is not available; available: ${versions.map((v) => v.version).join(', ')}`,
    );
  }
  return exact;
}

/**
 * Resolves requested packages (`name` or `name=version`) to the full set to install on `arch`.
 * Throws E_UNKNOWN_PACKAGE for unknown names and E_RESOLVE (with the dependency chain) when a
 * requested package's dependencies cannot be met.
 */
export function resolve(
  packages: BinaryPackage[] | PackageIndex,
  requests: string[],
  options: ResolveOptions,
): Resolution {
  const index = indexFor(packages, options.arch);
  const resolver = new Resolver(index, options);
  const roots: BinaryPackage[] = [];
  for (const request of requests) {
    const pkg = requestedPackage(index, resolver, request.trim());
    resolver.setCandidate(pkg);
    if (!roots.includes(pkg)) roots.push(pkg);
  }
  // Like apt-get install: mark every request first, then pull in dependencies one request at a time.
  for (const pkg of roots) resolver.protect(pkg, []);
  for (const pkg of roots) resolver.markInstall(pkg, [], true);
  checkComplete(resolver);
  const selected = resolver
    .selectedPackages()
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const reasons = new Map<string, string[]>();
  for (const pkg of selected) reasons.set(pkg.name, resolver.reasons.get(pkg.name) ?? [pkg.name]);
  return { packages: selected, reasons };
}

/** Every marked package must have its critical dependencies met; otherwise explain the first gap. */
function checkComplete(resolver: Resolver): void {
  for (const pkg of resolver.selectedPackages()) {
    for (const group of dependenciesOf(pkg, resolver.index.arch).critical) {
      if (resolver.groupSatisfied(group)) continue;
      const chain = resolver.reasons.get(pkg.name) ?? [pkg.name];
      const why = resolver.explainGroup(group, new Set(chain));
      throw new HookError(
        'E_RESOLVE',
        `Cannot resolve dependencies: ${[...chain, formatGroup(group)].join(' → ')} → ${why}`,
        {
          hint: 'Check the suites and components configured, or pin a different version of the requested package.',
        },
      );
    }
  }
}
