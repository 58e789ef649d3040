/**
 * Enabling and masking systemd units declaratively: what `systemctl enable` does, computed
 * from the units' [Install] sections and written as symlinks under /etc/systemd/system.
 */
import { HookError } from '../errors.ts';
import { symlinkNode, type Tree, type TreePath, treePath } from '../tree/tree.ts';

const UNIT_DIRS = ['etc/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];

export interface InstallSection {
  wantedBy: string[];
  requiredBy: string[];
  upheldBy: string[];
  also: string[];
  alias: string[];
  defaultInstance?: string;
}

export function parseInstallSection(text: string): InstallSection {
  const section: InstallSection = { wantedBy: [], requiredBy: [], upheldBy: [], also: [], alias: [] };
  let inInstall = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inInstall = line === '[Install]';
      continue;
    }
    if (!inInstall || line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const values = line
      .slice(eq + 1)
      .trim()
      .split(/\s+/)
      .filter((v) => v !== '');
    if (key === 'WantedBy') section.wantedBy.push(...values);
    else if (key === 'RequiredBy') section.requiredBy.push(...values);
    else if (key === 'UpheldBy') section.upheldBy.push(...values);
    else if (key === 'Also') section.also.push(...values);
    else if (key === 'Alias') section.alias.push(...values);
    else if (key === 'DefaultInstance') section.defaultInstance = values[0];
  }
  return section;
}

/** Finds a unit file (or its template `foo@.service` for `foo@bar.service`). */
export function findUnit(tree: Tree, unit: string): { path: TreePath; text: string } | undefined {
  const candidates = [unit];
  const at = unit.indexOf('@');
  if (at > 0) candidates.push(`${unit.slice(0, at + 1)}${unit.slice(unit.lastIndexOf('.'))}`);
  for (const name of candidates) {
    for (const dir of UNIT_DIRS) {
      const path = tree.resolveParents(treePath(`${dir}/${name}`));
      const node = tree.get(path);
      if (node?.kind === 'file') return { path, text: new TextDecoder().decode(node.content.data) };
    }
  }
  return undefined;
}

/** `systemctl enable <unit>`: wants/requires symlinks, aliases, and units named by Also=. */
export function enableUnit(tree: Tree, unit: string, seen = new Set<string>()): void {
  if (seen.has(unit)) return;
  seen.add(unit);
  const found = findUnit(tree, unit);
  if (!found) {
    throw new HookError('E_SPEC', `Cannot enable systemd unit ${unit}: no such unit file in the OS`, {
      hint: 'Check the unit name and that the package providing it is in `packages:`.',
    });
  }
  const install = parseInstallSection(found.text);
  const isTemplate = /@\./.test(unit);
  const instance =
    isTemplate && install.defaultInstance ? unit.replace('@.', `@${install.defaultInstance}.`) : unit;
  const linkTarget = `/${found.path}`;
  const link = (dir: string, name: string) =>
    tree.set(treePath(`etc/systemd/system/${dir}${name}`), symlinkNode(linkTarget));
  for (const target of install.wantedBy) link(`${target}.wants/`, instance);
  for (const target of install.requiredBy) link(`${target}.requires/`, instance);
  for (const target of install.upheldBy) link(`${target}.upholds/`, instance);
  for (const alias of install.alias) link('', alias);
  for (const also of install.also) enableUnit(tree, also, seen);
}

/** `systemctl mask <unit>`. */
export function maskUnit(tree: Tree, unit: string): void {
  tree.set(treePath(`etc/systemd/system/${unit}`), symlinkNode('/dev/null'));
}

export function setDefaultTarget(tree: Tree, target: string): void {
  tree.set(treePath('etc/systemd/system/default.target'), symlinkNode(`/usr/lib/systemd/system/${target}`));
}
