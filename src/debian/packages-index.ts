/** Turns `Packages` index stanzas into BinaryPackage records. */
import { HookError } from '../errors.ts';
import type { Stanza } from './deb822.ts';
import { parseDeb822 } from './deb822.ts';
import type { BinaryPackage, PackageOrigin } from './types.ts';

const MULTI_ARCH = new Set(['same', 'foreign', 'allowed', 'no']);

export function toBinaryPackage(
  stanza: Stanza,
  origin: PackageOrigin,
  entry: number,
  source: string,
): BinaryPackage {
  const need = (field: string): string => {
    const value = stanza[field];
    if (value === undefined || value === '') {
      throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: missing ${field} field`);
    }
    return value;
  };
  const size = Number(need('Size'));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: bad Size "${stanza.Size}"`);
  }
  const sha256 = need('SHA256').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: bad SHA256 "${sha256}"`);
  }
  const multiArch = stanza['Multi-Arch'];
  const installed = stanza['Installed-Size'];
  const pkg: BinaryPackage = {
    name: need('Package'),
    version: need('Version'),
    architecture: need('Architecture'),
    essential: stanza.Essential === 'yes',
    filename: need('Filename'),
    size,
    sha256,
    origin,
    fields: stanza,
  };
  if (multiArch && MULTI_ARCH.has(multiArch)) pkg.multiArch = multiArch as BinaryPackage['multiArch'];
  if (installed !== undefined) pkg.installedSizeKiB = Number(installed);
  const optional: Array<[keyof BinaryPackage, string]> = [
    ['priority', 'Priority'],
    ['section', 'Section'],
    ['source', 'Source'],
    ['depends', 'Depends'],
    ['preDepends', 'Pre-Depends'],
    ['recommends', 'Recommends'],
    ['provides', 'Provides'],
    ['conflicts', 'Conflicts'],
    ['breaks', 'Breaks'],
  ];
  for (const [key, field] of optional) {
    const value = stanza[field];
    if (value !== undefined) (pkg as unknown as Record<string, unknown>)[key] = value.replace(/\n/g, ' ');
  }
  return pkg;
}

export function parsePackagesIndex(text: string, origin: PackageOrigin, source: string): BinaryPackage[] {
  return parseDeb822(text, source).map((stanza, i) => toBinaryPackage(stanza, origin, i + 1, source));
}
