/**
 * Spec checks that need a package's file list, which the Debian indexes do not carry: kernel
 * module patterns need the kernel package, `systemd.enable`/`mask` need the installed tree.
 * Each reports every problem at once, at its node of the spec, with near matches as hints.
 * Everything that needs no package is checked when the spec is loaded (schema.ts, load.ts).
 */
import picomatch from 'picomatch';
import { isModulePath, moduleNameFromPath } from '../kernel/modinfo.ts';
import { findUnit } from '../rootfs/systemd-units.ts';
import { type Tree, treePath } from '../tree/tree.ts';
import { suggest } from '../util/suggest.ts';
import { type DocPath, formatDocPath, type LoadedSpec, SpecError, type SpecProblem } from './load.ts';

type Located = Pick<LoadedSpec, 'place'>;

/** A problem at a node of the merged spec, in the file of the chain that wrote it. */
function problemAt(loaded: Located, path: DocPath, message: string, hint?: string): SpecProblem {
  const { file, line, col, docPath } = loaded.place(path);
  return { file, line, col, path: formatDocPath(docPath), message, ...(hint === undefined ? {} : { hint }) };
}

/** `(usr/)lib/modules/<version>/<path>` of a package's module files → `<path>`s, in package order. */
export function modulePathsOf(entries: Iterable<{ path: string; type: string }>): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    const match = /^(?:\.\/)?(?:usr\/)?lib\/modules\/[^/]+\/(.+)$/.exec(entry.path);
    if (match && isModulePath(match[1] as string)) out.push(match[1] as string);
  }
  return out;
}

const normalizeName = (name: string) => name.replaceAll('-', '_');

/**
 * Throws a SpecError naming every `kernel.modules` pattern that matches no module of the
 * kernel package (`modulePaths`: paths relative to lib/modules/<version>/), with near
 * matches. Patterns are matched as the kernel stage matches them (kernel/select.ts): with a
 * `/` a glob on paths, else a module name (`-` and `_` alike) or a glob on names. A `!`
 * pattern that excludes nothing is not a problem: one spec serves several architectures
 * (arm64 has no kernel/drivers/scsi/pcmcia/, which the default spec excludes on amd64).
 */
export function checkModulePatterns(
  loaded: Located & { spec: { kernel: { modules: readonly string[] } } },
  modulePaths: readonly string[],
): void {
  const problems = modulePatternProblems(loaded, loaded.spec.kernel.modules, modulePaths);
  if (problems.length > 0) throw new SpecError(problems);
}

