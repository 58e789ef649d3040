/**
 * Reads `hook.yaml`, validates it against the schema and reports every problem at once, each
 * as `<file>:<line>:<col>: <path in document>: <what is wrong>`. The loaded spec keeps its
 * YAML documents so later stages (the resolver's "unknown package") can point at a node too.
 *
 * A spec may start with `extends: default` (the built-in spec) or `extends: <path>` (another
 * spec, relative to this one; chains allowed, cycles refused): it is then the base merged with
 * its own keys, by the rules in merge.ts. Each value remembers the file that wrote it, so every
 * error — schema, sources, or found at build time — names that file's line and column.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { HookError } from '../errors.ts';
import { repoPath } from '../repo.ts';
import { didYouMean } from '../util/suggest.ts';
import { type DocPath, formatDocPath } from './docpath.ts';
import {
  documentProblems,
  MAX_ALIAS_COUNT,
  MAX_DEPTH,
  MAX_EXTENDS_CHAIN,
  MAX_SPEC_BYTES,
  nestingProblem,
  sizeProblem,
} from './limits.ts';
import { type Layer, mergeLayer, OVERRIDE_TAG, originAt, RESET_TAG } from './merge.ts';
import { quote } from './names.ts';
import { type Spec, specSchema } from './schema.ts';

export { didYouMean } from '../util/suggest.ts';
export { type DocPath, formatDocPath } from './docpath.ts';

/** The default spec, built into the tool: hook.yaml at the repository root. */
export const DEFAULT_SPEC_FILE = repoPath('hook.yaml');
/** `extends: default` names the built-in spec. */
export const EXTENDS_DEFAULT = 'default';

export interface SpecPosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

/** A position in a named spec file. */
export interface SpecPlace extends SpecPosition {
  file: string;
  /** The node's path in that file (`packages[2]` of the file, not of the merged list). */
  docPath: DocPath;
}

/** One file of an `extends:` chain. */
export interface SpecLayerFile {
  /** As named in messages (as given, or relative to the working directory). */
  file: string;
  /** Absolute path. */
  path: string;
  /** Absolute folder: the file's `files[].source` and `registries[].ca` are relative to it. */
  dir: string;
}

export interface LoadedSpec {
  spec: Spec;
  /** The spec file as named in messages (as given, or relative to the working directory). */
  file: string;
  /** Absolute path of the spec file. */
  path: string;
  /** Absolute directory of the spec file; `output.dir` is relative to it. */
  dir: string;
  /** Every file of the `extends:` chain, the base first and this spec last. */
  layers: readonly SpecLayerFile[];
  /** Whether `files[].source` may name files outside `dir` (`--allow-outside-sources`). */
  allowOutsideSources: boolean;
  /** Where a node of the document is (or its nearest existing ancestor); undefined for an empty file. */
  locate(path: DocPath): SpecPosition | undefined;
  /** The file, line and column that wrote the value at `path` of the merged spec. */
  place(path: DocPath): SpecPlace;
  /** The folder of the file that wrote the value at `path` (sources are relative to it). */
  dirOf(path: DocPath): string;
}

export interface SpecProblem {
  file: string;
  line: number;
  col: number;
  /** Path in the document, e.g. `kernel.modules[2]`. */
  path: string;
  message: string;
  /** What to do about it; the error's hint gathers those of its problems. */
  hint?: string;
}

/** A broken spec can have thousands of problems; the first ones are enough to act on. */
const MAX_PROBLEMS_SHOWN = 50;

/** All problems of one spec (and the files it extends); the message lists them one per line (the first 50). */
export class SpecError extends HookError {
  readonly problems: SpecProblem[];

  constructor(problems: SpecProblem[], hint?: string) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
    const hints = [...new Set(shown.flatMap((p) => (p.hint === undefined ? [] : [p.hint])))];
    const joined = hint ?? (hints.length > 0 ? hints.join('\n') : undefined);
    const more = problems.length - shown.length;
    const lines = shown.map(formatProblem);
    if (more > 0) lines.push(`… and ${more} more problems`);
    super('E_SPEC', lines.join('\n'), joined === undefined ? {} : { hint: joined });
    this.problems = problems;
  }
}

