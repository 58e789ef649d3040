/**
 * Fuzzing the archive readers (issue 7): any input gives entries or a HookError
 * E_ARCHIVE_FORMAT, never another exception and never a hang. Seeds are archives made by
 * the real tools (GNU ar with a long-name table, GNU tar in gnu/pax/ustar formats with long
 * names and links, GNU cpio newc), mutated byte by byte, truncated, spliced and extended;
 * plus plain random bytes. Each property runs for a bounded number of inputs (a few
 * seconds on CI), and every input must be answered in well under a second.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { isHookError } from '../src/errors.ts';
import { readAr } from '../src/formats/ar.ts';
import { readCpio } from '../src/formats/cpio.ts';
import { readTar } from '../src/formats/tar-read.ts';

const work = mkdtempSync(join(tmpdir(), 'hook-fuzz-readers-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A small tree with a long name, a link, a hard link and an empty file, for the tools to pack. */
function sampleFiles(): string {
  const dir = join(work, 'files');
  mkdirSync(join(dir, 'a-rather-long-directory-name-for-the-ustar-prefix-field', 'x'.repeat(60)), {
    recursive: true,
  });
  writeFileSync(join(dir, 'short.txt'), 'hello\n');
  writeFileSync(join(dir, 'odd'), 'odd size');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(
    join(
      dir,
      'a-rather-long-directory-name-for-the-ustar-prefix-field',
      'x'.repeat(60),
      `${'n'.repeat(120)}.conf`,
    ),
    'long\n'.repeat(300),
  );
  symlinkSync('short.txt', join(dir, 'link'));
  execFileSync('ln', [join(dir, 'short.txt'), join(dir, 'hard')]);
  return dir;
}

const files = sampleFiles();
const names = execFileSync('find', ['.', '-mindepth', '1'], { cwd: files, encoding: 'utf8' })
  .trim()
  .split('\n')
  .sort();

function tarSeed(format: string): Uint8Array {
  return new Uint8Array(
    execFileSync(
      'tar',
      ['-c', `--format=${format}`, '--owner=0', '--group=0', '--mtime=@1700000000', '-C', files, ...names],
      {
        maxBuffer: 1 << 26,
      },
    ),
  );
}

function arSeed(): Uint8Array {
  const path = join(work, 'seed.a');
  const members = ['short.txt', 'odd', 'empty'];
  const long = join(work, 'a-member-name-longer-than-sixteen.txt');
  writeFileSync(long, 'long member\n');
  execFileSync('ar', ['rcD', path, ...members.map((m) => join(files, m)), long]);
  return new Uint8Array(readFileSync(path));
}

function cpioSeed(): Uint8Array {
  return new Uint8Array(
    execFileSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: files, input: `${names.join('\n')}\n` }),
  );
}

const SEEDS = {
  ar: [arSeed()],
  tar: ['gnu', 'pax', 'ustar', 'v7'].flatMap((format) => {
    try {
      return [tarSeed(format)];
    } catch {
      return []; // ustar/v7 refuse the longest name; the others carry it
    }
  }),
  cpio: [cpioSeed()],
};

/** Bytes that matter to these formats: NUL, space, newline, octal and hex digits, high bits. */
const interesting = fc.constantFrom(
  0,
  0x20,
  0x0a,
  0x30,
  0x37,
  0x39,
  0x41,
  0x66,
  0x2f,
  0x78,
  0x4c,
  0x80,
  0xff,
  0x7f,
);
const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), interesting);

type Mutation =
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'splice'; from: number; to: number; length: number }
  | { kind: 'digits'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: byte }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.array(byte, { maxLength: 600 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('splice' as const),
      from: fc.nat(),
      to: fc.nat(),
      length: fc.integer({ min: 1, max: 1024 }),
    }),
  },
  {
    // Numeric header fields rewritten with digits, huge values or garbage.
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('digits' as const),
      at: fc.nat(),
      text: fc.oneof(
        fc.constantFrom('77777777777', '99999999', 'ffffffff', '0', '-1', ' 1 ', '00000000', '#1/99999'),
        fc.stringMatching(/^[0-9a-fx #/]{1,12}$/),
      ),
    }),
  },
);

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let buf = Buffer.from(seed);
  for (const m of mutations) {
    const at = (n: number) => (buf.length === 0 ? 0 : n % (buf.length + 1));
    switch (m.kind) {
      case 'set':
        if (buf.length > 0) buf[at(m.at) % buf.length] = m.value;
        break;
      case 'truncate':
        buf = buf.subarray(0, at(m.at));
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at(m.at)), Buffer.from(m.bytes), buf.subarray(at(m.at))]);
        break;
      case 'splice': {
        const piece = Buffer.from(buf.subarray(at(m.from), at(m.from) + m.length));
        const to = at(m.to);
        buf = Buffer.concat([buf.subarray(0, to), piece, buf.subarray(to + piece.length)]);
        break;
      }
      case 'digits': {
        const to = at(m.at);
        const text = Buffer.from(m.text, 'latin1');
        buf = Buffer.concat([buf.subarray(0, to), text, buf.subarray(to + text.length)]);
        break;
      }
    }
  }
  return new Uint8Array(buf);
}

