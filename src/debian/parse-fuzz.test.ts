/**
 * Fuzzing the archive metadata parsers (issue 7): deb822 (Packages, Release), the Release
 * stanza, and InRelease's cleartext-signature framing, which is read before any signature is
 * checked. Any input gives a value or a HookError (E_INDEX, E_SIGNATURE), never another
 * exception, never a hang. The framing is fuzzed on messages really signed by a test key
 * (so mutations reach past the signature check when they keep it valid), not the crypto.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import * as openpgp from 'openpgp';
import { isHookError } from '../errors.ts';
import { parseDeb822 } from './deb822.ts';
import { parseRelease, verifyInRelease } from './inrelease.ts';

const RELEASE = [
  'Origin: Debian',
  'Suite: stable',
  'Codename: trixie',
  'Date: Sat, 10 May 2025 08:00:00 UTC',
  'Valid-Until: Sat, 17 May 2099 08:00:00 UTC',
  'Acquire-By-Hash: yes',
  'Architectures: amd64 arm64',
  'Description: Debian 13',
  ' continued line',
  ' .',
  'SHA256:',
  ` ${'a'.repeat(64)}   1234 main/binary-amd64/Packages.xz`,
  ` ${'b'.repeat(64)}      0 main/binary-amd64/Packages`,
  ` ${'c'.repeat(64)} 99 main/i18n/Translation-en`,
  '',
].join('\n');

const DEB822_PIECES = [
  'Package: ',
  'Version: 1.0-1',
  'Depends: libc6 (>= 2.36), foo | bar',
  'Description: x\n .\n more',
  '\n\n',
  '\n',
  ' continuation',
  '\tcontinuation',
  '# comment',
  ':',
  'Field:',
  '\r\n',
  'SHA256:',
  ` ${'d'.repeat(64)} 12 path`,
  ' nothex 1 x',
  ` ${'e'.repeat(64)} 99999999999999999999999 big`,
  '\u00a0',
  '\u2028',
  'Valid-Until: not a date',
];

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

async function answersOrRefusesAsync(read: () => Promise<unknown>, codes: readonly string[]): Promise<void> {
  try {
    await read();
  } catch (error) {
    if (!isHookError(error) || !codes.includes(error.code)) {
      throw new Error(`not a HookError ${codes.join('/')}: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
}

const deb822ish = fc
  .array(
    fc.oneof(
      fc.constantFrom(...DEB822_PIECES),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('\n', ' ', ':'),
    ),
    {
      maxLength: 60,
    },
  )
  .map((parts) => parts.join(''));

test('deb822: any text gives stanzas or E_INDEX', () => {
  fc.assert(
    fc.property(
      fc.oneof(deb822ish, fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 })),
      (text) => {
        answersOrRefuses(() => parseDeb822(text, 'fuzz'), ['E_INDEX']);
      },
    ),
    { numRuns: 3000 },
  );
});

test('Release: mutated Release files give a release or E_INDEX, and sizes are safe integers', () => {
  const lines = RELEASE.split('\n');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.oneof(deb822ish, fc.constantFrom(...DEB822_PIECES))), { maxLength: 5 }),
      (edits) => {
        const edited = [...lines];
        for (const [at, text] of edits) edited.splice(at % (edited.length + 1), at % 3, text);
        answersOrRefuses(() => {
          const release = parseRelease(edited.join('\n'), 'fuzz');
          for (const file of release.files.values()) assert.ok(Number.isSafeInteger(file.size));
        }, ['E_INDEX']);
      },
    ),
    { numRuns: 2000 },
  );
  assert.throws(
    () => parseRelease(`SHA256:\n ${'a'.repeat(64)} 99999999999999999999999 main/Packages\n`),
    (error: unknown) => isHookError(error) && error.code === 'E_INDEX',
  );
});

let keys: openpgp.Key[];
let signed: string;

before(async () => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: 'Hook fuzz archive key' }],
    format: 'object',
  });
  keys = [publicKey];
  signed = await openpgp.sign({
    message: await openpgp.createCleartextMessage({ text: RELEASE }),
    signingKeys: privateKey,
  });
});

/** Line-level edits of a cleartext-signed message: the framing is what is fuzzed. */
const framingEdit = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(
        '-----BEGIN PGP SIGNED MESSAGE-----',
        '-----BEGIN PGP SIGNATURE-----',
        '-----END PGP SIGNATURE-----',
        'Hash: SHA256',
        'Hash: MD5',
        'Hash: ',
        '- -----BEGIN PGP SIGNATURE-----',
        '- ',
        '-',
        '',
        '=AAAA',
        '=',
        'Version: x',
        'Comment: y',
        'wnUEARYKAAYFAmZ',
        '\u0000',
      ),
      fc.string({ maxLength: 40 }),
      fc.base64String({ maxLength: 80 }),
    ),
  }),
  fc.record({ op: fc.constant('crlf' as const) }),
  fc.record({
    op: fc.constant('trailing' as const),
    at: fc.nat(),
    text: fc.constantFrom(' ', '\t', '\r', '  x'),
  }),
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    char: fc.string({ minLength: 1, maxLength: 1 }),
  }),
);

type FramingEdit = typeof framingEdit extends fc.Arbitrary<infer T> ? T : never;

function editMessage(text: string, edits: FramingEdit[]): string {
  let lines = text.split('\n');
  for (const edit of edits) {
    const i = (n: number) => n % Math.max(1, lines.length);
    switch (edit.op) {
      case 'delete':
        lines.splice(i(edit.at), 1);
        break;
      case 'duplicate':
        lines.splice(i(edit.at), 0, lines[i(edit.at)] ?? '');
        break;
      case 'insert':
        lines.splice(i(edit.at), 0, edit.text);
        break;
      case 'crlf':
        lines = lines.map((l) => `${l}\r`);
        break;
      case 'trailing':
        lines[i(edit.at)] = `${lines[i(edit.at)] ?? ''}${edit.text}`;
        break;
      case 'flip': {
        const line = lines[i(edit.at)] ?? '';
        const pos = edit.at % Math.max(1, line.length);
        lines[i(edit.at)] = `${line.slice(0, pos)}${edit.char}${line.slice(pos + 1)}`;
        break;
      }
    }
  }
  return lines.join('\n');
}

test('InRelease: the signed seed verifies; mutated framing gives a release or E_SIGNATURE/E_INDEX', {
  timeout: 120_000,
}, async () => {
  const release = await verifyInRelease(signed, keys);
  assert.equal(release.files.size, 3);
  let verified = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(framingEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
      const text = editMessage(signed, edits);
      await answersOrRefusesAsync(async () => {
        await verifyInRelease(text, keys);
        verified++;
      }, ['E_SIGNATURE', 'E_INDEX']);
    }),
    { numRuns: 300 },
  );
  // Some edits keep the message valid (trailing spaces, dash-escaped lines, armor headers).
  assert.ok(verified > 0, 'no mutated message verified: the fuzzing stops at the signature');
});

test('InRelease: random text gives E_SIGNATURE', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 300 }), fc.boolean(), async (text, framed) => {
      const input = framed ? `-----BEGIN PGP SIGNED MESSAGE-----\n${text}` : text;
      await answersOrRefusesAsync(() => verifyInRelease(input, keys), ['E_SIGNATURE', 'E_INDEX']);
    }),
    { numRuns: 300 },
  );
});