export function formatProblem(problem: SpecProblem): string {
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.path}: ${problem.message}`;
}

/**
 * An error about one node of a loaded spec, found after loading (e.g. by the resolver):
 * `hook.yaml:12:5: packages[3]: unknown package "systemdd" (did you mean systemd?)`, in the
 * file of the chain that wrote that node.
 */
export function specError(
  loaded: Pick<LoadedSpec, 'place'>,
  path: DocPath,
  message: string,
  hint?: string,
): HookError {
  const { file, line, col, docPath } = loaded.place(path);
  return new SpecError([{ file, line, col, path: formatDocPath(docPath), message }], hint);
}

/**
 * Where `hook build` writes a spec's outputs: `output.dir`, relative to the spec built; a debug
 * build (`--debug`) writes beside it, to `<output.dir>-debug`, as Hook keeps debug builds apart
 * (its rules.mk: out/<tag>/dbg/<arch>, release builds in out/<tag>/rel/<arch>), so the two never
 * overwrite each other's artifacts (whose names Tinkerbell fixes) or lock.
 */
export function specOutputDir(
  loaded: Pick<LoadedSpec, 'file' | 'spec'>,
  options: { debug?: boolean } = {},
): string {
  const dir = resolve(dirname(loaded.file), loaded.spec.output.dir);
  return options.debug ? `${dir}-debug` : dir;
}

/**
 * Loads and validates a spec: the user's file, or the built-in default when `file` is undefined.
 * Throws a SpecError (E_SPEC) listing every problem; E_USAGE when `file` does not exist.
 */
export function loadSpec(file?: string, options: ParseOptions = {}): LoadedSpec {
  const path = file === undefined ? DEFAULT_SPEC_FILE : resolve(file);
  const shown = file ?? displayName(path);
  return parseSpec(readSpecText(path, shown, 'usage'), shown, dirname(path), path, options);
}

export interface ParseOptions {
  /** Let `files[].source` name files outside the spec's folder (default: refused). */
  allowOutsideSources?: boolean | undefined;
}

/**
 * The spec's text, refused before it is read when it is over MAX_SPEC_BYTES: the size is
 * taken from the open file, and at most one byte more than the limit is ever read. A spec
 * named on the command line that does not exist is a usage error (`missing: 'usage'`).
 */
function readSpecText(path: string, shown: string, missing: 'usage' | 'spec' = 'spec'): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const tooBig = stat.isFile() ? sizeProblem(stat.size) : undefined;
    if (tooBig !== undefined) throw oversized(shown, tooBig);
    const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      // A pipe or a file that grew since fstat: stop one byte past the limit.
      if (length > MAX_SPEC_BYTES)
        throw oversized(shown, `the spec is over the limit of ${MAX_SPEC_BYTES} bytes`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (error instanceof HookError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    const hint = 'Give the path of a hook.yaml, or none to use the built-in default';
    if (missing === 'usage' && (reason === 'ENOENT' || reason === 'EISDIR' || reason === 'ENOTDIR'))
      throw new HookError(
        'E_USAGE',
        `No spec file ${shown}: ${reason === 'EISDIR' ? 'it is a directory' : 'it does not exist'}`,
        { hint, cause: error },
      );
    throw new HookError('E_SPEC', `Cannot read spec file ${shown}: ${reason}`, { hint, cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function oversized(file: string, why: string): SpecError {
  return new SpecError(
    [{ file, line: 1, col: 1, path: '(document)', message: why }],
    `A hook.yaml is a few KiB (the default is 9 KiB); check that ${file} is the spec you meant`,
  );
}

function displayName(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

/** One file of a chain, parsed and checked as YAML, its values not yet validated. */
interface ParsedLayer extends SpecLayerFile, Layer {
  doc: Document;
  position(offset: number): SpecPosition;
  /** Its `extends:` value, checked to be a non-empty string. */
  extends?: string;
}

/**
 * Validates spec text; `file` names it in messages and `dir` anchors `files[].source` and a
 * relative `extends:`.
 */
export function parseSpec(
  text: string,
  file: string,
  dir: string,
  path = resolve(dir, file),
  options: ParseOptions = {},
): LoadedSpec {
  const allowOutsideSources = options.allowOutsideSources === true;
  const layers = extendsChain(parseLayer(text, file, dir, path));

  const problems: SpecProblem[] = [];
  const mergeProblems: Parameters<typeof mergeLayer>[2] = [];
  let merged: ReturnType<typeof mergeLayer> | undefined;
  for (const layer of layers) merged = mergeLayer(merged, layer, mergeProblems);
  const root = merged as ReturnType<typeof mergeLayer>;
  const raw = root.value;

  const originOf = (docPath: DocPath): { layer: ParsedLayer; path: DocPath } => {
    const origin = originAt(root.origin, docPath);
    return { layer: layers[origin.layer] as ParsedLayer, path: origin.path };
  };
  const at = (layer: ParsedLayer, docPath: DocPath, node: Node | undefined): SpecPlace => ({
    file: layer.file,
    ...(node?.range ? layer.position(node.range[0]) : { line: 1, col: 1 }),
    docPath,
  });
  const place = (docPath: DocPath): SpecPlace => {
    const { layer, path: inLayer } = originOf(docPath);
    return at(layer, inLayer, nodeAt(layer.doc, inLayer));
  };
  /** An unknown key: at the key itself, in the file that wrote it. */
  const placeKey = (mapPath: DocPath, key: string): SpecPlace => {
    const { layer, path: inLayer } = originOf([...mapPath, key]);
    const map = nodeAt(layer.doc, inLayer.slice(0, -1));
    const pair = isMap(map) ? map.items.find((item) => keyOf(item.key) === key) : undefined;
    return at(layer, inLayer, isNodeWithRange(pair?.key) ? pair.key : map);
  };
  const dirOf = (docPath: DocPath): string => originOf(docPath).layer.dir;
  /** Paths in messages are those of the file named, so the line and the path agree. */
  const problem = (where: SpecPlace, message: string, hint?: string): SpecProblem => ({
    file: where.file,
    line: where.line,
    col: where.col,
    path: formatDocPath(where.docPath),
    message,
    ...(hint === undefined ? {} : { hint }),
  });

  for (const found of mergeProblems) {
    const layer = layers[found.layer] as ParsedLayer;
    problems.push(problem(at(layer, found.path, nodeAt(layer.doc, found.path)), found.message, found.hint));
  }
  const result = specSchema.safeParse(raw ?? {});
  if (!result.success) {
    for (const issue of result.error.issues) {
      for (const found of describeIssue(issue, raw)) {
        const where = found.key === undefined ? place(found.path) : placeKey(found.path, found.key);
        problems.push(problem(where, found.message, found.hint));
      }
    }
  }
  for (const bad of sourceProblems(raw, dirOf, allowOutsideSources))
    problems.push(problem(place(bad.path), bad.message, bad.hint));
  if (problems.length > 0 || !result.success) throw new SpecError(sorted(problems, layers));

  const spec = result.data;
  for (const [i, entry] of spec.files.entries())
    if (entry.source !== undefined) entry.source = resolve(dirOf(['files', i, 'source']), entry.source);
  for (const [i, entry] of spec.registries.entries())
    if (entry.ca !== undefined) entry.ca = resolve(dirOf(['registries', i, 'ca']), entry.ca);
  const top = layers[layers.length - 1] as ParsedLayer;
  return {
    spec,
    file,
    path,
    dir,
    layers: layers.map((l) => ({ file: l.file, path: l.path, dir: l.dir })),
    allowOutsideSources,
    locate: (docPath) => {
      // The top file's own document when only it is involved (no extends:), as before.
      if (layers.length === 1) {
        const node = nodeAt(top.doc, docPath);
        return node?.range ? top.position(node.range[0]) : undefined;
      }
      const { line, col } = place(docPath);
      return { line, col };
    },
    place,
    dirOf,
  };
}

/**
 * The chain of files from `top` through its `extends:` to the first file that extends
 * nothing, base first; each index is its place in the chain.
 */
function extendsChain(top: ParsedLayer): ParsedLayer[] {
  const chain = [top];
  const seen = new Set([realpathOr(top.path)]);
  for (let current = top; current.extends !== undefined; ) {
    const value = current.extends;
    const where = current;
    const fail = (message: string, hint?: string) =>
      new SpecError([
        {
          file: where.file,
          ...(nodeAt(where.doc, ['extends'])?.range
            ? where.position((nodeAt(where.doc, ['extends']) as Node).range?.[0] ?? 0)
            : { line: 1, col: 1 }),
          path: 'extends',
          message,
          ...(hint === undefined ? {} : { hint }),
        },
      ]);
    const target = value === EXTENDS_DEFAULT ? DEFAULT_SPEC_FILE : resolve(current.dir, value);
    if (chain.length >= MAX_EXTENDS_CHAIN)
      throw fail(`more than ${MAX_EXTENDS_CHAIN} specs extend one another`, 'Merge some of the files');
    let real: string;
    try {
      real = realpathSync(target);
    } catch {
      throw fail(
        `cannot extend ${quote(value)}: ${target} does not exist`,
        `extends: takes "${EXTENDS_DEFAULT}" (the built-in spec) or the path of a spec file, relative to this one`,
      );
    }
    if (seen.has(real)) {
      const names = [
        ...chain.map((l) => l.file).reverse(),
        value === EXTENDS_DEFAULT ? value : displayName(target),
      ];
      throw fail(
        `${names.join(' → ')} is a cycle`,
        'A spec cannot extend itself, directly or through others',
      );
    }
    if (!statSync(real).isFile()) throw fail(`cannot extend ${quote(value)}: ${target} is not a file`);
    seen.add(real);
    const shown = displayName(target);
    const base = parseLayer(readSpecText(target, shown), shown, dirname(target), target);
    chain.unshift(base);
    current = base;
  }
  chain.forEach((layer, index) => {
    layer.index = index;
  });
  return chain;
}

/** One file: YAML syntax, limits, aliases and tags checked; its values, `extends:` taken out. */
function parseLayer(text: string, file: string, dir: string, path: string): ParsedLayer {
  const tooBig = sizeProblem(Buffer.byteLength(text));
  if (tooBig !== undefined) throw oversized(file, tooBig);
  const lineCounter = new LineCounter();
  const limitError = (problem: { offset: number; message: string }[]) => {
    // Positions need the line starts, which the lexer-level check has not recorded yet.
    const counter = new LineCounter();
    counter.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) counter.addNewLine(i + 1);
    return new SpecError(
      problem.map((p) => ({ file, ...counter.linePos(p.offset), path: 'YAML', message: p.message })),
      `Nesting is limited to ${MAX_DEPTH} levels and aliases to ${MAX_ALIAS_COUNT}; hook.yaml needs neither much`,
    );
  };
  const deep = nestingProblem(text);
  if (deep !== undefined) throw limitError([deep]);
  // yaml's uniqueKeys compares each key with every earlier one (40 000 keys: 95 s); duplicate
  // keys are found below in one pass instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const position = (offset: number): SpecPosition => lineCounter.linePos(offset);
  const problem = (
    at: SpecPosition | undefined,
    docPath: DocPath | string,
    message: string,
    hint?: string,
  ) => ({
    file,
    ...(at ?? { line: 1, col: 1 }),
    path: typeof docPath === 'string' ? docPath : formatDocPath(docPath),
    message,
    ...(hint === undefined ? {} : { hint }),
  });

  const syntax = parseProblems(doc, position).map((p) => problem(p.at, 'YAML syntax', p.message));
  if (syntax.length > 0) throw new SpecError(sorted(syntax));
  // Before any alias is resolved: resolving one walks the whole document.
  const limits = documentProblems(doc);
  if (limits.length > 0) throw limitError(limits);
  const aliases = [...aliasProblems(doc, position), ...duplicateKeys(doc, position)].map((p) =>
    problem(p.at, 'YAML syntax', p.message),
  );
  if (aliases.length > 0) throw new SpecError(sorted(aliases));
  const tagged = readTags(doc, text);
  if (tagged.problems.length > 0)
    throw new SpecError(
      sorted(tagged.problems.map((p) => problem(position(p.offset), p.path, p.message))),
      `Tags are ${OVERRIDE_TAG} (replace the base's value) and ${RESET_TAG} (back to the default); quote a value that starts with "!"`,
    );

  readModesAsOctal(doc, text);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml's guard against alias expansion ("billion laughs"); the message names no node.
    const at = expandingAlias(doc);
    throw new SpecError(
      [
        problem(
          at?.range ? position(at.range[0]) : undefined,
          'YAML',
          `${at ? `alias *${at.source}: ` : ''}aliases expand to too much data (${(error as Error).message})`,
        ),
      ],
      'Write the values out, or use fewer aliases of aliases',
    );
  }
  let base: string | undefined;
  if (isRecord(raw) && Object.hasOwn(raw, 'extends')) {
    const value = raw.extends;
    if (typeof value !== 'string' || value.trim() === '') {
      const node = nodeAt(doc, ['extends']);
      throw new SpecError([
        problem(
          node?.range ? position(node.range[0]) : undefined,
          ['extends'],
          `expected "${EXTENDS_DEFAULT}" or the path of a spec file, got ${describeValue(value)}`,
        ),
      ]);
    }
    base = value;
    // The chain is resolved here; the merged spec does not extend anything.
    delete raw.extends;
  }
  return {
    index: 0,
    file,
    path,
    dir,
    doc,
    position,
    raw,
    tags: tagged.tags,
    ...(base === undefined ? {} : { extends: base }),
  };
}

