/**
 * kmod's binary index (`modules.*.bin`), as depmod writes it (tools/depmod.c, from
 * module-init-tools' index.c): a path-compressed trie over 7-bit ASCII keys, each key holding
 * values sorted by priority.
 *
 * File: magic 0xB007F457, version 0x00020001, root offset, then the nodes written children
 * first (post-order). All integers are 32-bit big-endian. A node offset carries flags in its
 * high nibble saying which parts the node has:
 *   prefix (PREFIX): NUL-terminated rest of the edge label
 *   children (CHILDS): first char, last char, (last - first + 1) child offsets (0 = none)
 *   values (VALUES): count, then per value: priority, NUL-terminated string
 */
import { HookError } from '../errors.ts';

export const INDEX_MAGIC = 0xb007f457;
export const INDEX_VERSION = 0x00020001;
const NODE_PREFIX = 0x80000000;
const NODE_VALUES = 0x40000000;
const NODE_CHILDS = 0x20000000;
const NODE_MASK = 0x0fffffff;
const CHILD_MAX = 128;

export interface IndexValue {
  value: string;
  priority: number;
}

interface TrieNode {
  prefix: string;
  values: IndexValue[];
  children: Map<number, TrieNode>;
}

function newNode(prefix: string): TrieNode {
  return { prefix, values: [], children: new Map() };
}

export class KmodIndexBuilder {
  private readonly root = newNode('');

  /**
   * Adds `value` under `key`. Like depmod, a value goes before the first value of equal or
   * higher priority (so equal priorities come out newest first), and duplicates are kept.
   */
  insert(key: string, value: string, priority: number): void {
    checkAscii(key);
    checkAscii(value);
    let node = this.root;
    let i = 0;
    for (;;) {
      const common = commonPrefixLength(node.prefix, key, i);
      if (common < node.prefix.length) splitNode(node, common);
      i += common;
      if (i === key.length) {
        addValue(node.values, { value, priority });
        return;
      }
      const ch = key.charCodeAt(i);
      const child = node.children.get(ch);
      if (child === undefined) {
        const leaf = newNode(key.slice(i + 1));
        leaf.values.push({ value, priority });
        node.children.set(ch, leaf);
        return;
      }
      node = child;
      i++;
    }
  }

  /** The index file, byte for byte as depmod writes it. */
  build(): Uint8Array {
    const out = new ByteWriter();
    out.u32(INDEX_MAGIC);
    out.u32(INDEX_VERSION);
    out.u32(0); // root offset, patched below
    const root = writeNode(this.root, out);
    const bytes = out.finish();
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(8, root);
    return bytes;
  }
}

function commonPrefixLength(prefix: string, key: string, from: number): number {
  let j = 0;
  while (j < prefix.length && prefix.charCodeAt(j) === key.charCodeAt(from + j)) j++;
  return j;
}

/** Splits `node` at `at`: it keeps prefix[0..at) and gets one child holding the rest. */
function splitNode(node: TrieNode, at: number): void {
  const rest: TrieNode = { prefix: node.prefix.slice(at + 1), values: node.values, children: node.children };
  const ch = node.prefix.charCodeAt(at);
  node.prefix = node.prefix.slice(0, at);
  node.values = [];
  node.children = new Map([[ch, rest]]);
}

function addValue(values: IndexValue[], added: IndexValue): void {
  let at = 0;
  while (at < values.length && (values[at] as IndexValue).priority < added.priority) at++;
  values.splice(at, 0, added);
}

function checkAscii(text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= CHILD_MAX) {
      throw new HookError('E_KERNEL', `Cannot index "${text}": only 7-bit ASCII is allowed in kmod indexes`);
    }
  }
}

function writeNode(node: TrieNode, out: ByteWriter): number {
  const chars = [...node.children.keys()];
  const first = chars.length > 0 ? Math.min(...chars) : 0;
  const last = chars.length > 0 ? Math.max(...chars) : -1;
  const childOffsets: number[] = [];
  for (let ch = first; ch <= last; ch++) {
    const child = node.children.get(ch);
    childOffsets.push(child === undefined ? 0 : writeNode(child, out));
  }

  let offset = out.length;
  if (node.prefix !== '') {
    out.cString(node.prefix);
    offset |= NODE_PREFIX;
  }
  if (childOffsets.length > 0) {
    out.u8(first);
    out.u8(last);
    for (const child of childOffsets) out.u32(child);
    offset |= NODE_CHILDS;
  }
  if (node.values.length > 0) {
    out.u32(node.values.length);
    for (const v of node.values) {
      out.u32(v.priority);
      out.cString(v.value);
    }
    offset |= NODE_VALUES;
  }
  return offset >>> 0;
}

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buf[this.length++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.length, value >>> 0);
    this.length += 4;
  }

  cString(text: string): void {
    this.reserve(text.length + 1);
    for (let i = 0; i < text.length; i++) this.buf[this.length++] = text.charCodeAt(i);
    this.buf[this.length++] = 0;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Every key of an index file with its values in stored order (for tests and inspection). */
export function readKmodIndex(bytes: Uint8Array): Map<string, IndexValue[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || view.getUint32(0) !== INDEX_MAGIC) {
    throw new HookError('E_KERNEL', 'Not a kmod index: bad magic number');
  }
  if (view.getUint32(4) !== INDEX_VERSION) {
    throw new HookError('E_KERNEL', `Unsupported kmod index version 0x${view.getUint32(4).toString(16)}`);
  }
  const out = new Map<string, IndexValue[]>();
  const readString = (at: number): [string, number] => {
    let end = at;
    while (bytes[end] !== 0) {
      if (end >= bytes.byteLength) throw new HookError('E_KERNEL', 'Corrupt kmod index: unterminated string');
      end++;
    }
    return [String.fromCharCode(...bytes.subarray(at, end)), end + 1];
  };
  const visit = (offset: number, key: string): void => {
    let at = offset & NODE_MASK;
    let prefix = '';
    if (offset & NODE_PREFIX) [prefix, at] = readString(at);
    const here = key + prefix;
    const children: Array<[string, number]> = [];
    if (offset & NODE_CHILDS) {
      const first = view.getUint8(at);
      const last = view.getUint8(at + 1);
      at += 2;
      for (let ch = first; ch <= last; ch++, at += 4) {
        const child = view.getUint32(at);
        if (child !== 0) children.push([here + String.fromCharCode(ch), child]);
      }
    }
    if (offset & NODE_VALUES) {
      const count = view.getUint32(at);
      at += 4;
      const values: IndexValue[] = [];
      for (let i = 0; i < count; i++) {
        const priority = view.getUint32(at);
        const [value, next] = readString(at + 4);
        values.push({ value, priority });
        at = next;
      }
      out.set(here, values);
    }
    for (const [childKey, child] of children) visit(child, childKey);
  };
  visit(view.getUint32(8), '');
  return out;
}
