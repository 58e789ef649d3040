/**
 * Turns `Packages` index stanzas into BinaryPackage records. A trixie main index is 56 MB and
 * 70k stanzas, read on every resolve, so it is scanned in place: only the fields a record
 * carries are cut out of the text, and `fields` (every field, rarely read) is parsed from the
 * stanza's text on first access.
 */
import { HookError } from '../errors.ts';
import type { Stanza } from './deb822.ts';
import { fieldColon, isBlankLine, lineNumberAt, parseDeb822, trimmedSlice } from './deb822.ts';
import type { BinaryPackage, PackageOrigin } from './types.ts';

const MULTI_ARCH = new Set(['same', 'foreign', 'allowed', 'no']);

/** Record keys filled from optional fields (newlines of multi-line values become spaces). */
const OPTIONAL: Array<[keyof BinaryPackage, string]> = [
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

/** Every field `packageFrom` reads. */
const RECORD_FIELDS = [
  'Package',
  'Version',
  'Architecture',
  'Essential',
  'Filename',
  'Size',
  'SHA256',
  'Multi-Arch',
  'Installed-Size',
  ...OPTIONAL.map(([, field]) => field),
];

/** RECORD_FIELDS by name length, so a field line is matched without slicing its name. */
const RECORD_FIELDS_BY_LENGTH: string[][] = [];
for (const name of RECORD_FIELDS) {
  const sameLength = RECORD_FIELDS_BY_LENGTH[name.length] ?? [];
  sameLength.push(name);
  RECORD_FIELDS_BY_LENGTH[name.length] = sameLength;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;

export function toBinaryPackage(
  stanza: Stanza,
  origin: PackageOrigin,
  entry: number,
  source: string,
): BinaryPackage {
  return packageFrom(stanza, origin, entry, source, stanza);
}

/** The record of one stanza; `values` needs only RECORD_FIELDS. No closures: this runs 70k times. */
function packageFrom(
  values: Stanza,
  origin: PackageOrigin,
  entry: number,
  source: string,
  fields: Stanza,
): BinaryPackage {
  const size = Number(need(values, 'Size', entry, source));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: bad Size "${values.Size}"`);
  }
  const sha256 = need(values, 'SHA256', entry, source).toLowerCase();
  if (!isSha256Hex(sha256)) {
    throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: bad SHA256 "${sha256}"`);
  }
  const multiArch = values['Multi-Arch'];
  const installed = values['Installed-Size'];
  const pkg: BinaryPackage = {
    name: need(values, 'Package', entry, source),
    version: need(values, 'Version', entry, source),
    architecture: need(values, 'Architecture', entry, source),
    essential: values.Essential === 'yes',
    filename: need(values, 'Filename', entry, source),
    size,
    sha256,
    origin,
    fields,
  };
  if (multiArch && MULTI_ARCH.has(multiArch)) pkg.multiArch = multiArch as BinaryPackage['multiArch'];
  if (installed !== undefined) pkg.installedSizeKiB = Number(installed);
  for (const [key, field] of OPTIONAL) {
    const value = values[field];
    if (value !== undefined) {
      (pkg as unknown as Record<string, unknown>)[key] = value.includes('\n')
        ? value.replace(/\n/g, ' ')
        : value;
    }
  }
  return pkg;
}

function need(values: Stanza, field: string, entry: number, source: string): string {
  const value = values[field];
  if (value === undefined || value === '') {
    throw new HookError('E_INDEX', `Cannot parse ${source} entry ${entry}: missing ${field} field`);
  }
  return value;
}