/**
 * The YAML tags of a document: `!override` and `!reset` (merge.ts) are recorded by path and
 * taken off; a tag with no value, as in `- !docker-cli` (a removal written without quotes,
 * which YAML reads as a tag), is the string it looks like; any other tag is an error.
 */
function readTags(
  doc: Document,
  text: string,
): {
  tags: Map<string, typeof OVERRIDE_TAG | typeof RESET_TAG>;
  problems: { offset: number; path: DocPath; message: string }[];
} {
  const tags = new Map<string, typeof OVERRIDE_TAG | typeof RESET_TAG>();
  const problems: { offset: number; path: DocPath; message: string }[] = [];
  const walk = (node: unknown, path: DocPath) => {
    if (isAlias(node) || !isNodeWithRange(node)) return;
    const tag = (node as { tag?: string }).tag;
    // yaml writes the standard tags (!!str) in full (tag:yaml.org,2002:str); "!x" is a local tag.
    if (tag?.startsWith('!')) {
      const start = Math.max(0, text.lastIndexOf(tag, node.range?.[0] ?? 0));
      if (tag === OVERRIDE_TAG || tag === RESET_TAG) {
        tags.set(formatDocPath(path), tag);
        (node as { tag?: string }).tag = undefined;
      } else if (isScalar(node) && (node.value === null || node.value === '')) {
        node.value = tag;
        (node as { tag?: string }).tag = undefined;
        if (node.range) node.range = [start, node.range[1], node.range[2]];
      } else {
        problems.push({ offset: start, path, message: `unknown YAML tag ${tag}` });
      }
    }
    if (!isCollection(node)) return;
    node.items.forEach((item: unknown, i: number) => {
      if (isPair(item)) {
        const key = keyOf(item.key);
        if (typeof key === 'string' || typeof key === 'number') walk(item.value, [...path, key]);
      } else {
        walk(item, [...path, i]);
      }
    });
  };
  walk(doc.contents, []);
  return { tags, problems };
}

