import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cmdlineWords, parseCmdline, splitList } from './cmdline.ts';
import { latin1Decode } from './platform/bytes.ts';

const latin1 = fc.uint8Array({ maxLength: 600 }).map((bytes) => latin1Decode(bytes));
const keyChars = fc.constantFrom(...'abcXYZ_-.09'.split(''));
const key = fc.string({ unit: keyChars, minLength: 1, maxLength: 8 });
const valueChars = fc.constantFrom(...'ab=:/,.@Z9\u00e9'.split(''));
const value = fc.string({ unit: valueChars, maxLength: 12 });
const KERNEL_SPACES = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0'];
const space = fc.string({ unit: fc.constantFrom(...KERNEL_SPACES), minLength: 1, maxLength: 40 });

/** The kernel's next_arg() in lib/cmdline.c, transcribed on a byte array as the model. */
function kernelModel(text: string): [string, string | undefined][] {
  const bytes = [...text.split('\0', 1)[0]!].map((c) => c.charCodeAt(0));
  const isspace = (c: number | undefined) => c !== undefined && [32, 9, 10, 11, 12, 13, 160].includes(c);
  const str = (from: number, nul: number[]) => {
    let end = from;
    while (end < bytes.length && !nul.includes(end)) end++;
    return String.fromCharCode(...bytes.slice(from, end));
  };
  const out: [string, string | undefined][] = [];
  let args = 0;
  while (isspace(bytes[args])) args++;
  while (args < bytes.length) {
    const nul: number[] = [];
    let inQuote = false;
    let quoted = false;
    if (bytes[args] === 34) {
      args++;
      inQuote = quoted = true;
    }
    let i = 0;
    let equals = 0;
    for (; args + i < bytes.length; i++) {
      if (isspace(bytes[args + i]) && !inQuote) break;
      if (equals === 0 && bytes[args + i] === 61) equals = i;
      if (bytes[args + i] === 34) inQuote = !inQuote;
    }
    let val: number | undefined;
    if (equals !== 0) {
      nul.push(args + equals);
      val = args + equals + 1;
      if (bytes[val] === 34) {
        val++;
        if (bytes[args + i - 1] === 34) nul.push(args + i - 1);
      }
    }
    if (quoted && i > 0 && bytes[args + i - 1] === 34) nul.push(args + i - 1);
    nul.push(args + i);
    out.push([str(args, nul), val === undefined ? undefined : str(val, nul)]);
    args += args + i < bytes.length ? i + 1 : i;
    while (isspace(bytes[args])) args++;
  }
  return out;
}

test('property: the words are exactly those of the kernel next_arg() on arbitrary bytes', () => {
  fc.assert(
    fc.property(latin1, (text) => {
      assert.deepEqual(cmdlineWords(text), kernelModel(text));
    }),
    { numRuns: 5000 },
  );
});

test('property: quotes and spaces mixed into key=value words still follow the kernel', () => {
  const piece = fc.constantFrom('a', 'b=', '=', '"', ' ', '\u00a0', 'x y', '"q"', 'k="v w"');
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 16 }), (pieces) => {
      const text = pieces.join('');
      assert.deepEqual(cmdlineWords(text), kernelModel(text));
    }),
    { numRuns: 5000 },
  );
});

test('property: parseCmdline never throws and keeps the last occurrence of a key', () => {
  const pair = fc.tuple(key, fc.option(value, { nil: undefined }));
  fc.assert(
    fc.property(fc.array(fc.tuple(pair, space), { maxLength: 20 }), space, (pairs, lead) => {
      const text = lead + pairs.map(([[k, v], sep]) => (v === undefined ? k : `${k}=${v}`) + sep).join('');
      const expected = new Map<string, string>();
      for (const [[k, v]] of pairs) expected.set(k, v ?? '');
      const actual = parseCmdline(text);
      assert.deepEqual(new Map([...actual].sort()), new Map([...expected].sort()));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(latin1, (text) => void parseCmdline(text)),
    { numRuns: 1000 },
  );
});

test('a 1024-character run of spaces (Smee-patched ISO placeholder) is just whitespace', () => {
  const text = `console=ttyS0 ${' '.repeat(1024)}worker_id=aa:bb\t\n  tink_worker_image=r.io/tw:v1${' '.repeat(1024)}`;
  assert.deepEqual(
    [...parseCmdline(text)],
    [
      ['console', 'ttyS0'],
      ['worker_id', 'aa:bb'],
      ['tink_worker_image', 'r.io/tw:v1'],
    ],
  );
});

test('quoted values lose their quotes and keep their spaces, as the kernel passes them', () => {
  const map = parseCmdline('tink_worker_image="quay.io/t/agent:v1" msg="a b  c" "quoted=x y" q="open end');
  assert.equal(map.get('tink_worker_image'), 'quay.io/t/agent:v1');
  assert.equal(map.get('msg'), 'a b  c');
  assert.equal(map.get('quoted'), 'x y');
  assert.equal(map.get('q'), 'open end');
  assert.equal(parseCmdline('k=a"b c"d').get('k'), 'a"b c"d', 'a quote inside a value only groups');
});

test('bare keys are present with an empty value; keys are case-sensitive; "=" first is part of the key', () => {
  const map = parseCmdline('quiet HTTP_PROXY=http://p:3128 http_proxy=other =x a==b');
  assert.equal(map.get('quiet'), '');
  assert.ok(map.has('quiet'));
  assert.equal(map.get('HTTP_PROXY'), 'http://p:3128');
  assert.equal(map.get('http_proxy'), 'other');
  // lib/cmdline.c: `equals == 0` means "none", so a leading "=" never splits.
  assert.equal(map.get('=x'), '');
  assert.ok(!map.has(''));
  assert.equal(map.get('a'), '=b');
});

test('0xA0 (NBSP in latin1) separates words: the kernel ctype table marks it as a space', () => {
  assert.deepEqual(
    [...parseCmdline('a=x\u00a0y b')],
    [
      ['a', 'x'],
      ['y', ''],
      ['b', ''],
    ],
  );
  assert.equal(parseCmdline('a="x\u00a0y"').get('a'), 'x\u00a0y');
});

test('nothing after a NUL byte exists for the kernel', () => {
  assert.deepEqual([...parseCmdline('a=1\0b=2')], [['a', '1']]);
});

test('splitList trims and drops empty items', () => {
  assert.deepEqual(splitList(' a, ,b ,,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitList(''), []);
});