/** Same as /^[0-9a-f]{64}$/.test, without the regular expression machinery. */
function isSha256Hex(text: string): boolean {
  if (text.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * `fields` of a record: a proxy that parses the stanza's text on first use. Most records'
 * `fields` are never read, and a proxy costs one object where parsing costs dozens.
 */
class LazyStanza implements ProxyHandler<Stanza> {
  private parsed = false;

  constructor(
    private readonly text: string,
    private readonly start: number,
    private readonly end: number,
    private readonly source: string,
  ) {}

  private fill(target: Stanza): Stanza {
    if (!this.parsed) {
      this.parsed = true;
      Object.assign(target, parseDeb822(this.text.slice(this.start, this.end), this.source)[0]);
    }
    return target;
  }

  get(target: Stanza, key: string | symbol, receiver: unknown): unknown {
    return Reflect.get(this.fill(target), key, receiver);
  }
  has(target: Stanza, key: string | symbol): boolean {
    return Reflect.has(this.fill(target), key);
  }
  ownKeys(target: Stanza): (string | symbol)[] {
    return Reflect.ownKeys(this.fill(target));
  }
  getOwnPropertyDescriptor(target: Stanza, key: string | symbol): PropertyDescriptor | undefined {
    return Reflect.getOwnPropertyDescriptor(this.fill(target), key);
  }
  set(target: Stanza, key: string | symbol, value: unknown, receiver: unknown): boolean {
    return Reflect.set(this.fill(target), key, value, receiver);
  }
  deleteProperty(target: Stanza, key: string | symbol): boolean {
    return Reflect.deleteProperty(this.fill(target), key);
  }
  defineProperty(target: Stanza, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    return Reflect.defineProperty(this.fill(target), key, descriptor);
  }
}

function recordFieldName(text: string, start: number, colon: number): string | undefined {
  const candidates = RECORD_FIELDS_BY_LENGTH[colon - start];
  if (candidates === undefined) return undefined;
  for (const name of candidates) if (text.startsWith(name, start)) return name;
  return undefined;
}

/**
 * Every record of a Packages index, in file order. Same syntax rules and messages as
 * `parseDeb822` followed by `toBinaryPackage` on each stanza, in one pass over the text.
 */
export function parsePackagesIndex(text: string, origin: PackageOrigin, source: string): BinaryPackage[] {
  return new IndexScanner(text, origin, source).scan();
}

/** State of one pass over an index (a class rather than closures: the loop runs 2M times). */
class IndexScanner {
  readonly packages: BinaryPackage[] = [];
  /** A bad record is reported only if the whole text parses, as parsing all stanzas first would. */
  recordError: unknown;
  /** Record fields of the current stanza; undefined between stanzas. */
  values: Stanza | undefined;
  stanzaStart = 0;
  /** The field continuation lines belong to: a record field, '' for any other, undefined outside one. */
  lastField: string | undefined;
  continued: string[] | undefined;

  constructor(
    readonly text: string,
    readonly origin: PackageOrigin,
    readonly source: string,
  ) {}

  scan(): BinaryPackage[] {
    const text = this.text;
    const length = text.length;
    let start = 0;
    while (start <= length) {
      let next = text.indexOf('\n', start);
      if (next < 0) next = length;
      const end = next > start && text.charCodeAt(next - 1) === CR ? next - 1 : next;
      const first = text.charCodeAt(start);
      if (first === SPACE || first === TAB) {
        if (isBlankLine(text, start, end)) this.closeStanza(start);
        else this.continuation(start, end);
      } else if (first === HASH) {
        // comment
      } else if (start === end || ((first < 0x21 || first > 0x7e) && isBlankLine(text, start, end))) {
        this.closeStanza(start);
      } else {
        this.field(start, end);
      }
      start = next + 1;
    }
    this.closeStanza(length);
    if (this.recordError !== undefined) throw this.recordError;
    return this.packages;
  }

  private field(start: number, end: number): void {
    const text = this.text;
    const colon = fieldColon(text, start, end);
    if (colon < 0) {
      throw new HookError(
        'E_INDEX',
        `Cannot parse ${this.source} line ${lineNumberAt(text, start)}: expected "Field: value"`,
      );
    }
    if (this.continued) this.closeField();
    if (!this.values) {
      this.values = {};
      this.stanzaStart = start;
    }
    const name = recordFieldName(text, start, colon);
    if (name === undefined) {
      this.lastField = '';
    } else {
      this.lastField = name;
      this.values[name] = trimmedSlice(text, colon + 1, end);
    }
  }

  private continuation(start: number, end: number): void {
    if (this.lastField === undefined) {
      throw new HookError(
        'E_INDEX',
        `Cannot parse ${this.source} line ${lineNumberAt(this.text, start)}: continuation line outside a field`,
      );
    }
    if (this.lastField === '' || !this.values) return;
    this.continued ??= [this.values[this.lastField] as string];
    this.continued.push(this.text.slice(start + 1, end));
  }

  private closeField(): void {
    if (this.values && this.continued && this.lastField) {
      this.values[this.lastField] = this.continued.join('\n');
    }
    this.continued = undefined;
  }

  private closeStanza(end: number): void {
    if (this.continued) this.closeField();
    this.lastField = undefined;
    const values = this.values;
    if (!values) return;
    this.values = undefined;
    const entry = this.packages.length + 1;
    try {
      const fields = new Proxy({}, new LazyStanza(this.text, this.stanzaStart, end, this.source));
      this.packages.push(packageFrom(values, this.origin, entry, this.source, fields));
    } catch (error) {
      this.recordError ??= error;
      this.packages.push(undefined as unknown as BinaryPackage); // keeps later entry numbers right
    }
  }
}
