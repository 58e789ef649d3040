/**
 * Checks for what the spec carries into the OS besides packages and files: embedded container
 * image references (`images[].ref`, `images[].tag`) and SSH public keys (`ssh.authorizedKeys`,
 * and the builder's `~/.ssh/*.pub` read by `hook build --debug`). Each says why a value is
 * unusable, or returns undefined.
 */
import { parseImageRef } from '../../osie/lib/image-ref.ts';
import { controlCharacter } from './paths.ts';

/** Why `ref` cannot name an image to pull (Docker's reference rules), or undefined. */
export function imageRefProblem(ref: string): string | undefined {
  const parsed = parseImageRef(ref);
  if (!parsed.ok) return parsed.reason.replace(/^.* is not an image reference: /, '');
  if (parsed.value.registry === '') return 'it names no registry host';
  return undefined;
}

/** Why `tag` cannot be a name the image gets in the OS (a reference without a digest), or undefined. */
export function imageTagProblem(tag: string): string | undefined {
  const problem = imageRefProblem(tag);
  if (problem !== undefined) return problem;
  const parsed = parseImageRef(tag);
  if (parsed.ok && parsed.value.digest !== undefined) return 'a tag cannot hold a digest (@sha256:…)';
  return undefined;
}

/** The key types OpenSSH 10 accepts in authorized_keys (ssh-dss is gone since 10.0). */
export const SSH_KEY_TYPES: readonly string[] = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
];

/**
 * Why `line` is not one public key as authorized_keys takes it (`<type> <base64> [comment]`),
 * or undefined. Options (`from="…",command="…"`) are refused: a debug build gives plain key
 * login, and an option could change what the key may do. The base64 must decode to a blob
 * that names the same type, as sshd checks.
 */
export function sshPublicKeyProblem(line: string): string | undefined {
  const control = controlCharacter(line);
  if (control !== undefined) return `it contains a control character (${control}); give one key per entry`;
  const [type = '', blob = ''] = line.trim().split(/\s+/);
  if (!SSH_KEY_TYPES.includes(type)) {
    return `expected "<type> <base64> [comment]" with a type of ${SSH_KEY_TYPES.join(', ')}, not ${JSON.stringify(type.slice(0, 40))}`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return 'the key is not base64';
  const bytes = Buffer.from(blob, 'base64');
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length < 0 || 4 + length > bytes.length || bytes.subarray(4, 4 + length).toString('latin1') !== type) {
    return `the key's data does not start with its type ${type} (a truncated or mixed-up key?)`;
  }
  return undefined;
}