/** The alias yaml most likely gave up on: the first whose anchor holds aliases itself. */
function expandingAlias(doc: Document): (Node & { source: string }) | undefined {
  let first: (Node & { source: string }) | undefined;
  let nested: (Node & { source: string }) | undefined;
  visit(doc, {
    Alias(_, alias) {
      first ??= alias;
      const target = alias.resolve(doc);
      let holdsAlias = false;
      if (target)
        visit(target, {
          Alias: () => {
            holdsAlias = true;
            return visit.BREAK;
          },
        });
      if (holdsAlias) {
        nested = alias;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return nested ?? first;
}

/** By position; with several files, the files in chain order (the base first). */
function sorted(problems: SpecProblem[], layers: readonly { file: string }[] = []): SpecProblem[] {
  const order = (file: string) => layers.findIndex((l) => l.file === file);
  return problems.slice().sort((a, b) => order(a.file) - order(b.file) || a.line - b.line || a.col - b.col);
}

function parseProblems(doc: Document, position: (offset: number) => SpecPosition) {
  // yaml reports its own stack overflow on deep input as a parse error; say what it means.
  return doc.errors.map((error) => ({
    at: position(error.pos[0]),
    message: /call stack/i.test(error.message)
      ? `nesting is deeper than the parser can follow`
      : error.message,
  }));
}

function aliasProblems(doc: Document, position: (offset: number) => SpecPosition) {
  const found: { at: SpecPosition; message: string }[] = [];
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined && alias.range) {
        found.push({ at: position(alias.range[0]), message: `unknown alias *${alias.source}` });
      }
    },
  });
  return found;
}