export function modulePatternProblems(
  loaded: Located,
  patterns: readonly string[],
  modulePaths: readonly string[],
): SpecProblem[] {
  const names = new Set(modulePaths.map(moduleNameFromPath));
  let dirs: Set<string> | undefined;
  const problems: SpecProblem[] = [];
  patterns.forEach((raw, i) => {
    if (raw.startsWith('!')) return;
    const pattern = raw;
    const at: DocPath = ['kernel', 'modules', i];
    const what = 'matches';
    if (pattern.includes('/')) {
      const matches = picomatch(pattern, { dot: true });
      if (modulePaths.some((p) => matches(p))) return;
      dirs ??= directoriesOf(modulePaths);
      problems.push(
        problemAt(
          loaded,
          at,
          `"${raw}" ${what} no module of the kernel package`,
          pathHint(pattern, dirs, modulePaths),
        ),
      );
      return;
    }
    const name = normalizeName(pattern);
    if (picomatch.scan(pattern).isGlob) {
      const matches = picomatch(name);
      for (const known of names) if (matches(known)) return;
      const literal = name.replace(/[*?[{(!+@].*$/, '');
      const near = literal === '' ? [] : [...names].filter((n) => n.startsWith(literal.slice(0, 2))).sort();
      problems.push(
        problemAt(
          loaded,
          at,
          `"${raw}" ${what} no module name of the kernel package`,
          near.length > 0
            ? `Module names starting with "${literal.slice(0, 2)}": ${near.slice(0, 8).join(', ')}${near.length > 8 ? ', …' : ''}`
            : 'Module names are file names without .ko*, with "_" for "-"',
        ),
      );
      return;
    }
    if (names.has(name)) return;
    const near = [...new Set([...suggest(name, names, 3), ...containing(name, names)])].slice(0, 5);
    problems.push(
      problemAt(
        loaded,
        at,
        `no kernel module named "${pattern}" in the kernel package`,
        near.length > 0
          ? `Did you mean ${near.join(', ')}? (It may also be built into the kernel.)`
          : 'It may be built into the kernel (modules.builtin), or this kernel does not have it',
      ),
    );
  });
  return problems;
}

/** Names containing `word` (e.g. `e1000` → `e1000e`), shortest first. */
function containing(word: string, names: Iterable<string>): string[] {
  if (word.length < 3) return [];
  return [...names]
    .filter((n) => n !== word && n.includes(word))
    .sort((a, b) => a.length - b.length || (a < b ? -1 : 1))
    .slice(0, 3);
}

function directoriesOf(paths: readonly string[]): Set<string> {
  const dirs = new Set<string>();
  for (const path of paths) {
    for (let slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1))
      dirs.add(path.slice(0, slash));
  }
  return dirs;
}

/**
 * For a path glob that matches nothing: the folder it names does not exist (then the nearest
 * spelling of the first missing folder), or it does and the file part is wrong (then examples).
 */
function pathHint(pattern: string, dirs: Set<string>, paths: readonly string[]): string {
  const base = picomatch.scan(pattern).base;
  if (base !== '' && !dirs.has(base) && !paths.includes(base)) {
    const parts = base.split('/');
    let existing = '';
    for (const part of parts) {
      const next = existing === '' ? part : `${existing}/${part}`;
      if (!dirs.has(next)) {
        const siblings = [...dirs]
          .filter(
            (d) =>
              d.startsWith(existing === '' ? '' : `${existing}/`) &&
              !d.slice(existing === '' ? 0 : existing.length + 1).includes('/'),
          )
          .map((d) => d.slice(d.lastIndexOf('/') + 1));
        const near = suggest(part, siblings, 3);
        if (near.length > 0) {
          const fixed = near.map(
            (n) => `"${pattern.replace(next, existing === '' ? n : `${existing}/${n}`)}"`,
          );
          return `There is no ${next}/ in the kernel package; did you mean ${fixed.join(' or ')}?`;
        }
        return `There is no ${next}/ in the kernel package${existing === '' ? '' : `; ${existing}/ holds ${siblings.slice(0, 8).sort().join(', ')}`}`;
      }
      existing = next;
    }
  }
  const under = base === '' ? [...paths] : paths.filter((p) => p.startsWith(`${base}/`));
  if (under.length === 0)
    return 'Module paths look like kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz';
  return `${under.length} modules under ${base === '' ? 'the module tree' : `${base}/`}, e.g. ${under.slice(0, 3).join(', ')}; module files end in .ko, .ko.xz or .ko.zst`;
}

/** Where unit files live, as systemd-units.ts looks them up (lib/ is usr/lib/ when merged). */
const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];
const RUNTIME_UNIT = /\.(device|scope|mount|automount|swap)$/;
const UNIT_FILE = /\.(service|socket|device|mount|automount|swap|target|path|timer|slice|scope)$/;

/**
 * Throws a SpecError naming every `systemd.enable` unit with no unit file in the image, and
 * every `systemd.mask` unit that no file or link in the unit folders names (masking a unit
 * that does not exist does nothing: a typo). Templates count for their instances
 * (`getty@tty1.service` is `getty@.service`). `extraUnits`: units that will be added to the
 * tree later (Hook's own) when this runs before they are.
 */
export function checkUnits(
  loaded: Located & { spec: { systemd: { enable: readonly string[]; mask: readonly string[] } } },
  tree: Tree,
  extraUnits: Iterable<string> = [],
): void {
  const known = unitNames(tree);
  const extra = new Set(extraUnits);
  for (const unit of extra) known.add(unit);
  const problems: SpecProblem[] = [];
  const hintFor = (unit: string): string => {
    const near = suggest(unit, known, 3);
    return near.length > 0
      ? `Did you mean ${near.join(', ')}?`
      : 'Check the unit name, and that the package providing it is in packages:';
  };
  const template = (unit: string) => {
    const at = unit.indexOf('@');
    return at > 0 ? `${unit.slice(0, at + 1)}${unit.slice(unit.lastIndexOf('.'))}` : undefined;
  };
  loaded.spec.systemd.enable.forEach((unit, i) => {
    if (extra.has(unit) || (template(unit) !== undefined && extra.has(template(unit) as string))) return;
    if (findUnit(tree, unit) !== undefined) return;
    const alias = aliasTarget(tree, unit);
    problems.push(
      alias === undefined
        ? problemAt(loaded, ['systemd', 'enable', i], `no unit file ${unit} in the image`, hintFor(unit))
        : problemAt(
            loaded,
            ['systemd', 'enable', i],
            `${unit} is an alias of ${alias}, not a unit file`,
            `Enable ${alias}: its [Install] section creates the alias`,
          ),
    );
  });
  loaded.spec.systemd.mask.forEach((unit, i) => {
    const t = template(unit);
    if (known.has(unit) || (t !== undefined && known.has(t))) return;
    // Devices, scopes, mounts and swaps are often made at run time (udev, fstab, generators).
    if (RUNTIME_UNIT.test(unit)) return;
    problems.push(
      problemAt(loaded, ['systemd', 'mask', i], `no unit ${unit} in the image to mask`, hintFor(unit)),
    );
  });
  if (problems.length > 0) throw new SpecError(problems);
}

/** Names of the unit files and links in the unit folders of the tree. */
export function unitNames(tree: Tree): Set<string> {
  const names = new Set<string>();
  for (const dir of UNIT_DIRS) {
    const resolved = tree.resolveParents(treePath(`${dir}/x`));
    const parent = resolved.slice(0, resolved.lastIndexOf('/'));
    for (const child of tree.children(treePath(parent))) {
      const name = child.slice(child.lastIndexOf('/') + 1);
      const node = tree.get(child);
      if (UNIT_FILE.test(name) && (node?.kind === 'file' || node?.kind === 'symlink')) names.add(name);
    }
  }
  return names;
}

/** The unit a link in a unit folder points to (`dbus-org.freedesktop.resolve1.service` → …). */
function aliasTarget(tree: Tree, unit: string): string | undefined {
  for (const dir of UNIT_DIRS) {
    const node = tree.get(tree.resolveParents(treePath(`${dir}/${unit}`)));
    if (node?.kind === 'symlink' && node.target !== '/dev/null') {
      return node.target.slice(node.target.lastIndexOf('/') + 1);
    }
  }
  return undefined;
}
