/**
 * Verification and parsing of a suite's `InRelease`: an OpenPGP cleartext-signed deb822
 * stanza that lists every index file with its size and SHA-256. It is the root of trust
 * for everything the archive client downloads.
 */
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { HookError } from '../errors.ts';
import { repoPath } from '../repo.ts';
import { parseDeb822 } from './deb822.ts';

export type Keyring = openpgp.Key[];

export interface ReleaseFile {
  size: number;
  sha256: string;
}

export interface Release {
  suite?: string;
  codename?: string;
  date?: Date;
  validUntil?: Date;
  /** `Acquire-By-Hash: yes`: index files are also served under `by-hash/SHA256/<hex>`. */
  acquireByHash: boolean;
  /** The SHA256 list: path relative to `dists/<suite>/` → size and digest. */
  files: Map<string, ReleaseFile>;
  /** Every field of the signed stanza. */
  fields: Record<string, string>;
}

export interface VerifyOptions {
  /** How to name the release in errors: suite and URL (e.g. `trixie (http://…/InRelease)`). */
  source?: string;
  /** The time to check Valid-Until and key validity against (default: now). */
  now?: Date;
}

/**
 * Largest InRelease accepted, enforced while it downloads. Debian's are 40–140 KB (trixie:
 * 140 KB); 16 MiB leaves room for any archive while keeping a hostile one from filling memory.
 */
export const INRELEASE_MAX_BYTES = 16 * 1024 * 1024;

/** The Debian archive keyring committed in `keys/`. */
export const DEFAULT_KEYRING_PATH = repoPath('keys', 'debian-archive-keyring.pgp');

/** Reads a binary OpenPGP keyring (one or more concatenated public keys). */
export async function loadKeyring(path: string | URL = DEFAULT_KEYRING_PATH): Promise<Keyring> {
  const binaryKeys = await readFile(path);
  return openpgp.readKeys({ binaryKeys });
}

function signatureError(source: string, reason: string): HookError {
  return new HookError('E_SIGNATURE', `InRelease of ${source} ${reason}`, {
    hint: 'The mirror may be broken or tampered with; try again later or use another mirror (--mirror, HOOK_MIRROR)',
  });
}

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Parses the signed text of a Release file (no signature check). */
export function parseRelease(text: string, source = 'Release'): Release {
  const [stanza] = parseDeb822(text, source);
  if (!stanza) throw new HookError('E_INDEX', `Cannot parse ${source}: no fields`);
  const files = new Map<string, ReleaseFile>();
  for (const line of (stanza.SHA256 ?? '').split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) continue;
    const [sha256, size, path] = parts as [string, string, string];
    if (!/^[0-9a-f]{64}$/i.test(sha256) || !/^\d{1,15}$/.test(size)) {
      // 15 digits: any real size, and always a safe integer.
      throw new HookError(
        'E_INDEX',
        `Cannot parse ${source}: bad SHA256 line ${JSON.stringify(line.trim().slice(0, 200))}`,
      );
    }
    files.set(path, { size: Number(size), sha256: sha256.toLowerCase() });
  }
  const release: Release = {
    acquireByHash: stanza['Acquire-By-Hash'] === 'yes',
    files,
    fields: stanza,
  };
  if (stanza.Suite !== undefined) release.suite = stanza.Suite;
  if (stanza.Codename !== undefined) release.codename = stanza.Codename;
  const date = parseDate(stanza.Date);
  if (date) release.date = date;
  const validUntil = parseDate(stanza['Valid-Until']);
  if (validUntil) release.validUntil = validUntil;
  return release;
}

function hasKey(keys: Keyring, keyID: openpgp.KeyID): boolean {
  return keys.some((key) => key.getKeys(keyID).length > 0);
}

/**
 * Verifies a cleartext-signed InRelease and returns its parsed content. Accepted when at
 * least one signature by a keyring key is valid; refused when any signature by a keyring
 * key is invalid (signatures by keys we do not have are ignored, as apt does), and when
 * Valid-Until has passed.
 */
export async function verifyInRelease(
  text: string,
  keys: Keyring,
  options: VerifyOptions = {},
): Promise<Release> {
  const source = options.source ?? 'the archive';
  const now = options.now ?? new Date();
  if (!text.trimStart().startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) {
    throw signatureError(source, 'is not signed (no "BEGIN PGP SIGNED MESSAGE" header)');
  }
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (error) {
    throw signatureError(source, `has an unreadable signature: ${(error as Error).message}`);
  }
  let result: Awaited<ReturnType<typeof openpgp.verify>>;
  try {
    result = await openpgp.verify({ message, verificationKeys: keys, date: now });
  } catch (error) {
    // A signature packet that parses as armor but not as OpenPGP (found by fuzzing).
    throw signatureError(source, `has an unreadable signature: ${(error as Error).message}`);
  }
  let valid = 0;
  for (const signature of result.signatures) {
    if (!hasKey(keys, signature.keyID)) continue;
    try {
      await signature.verified;
      valid++;
    } catch (error) {
      throw signatureError(
        source,
        `has a bad signature by key ${signature.keyID.toHex().toUpperCase()}: ${(error as Error).message}`,
      );
    }
  }
  if (valid === 0) throw signatureError(source, 'is not signed by any key of the Debian archive keyring');
  const release = parseRelease(result.data, `InRelease of ${source}`);
  if (release.validUntil && release.validUntil.getTime() < now.getTime()) {
    throw signatureError(source, `expired on ${release.validUntil.toUTCString()} (Valid-Until)`);
  }
  return release;
}