/** Keys repeated in one mapping, each found with a set (scalar keys; others cannot clash in JSON terms). */
function duplicateKeys(doc: Document, position: (offset: number) => SpecPosition) {
  const found: { at: SpecPosition; message: string }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key)) continue;
        const id = `${typeof key.value}:${String(key.value)}`;
        if (seen.has(id) && key.range)
          found.push({ at: position(key.range[0]), message: 'Map keys must be unique' });
        seen.add(id);
      }
    },
  });
  return found;
}

/** The node at `path`, or the nearest ancestor that exists. */
function nodeAt(doc: Document, path: DocPath): Node | undefined {
  let node = resolveAlias(doc, doc.contents);
  for (const segment of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyOf(item.key) === segment);
      next = pair === undefined ? undefined : isNodeWithRange(pair.value) ? pair.value : pair.key;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    const resolved = resolveAlias(doc, next);
    if (resolved === undefined) break;
    node = resolved;
  }
  return node ?? undefined;
}

function resolveAlias(doc: Document, value: unknown): Node | undefined {
  if (isAlias(value)) return value.resolve(doc) ?? undefined;
  return isNodeWithRange(value) ? value : undefined;
}

function isNodeWithRange(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value && Array.isArray(value.range);
}

function keyOf(key: unknown): unknown {
  return isScalar(key) ? key.value : key;
}

