/**
 * InRelease verification against the real trixie, trixie-updates and trixie-security
 * InRelease files from the mirror named by the host's apt sources (or HOOK_MIRROR).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { httpGet } from '../src/debian/http.ts';
import { type Keyring, loadKeyring, parseRelease, verifyInRelease } from '../src/debian/inrelease.ts';
import { resolveArchiveSettings } from '../src/debian/sources.ts';
import { HookError } from '../src/errors.ts';

const isSignatureError = (pattern: RegExp) => (error: unknown) =>
  error instanceof HookError && error.code === 'E_SIGNATURE' && pattern.test(error.message);

describe('parseRelease', () => {
  it('reads the fields and the SHA256 list', () => {
    const release = parseRelease(
      [
        'Suite: stable',
        'Codename: trixie',
        'Date: Sat, 10 May 2025 08:00:00 UTC',
        'Valid-Until: Sat, 17 May 2025 08:00:00 UTC',
        'Acquire-By-Hash: yes',
        'MD5Sum:',
        ' 0123456789abcdef0123456789abcdef 10 main/binary-amd64/Packages',
        'SHA256:',
        ` ${'a'.repeat(64)}   1234 main/binary-amd64/Packages.xz`,
        ` ${'B'.repeat(64)}      0 main/binary-amd64/Packages`,
        '',
      ].join('\n'),
    );
    assert.equal(release.suite, 'stable');
    assert.equal(release.codename, 'trixie');
    assert.equal(release.date?.toISOString(), '2025-05-10T08:00:00.000Z');
    assert.equal(release.validUntil?.toISOString(), '2025-05-17T08:00:00.000Z');
    assert.equal(release.acquireByHash, true);
    assert.deepEqual(
      [...release.files],
      [
        ['main/binary-amd64/Packages.xz', { size: 1234, sha256: 'a'.repeat(64) }],
        ['main/binary-amd64/Packages', { size: 0, sha256: 'b'.repeat(64) }],
      ],
    );
  });

  it('rejects a malformed SHA256 line', () => {
    assert.throws(() => parseRelease('Suite: x\nSHA256:\n nothex 12 main/Packages\n'), /bad SHA256 line/);
  });
});

describe('verifyInRelease (real archive)', () => {
  const settings = resolveArchiveSettings();
  const url = (suite: string) =>
    `${suite.endsWith('-security') ? settings.securityMirror : settings.mirror}/dists/${suite}/InRelease`;
  const texts = new Map<string, string>();
  let keys: Keyring;

  before(async () => {
    keys = await loadKeyring();
    for (const suite of ['trixie', 'trixie-updates', 'trixie-security']) {
      texts.set(suite, (await httpGet(url(suite))).toString('utf8'));
    }
  });
  const text = (suite: string) => texts.get(suite) as string;

  for (const suite of ['trixie', 'trixie-updates', 'trixie-security']) {
    it(`accepts ${suite}'s InRelease signed by the committed keyring`, async () => {
      const release = await verifyInRelease(text(suite), keys, { source: suite });
      assert.equal(release.codename, suite);
      assert.ok(release.date instanceof Date);
      const packages = [...release.files.keys()].filter((p) => p.endsWith('/binary-amd64/Packages.xz'));
      assert.ok(packages.includes('main/binary-amd64/Packages.xz'), `${suite} lists main amd64 Packages.xz`);
      if (suite !== 'trixie') assert.ok(release.validUntil instanceof Date, `${suite} has Valid-Until`);
    });
  }

  it('refuses a one-byte change in the signed text, naming the suite', async () => {
    const original = text('trixie');
    const at = original.indexOf('Codename: trixie') + 'Codename: '.length;
    const tampered = `${original.slice(0, at)}T${original.slice(at + 1)}`;
    await assert.rejects(
      verifyInRelease(tampered, keys, { source: 'trixie (mirror/dists/trixie/InRelease)' }),
      isSignatureError(/InRelease of trixie \(mirror\/dists\/trixie\/InRelease\) has a bad signature/),
    );
  });

  it('refuses unsigned data', async () => {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: text('trixie') });
    await assert.rejects(
      verifyInRelease(message.getText(), keys, { source: 'trixie' }),
      isSignatureError(/not signed/),
    );
  });

  it('refuses data signed only by a key outside the keyring', async () => {
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'Mallory' }], format: 'object' });
    const forged = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text: 'Suite: stable\nCodename: trixie\n' }),
      signingKeys: privateKey,
    });
    await assert.rejects(
      verifyInRelease(forged, keys, { source: 'trixie' }),
      isSignatureError(/not signed by any key/),
    );
  });

  /** The real InRelease with one extra signature by `signer` over other text appended. */
  async function withExtraSignature(signer: openpgp.PrivateKey): Promise<string> {
    const real = await openpgp.readCleartextMessage({ cleartextMessage: text('trixie') });
    const other = await openpgp.readCleartextMessage({
      cleartextMessage: await openpgp.sign({
        message: await openpgp.createCleartextMessage({ text: 'something else\n' }),
        signingKeys: signer,
      }),
    });
    // openpgp's typings omit the message's `signature` and the constructor's arguments.
    type Signed = { signature: openpgp.Signature };
    const packets = new openpgp.PacketList<openpgp.SignaturePacket>();
    packets.push(
      ...(real as unknown as Signed).signature.packets,
      ...(other as unknown as Signed).signature.packets,
    );
    const Cleartext = openpgp.CleartextMessage as unknown as new (
      text: string,
      signature: openpgp.Signature,
    ) => openpgp.CleartextMessage;
    return new Cleartext(real.getText(), new openpgp.Signature(packets)).armor();
  }

  it('ignores a signature by an unknown key next to a valid one', async () => {
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ name: 'Stranger' }], format: 'object' });
    const release = await verifyInRelease(await withExtraSignature(privateKey), keys, { source: 'trixie' });
    assert.equal(release.codename, 'trixie');
  });

  it('refuses when a keyring key made an invalid signature, even next to a valid one', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({
      userIDs: [{ name: 'Insider' }],
      format: 'object',
    });
    const armored = await withExtraSignature(privateKey);
    await assert.rejects(
      verifyInRelease(armored, [...keys, publicKey], { source: 'trixie' }),
      isSignatureError(/bad signature by key/),
    );
  });

  it('refuses an expired Valid-Until, saying when it expired', async () => {
    const release = await verifyInRelease(text('trixie-security'), keys, { source: 'trixie-security' });
    const validUntil = release.validUntil as Date;
    const later = new Date(validUntil.getTime() + 86_400_000);
    await assert.rejects(
      verifyInRelease(text('trixie-security'), keys, { source: 'trixie-security', now: later }),
      isSignatureError(new RegExp(`trixie-security expired on ${validUntil.toUTCString()}`)),
    );
  });
});
