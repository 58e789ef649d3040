/**
 * Limits that keep a hostile or broken hook.yaml from exhausting the builder: file size,
 * nesting depth and aliases. The checks run before the document is turned into values, and
 * each returns the offset of the node that breaks the limit so the error can point at it.
 *
 * Measured on this machine (yaml 2.9): a 50 MB spec took 52 s and 2.8 GB to load before
 * the size cap; 1 MiB of nested `[` takes 3.2 s in yaml's parser alone, but 0.3 s to scan with
 * its lexer, so nesting is estimated from the tokens first and checked exactly after parsing.
 * Resolving an alias walks the whole document in yaml 2.9, so 20 000 aliases cost over 6 s:
 * aliases are counted before any is resolved.
 */
import { type Document, isAlias, isMap, isPair, isSeq, Lexer, type Node } from 'yaml';

/** hook.yaml is about 9 KiB; a spec a hundred times larger is not a spec. */
export const MAX_SPEC_BYTES = 1024 * 1024;
/** Nesting of collections (hook.yaml uses 4 levels). */
export const MAX_DEPTH = 64;
/** Alias nodes in one document. */
export const MAX_ALIASES = 100;
/** yaml's own guard against alias expansion ("billion laughs"), passed to `toJS`. */
export const MAX_ALIAS_COUNT = 100;
/** Specs in one `extends:` chain (a site spec on a team base on the default is 3). */
export const MAX_EXTENDS_CHAIN = 16;

export interface LimitProblem {
  /** Offset in the text of the node where the limit is exceeded. */
  offset: number;
  message: string;
}