/**
 * YAML 1.2 reads `mode: 0644` as the decimal number 644; file modes are octal, so a mode
 * written as bare digits is handed to the schema as the digits it was written with.
 */
function readModesAsOctal(doc: Document, text: string): void {
  const files = doc.get('files', true);
  if (!isSeq(files)) return;
  for (const item of files.items) {
    if (!isMap(item)) continue;
    const mode = item.get('mode', true);
    if (!isScalar(mode) || typeof mode.value !== 'number' || !mode.range) continue;
    const written = text.slice(mode.range[0], mode.range[1]);
    if (/^[0-9]+$/.test(written)) mode.value = written;
  }
}

/** Spec values naming a file to read at build time: `<list>[].<field>`, relative to its spec. */
const SOURCE_FIELDS: readonly [string, string, string][] = [
  ['files', 'source', 'source'],
  ['registries', 'ca', 'CA certificate'],
];

/**
 * `files[].source` and `registries[].ca` must name a regular file, and one inside the folder
 * of the spec that names it once symlinks are resolved (a spec from elsewhere must not copy
 * /etc/shadow into an image), unless outside sources are allowed.
 */
function sourceProblems(
  raw: unknown,
  dirOf: (path: DocPath) => string,
  allowOutside: boolean,
): { path: DocPath; message: string; hint?: string }[] {
  const found: { path: DocPath; message: string; hint?: string }[] = [];
  for (const [list, field, what] of SOURCE_FIELDS) {
    const entries = isRecord(raw) ? raw[list] : undefined;
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, index) => {
      const source = isRecord(entry) ? entry[field] : undefined;
      if (typeof source !== 'string' || source === '') return;
      const path = [list, index, field];
      if (source.includes('\0')) {
        found.push({ path, message: `the ${what} path contains a NUL byte` });
        return;
      }
      const dir = dirOf(path);
      const absolute = resolve(dir, source);
      let real: string;
      try {
        real = realpathSync(absolute);
      } catch {
        found.push({ path, message: `${what} file "${source}" does not exist (${absolute})` });
        return;
      }
      if (!allowOutside && !isInside(real, realpathOr(dir))) {
        found.push({
          path,
          message: `${what} "${source}" is outside the spec's folder ${dir}${real === absolute ? '' : ` (it resolves to ${real})`}`,
          hint: `Sources are read from the folder of the spec that names them, and below; copy the file there, or run hook build with --allow-outside-sources to read it where it is`,
        });
        return;
      }
      if (!statSync(real).isFile())
        found.push({ path, message: `${what} "${source}" is not a regular file` });
    });
  }
  return found;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Whether `path` is `dir` or below it (both absolute, symlinks resolved). */