/**
 * Tar headers carry a checksum, so most mutations stop at it; half the tar inputs get their
 * header checksums recomputed (blocks with the ustar magic) to reach the fields behind it.
 */
function fixTarChecksums(buf: Uint8Array): Uint8Array {
  const out = Buffer.from(buf);
  for (let at = 0; at + 512 <= out.length; at += 512) {
    if (out.toString('latin1', at + 257, at + 262) !== 'ustar') continue;
    out.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += out[i] as number;
    out.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  }
  return new Uint8Array(out);
}

/** Runs `read` and fails on anything but a value or a HookError with one of `codes`. */
function answersOrRefuses(read: () => unknown, codes: readonly string[]): void {
  const started = performance.now();
  try {
    read();
  } catch (error) {
    if (!isHookError(error) || !codes.includes(error.code)) {
      throw new Error(`not a HookError ${codes.join('/')}: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
  const ms = performance.now() - started;
  assert.ok(ms < 1000, `one input took ${ms.toFixed(0)} ms`);
}

const RUNS = 1500;

for (const [format, read] of [
  ['ar', (buf: Uint8Array) => readAr(buf)],
  ['tar', (buf: Uint8Array) => readTar(buf, 'fuzz.tar')],
  ['cpio', (buf: Uint8Array) => readCpio(buf)],
] as const) {
  test(`${format}: the seeds read cleanly, and mutated seeds give entries or E_ARCHIVE_FORMAT`, {
    timeout: 60_000,
  }, () => {
    const seeds = SEEDS[format];
    assert.ok(seeds.length > 0);
    for (const seed of seeds) assert.ok(read(seed).length >= 3, `${format} seed reads`);
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (i, ms, fix) => {
          const mutated = mutate(seeds[i] as Uint8Array, ms);
          const input = format === 'tar' && fix ? fixTarChecksums(mutated) : mutated;
          answersOrRefuses(() => read(input), ['E_ARCHIVE_FORMAT']);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test(`${format}: random bytes give entries or E_ARCHIVE_FORMAT`, { timeout: 60_000 }, () => {
    const magic = { ar: '!<arch>\n', tar: '', cpio: '070701' }[format];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, withMagic) => {
        const input = withMagic ? new Uint8Array([...Buffer.from(magic, 'latin1'), ...bytes]) : bytes;
        answersOrRefuses(() => read(input), ['E_ARCHIVE_FORMAT']);
      }),
      { numRuns: RUNS },
    );
  });
}

test('tar: a pax record length with no end is refused without exhausting the stack', () => {
  // A pax header whose body is 300 000 digits and no space: the length was decoded by
  // spreading every byte into String.fromCharCode (RangeError above ~120 000 arguments).
  const body = Buffer.alloc(300_000, 0x31);
  const header = Buffer.alloc(512);
  header.write('PaxHeaders/x', 0, 'latin1');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write('x', 156, 'latin1');
  header.write('ustar\u000000', 257, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padded = Buffer.concat([
    header,
    body,
    Buffer.alloc((512 - (body.length % 512)) % 512),
    Buffer.alloc(1024),
  ]);
  assert.throws(
    () => readTar(new Uint8Array(padded), 'deep.tar'),
    (error: unknown) =>
      isHookError(error) && error.code === 'E_ARCHIVE_FORMAT' && /pax record/.test(error.message),
  );
});

test('cpio: megabytes of padding are skipped in linear time', () => {
  const seed = SEEDS.cpio[0] as Uint8Array;
  const padded = new Uint8Array(seed.length + 8 * 1024 * 1024);
  padded.set(seed, 0);
  const started = performance.now();
  assert.ok(readCpio(padded).length > 3);
  assert.ok(performance.now() - started < 2000);
});