export function sizeProblem(bytes: number): string | undefined {
  if (bytes <= MAX_SPEC_BYTES) return undefined;
  return `the spec is ${formatBytes(bytes)}, over the limit of ${formatBytes(MAX_SPEC_BYTES)}`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${bytes} bytes`;
}

const DOCUMENT = '\x02';
const FLOW_END = '\x18';
const SCALAR = '\x1f';

/**
 * Estimates the nesting depth from yaml's lexer tokens, without building the CST (which is
 * recursive and slow on deep input). Flow collections are counted exactly; block collections
 * by the columns of their indicators and keys, which can count a block sequence written at
 * its key's indentation as one level with its mapping, so the estimate is at most half the
 * real depth: deep enough input never reaches the parser, and the exact check follows it.
 */
export function nestingProblem(text: string, limit = MAX_DEPTH): LimitProblem | undefined {
  let offset = 0;
  let lineStart = 0;
  let flow = 0;
  const columns: number[] = [];
  let afterScalarMarker = false;
  let keyColumn: number | undefined;
  const open = (column: number): boolean => {
    while (columns.length > 0 && (columns[columns.length - 1] as number) >= column) columns.pop();
    columns.push(column);
    return columns.length + flow > limit;
  };
  for (const token of new Lexer().lex(text)) {
    const start = offset;
    const isControl = token === DOCUMENT || token === FLOW_END || token === SCALAR;
    if (!isControl) offset += token.length;
    const newline = token.lastIndexOf('\n');
    if (afterScalarMarker) {
      // The content of a plain or block scalar: never an indicator, whatever its characters.
      afterScalarMarker = false;
      if (flow === 0 && newline < 0) keyColumn = start - lineStart;
      if (newline >= 0) {
        lineStart = start + newline + 1;
        keyColumn = undefined;
      }
      continue;
    }
    if (token === SCALAR) {
      afterScalarMarker = true;
      continue;
    }
    if (isControl) continue;
    if (newline >= 0) {
      lineStart = start + newline + 1;
      keyColumn = undefined;
      continue;
    }
    if (/^[ \t]+$/.test(token) || token.startsWith('#')) continue;
    if (token === '[' || token === '{') {
      flow++;
      if (columns.length + flow > limit) return deep(start, limit);
    } else if (token === ']' || token === '}') {
      if (flow > 0) flow--;
    } else if (flow === 0 && (token === '-' || token === '?')) {
      if (open(start - lineStart)) return deep(start, limit);
    } else if (flow === 0 && token === ':') {
      if (keyColumn !== undefined && open(keyColumn)) return deep(lineStart + keyColumn, limit);
    } else if (flow === 0 && (token.startsWith('"') || token.startsWith("'"))) {
      keyColumn = start - lineStart;
      continue;
    }
    if (!token.startsWith('&') && !token.startsWith('!')) keyColumn = undefined;
  }
  return undefined;
}

function deep(offset: number, limit: number): LimitProblem {
  return { offset, message: `nesting is deeper than ${limit} levels` };
}

/**
 * Exact checks on the parsed document, before any alias is resolved into values: at most
 * MAX_ALIASES aliases, each naming an anchor that does not contain it, and collections at
 * most `limit` deep counting what aliases bring in.
 */
export function documentProblems(doc: Document, limit = MAX_DEPTH): LimitProblem[] {
  const root = doc.contents;
  if (root === null || root === undefined) return [];
  const aliases: Node[] = [];
  // Iterative walk in document order: deep documents must not exhaust the stack here either.
  const stack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as (typeof stack)[number];
    if (isAlias(node)) {
      aliases.push(node);
      if (aliases.length > MAX_ALIASES) {
        return [{ offset: offsetOf(node), message: `more than ${MAX_ALIASES} aliases` }];
      }
      continue;
    }
    if (!isCollectionNode(node)) continue;
    if (depth > limit) return [deep(offsetOf(node), limit)];
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], depth: depth + 1 });
  }
  if (aliases.length === 0) return [];
  return aliasProblems(doc, root, aliases, limit);
}

/** Heights with aliases expanded, children before parents; aliases only name earlier nodes. */
function aliasProblems(doc: Document, root: unknown, aliases: Node[], limit: number): LimitProblem[] {
  const problems: LimitProblem[] = [];
  const targets = new Map<unknown, unknown>();
  for (const alias of aliases) {
    if (!isAlias(alias)) continue;
    const target = alias.resolve(doc);
    if (target !== undefined) targets.set(alias, target);
  }
  const height = new Map<unknown, number>();
  const onPath = new Set<unknown>();
  // Post-order walk with an explicit stack of [node, childrenPushed].
  const stack: Array<[unknown, boolean]> = [[root, false]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [unknown, boolean];
    const [node, expanded] = top;
    if (isAlias(node)) {
      stack.pop();
      const target = targets.get(node);
      if (target !== undefined && onPath.has(target)) {
        problems.push({
          offset: offsetOf(node),
          message: `alias *${node.source} refers to a node that contains it`,
        });
        height.set(node, 0);
      } else {
        height.set(node, target === undefined ? 0 : (height.get(target) ?? 0));
      }
      continue;
    }
    if (!isCollectionNode(node)) {
      stack.pop();
      height.set(node, 0);
      continue;
    }
    if (!expanded) {
      top[1] = true;
      onPath.add(node);
      // Reversed, so children are finished in document order: an anchor before its aliases.
      const children = childrenOf(node);
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i], false]);
      continue;
    }
    stack.pop();
    onPath.delete(node);
    let h = 0;
    for (const child of childrenOf(node)) h = Math.max(h, height.get(child) ?? 0);
    height.set(node, h + 1);
  }
  if (problems.length > 0) return problems;
  // Depth of each alias from the root plus the height it brings in.
  const depthStack: Array<{ node: unknown; depth: number }> = [{ node: root, depth: 0 }];
  while (depthStack.length > 0) {
    const { node, depth } = depthStack.pop() as { node: unknown; depth: number };
    if (isAlias(node)) {
      const total = depth + (height.get(node) ?? 0);
      if (total > limit) {
        problems.push({
          offset: offsetOf(node),
          message: `alias *${node.source} makes the nesting deeper than ${limit} levels`,
        });
        return problems;
      }
      continue;
    }
    if (!isCollectionNode(node)) continue;
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) depthStack.push({ node: children[i], depth: depth + 1 });
  }
  return problems;
}

function isCollectionNode(node: unknown): boolean {
  return isMap(node) || isSeq(node);
}

/** Children of a map (keys and values) or a sequence, in document order. */
function childrenOf(node: unknown): unknown[] {
  const out: unknown[] = [];
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        if (item.key !== null && item.key !== undefined) out.push(item.key);
        if (item.value !== null && item.value !== undefined) out.push(item.value);
      } else if (item !== null && item !== undefined) {
        out.push(item);
      }
    }
  }
  return out;
}

function offsetOf(node: unknown): number {
  const range = (node as { range?: [number, number, number] }).range;
  return range?.[0] ?? 0;
}