export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Found {
  path: DocPath;
  /** Set for an unknown key: the problem is located at the key, not at its map. */
  key?: string;
  message: string;
  hint?: string;
}

type Issue = z.core.$ZodIssue;

/** Turns one zod issue into messages a person can act on. */
function describeIssue(issue: Issue, raw: unknown, base: DocPath = []): Found[] {
  const path: DocPath = [...base, ...(issue.path as (string | number)[])];
  const value = valueAt(raw, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        const message = `unknown key "${key}"${guess === undefined ? '' : ` (did you mean ${guess}?)`}`;
        return { path, key, message };
      });
    }
    case 'invalid_type': {
      const expected = describeSchema(schemaAt(path)) ?? `a ${issue.expected}`;
      if (value === undefined) return [{ path, message: `missing (expected ${expected})` }];
      return [{ path, message: `expected ${expected}, got ${describeValue(value)}` }];
    }
    case 'invalid_union': {
      // Report the branch whose type matched, e.g. the object form of a package entry.
      const matching = issue.errors.filter((branch) => !branch.every(isRootTypeMismatch));
      if (matching.length === 1) return matching[0]!.flatMap((inner) => describeIssue(inner, raw, path));
      const expected = describeSchema(schemaAt(path)) ?? 'another type';
      return [{ path, message: `expected ${expected}, got ${describeValue(value)}` }];
    }
    case 'invalid_value':
      return [
        {
          path,
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeof value === 'string' ? quote(value) : JSON.stringify(value)?.slice(0, 80)}`,
        },
      ];
    case 'too_small':
      return [{ path, message: tooSmall(issue.origin, Number(issue.minimum)) }];
    case 'too_big':
      return [{ path, message: `must be at most ${issue.maximum}` }];
    default: {
      const hint = (issue as { params?: { hint?: unknown } }).params?.hint;
      return [{ path, message: issue.message, ...(typeof hint === 'string' ? { hint } : {}) }];
    }
  }
}

function isRootTypeMismatch(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0;
}

function tooSmall(origin: string, minimum: number): string {
  if (origin === 'array') return `expected at least ${minimum} ${minimum === 1 ? 'entry' : 'entries'}`;
  if (origin === 'string')
    return minimum <= 1 ? 'must not be empty' : `must be at least ${minimum} characters`;
  return `must be at least ${minimum}`;
}

function valueAt(raw: unknown, path: DocPath): unknown {
  let value = raw;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isRecord(value) && typeof segment === 'string') value = value[segment];
    else return undefined;
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a number' : 'a fractional number';
  if (typeof value === 'boolean') return `a boolean (${value})`;
  return `a ${typeof value}`;
}

type AnySchema = z.core.$ZodType;

/** The schema through wrappers (defaults, optionals, transforms) to the type written in YAML. */
// These walk zod's schema definitions (`_zod.def`), which zod does not promise to keep stable:
// zod is pinned to an exact version in package.json for that reason, and the tests of
// error positions and unknown-key hints fail if an upgrade changes them.
function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (;;) {
    const def = current?._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema } | undefined;
    if (def?.innerType !== undefined) current = def.innerType;
    else if (def?.type === 'pipe' && def.in !== undefined) current = def.in;
    else return current;
  }
}

function schemaAt(path: DocPath): AnySchema | undefined {
  let schema = unwrap(specSchema);
  for (const segment of path) {
    schema = unwrap(childSchema(schema, segment));
    if (schema === undefined) return undefined;
  }
  return schema;
}

function childSchema(schema: AnySchema | undefined, segment: string | number): AnySchema | undefined {
  const def = schema?._zod.def as
    | { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; options?: AnySchema[] }
    | undefined;
  if (def?.type === 'object' && typeof segment === 'string') return def.shape?.[segment];
  if (def?.type === 'array' && typeof segment === 'number') return def.element;
  if (def?.type === 'union') {
    for (const option of def.options ?? []) {
      const child = childSchema(unwrap(option), segment);
      if (child !== undefined) return child;
    }
  }
  return undefined;
}

function knownKeys(path: DocPath): string[] {
  const schema = schemaAt(path);
  const def = schema?._zod.def as
    | { type: string; shape?: Record<string, unknown>; options?: AnySchema[] }
    | undefined;
  if (def?.type === 'object') return Object.keys(def.shape ?? {});
  if (def?.type === 'union') {
    return (def.options ?? []).flatMap((option) => {
      const inner = unwrap(option)?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
      return inner?.type === 'object' ? Object.keys(inner.shape ?? {}) : [];
    });
  }
  return [];
}

/** "a list of strings", "a string or a mapping", … for the schema written at a path. */
function describeSchema(schema: AnySchema | undefined, plural = false): string | undefined {
  const def = unwrap(schema)?._zod.def as
    | {
        type: string;
        format?: string;
        element?: AnySchema;
        options?: AnySchema[];
        entries?: Record<string, unknown>;
      }
    | undefined;
  if (def === undefined) return undefined;
  if (def.type === 'number' && def.format?.includes('int'))
    return plural ? 'whole numbers' : 'a whole number';
  const noun = (singular: string, many: string) => (plural ? many : singular);
  switch (def.type) {
    case 'string':
      return noun('a string', 'strings');
    case 'number':
      return noun('a number', 'numbers');
    case 'boolean':
      return noun('true or false', 'booleans');
    case 'object':
      return noun('a mapping', 'mappings');
    case 'array':
      return noun(`a list of ${describeSchema(def.element, true) ?? 'items'}`, 'lists');
    case 'enum':
      return `one of ${Object.values(def.entries ?? {})
        .map((v) => JSON.stringify(v))
        .join(', ')}`;
    case 'union':
      return (def.options ?? [])
        .map((option) => describeSchema(option, plural) ?? 'something else')
        .join(' or ');
    default:
      return undefined;
  }
}
