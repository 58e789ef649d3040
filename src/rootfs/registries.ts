/**
 * Private registries (the spec's `registries:`): the OS trusts a registry's own CA where each
 * client looks for it — Docker in /etc/docker/certs.d/<host>/ca.crt (per registry), curl and
 * other TLS clients in the system bundle /etc/ssl/certs/ca-certificates.crt (the configure
 * stage appends these certificates to it) — so a registry with its own CA works without
 * `insecure_registries`. `insecure: true` goes to the image's docker-daemon.json, which
 * hook-docker merges with the command line's insecure registries at boot.
 *
 * This replaces what Hook once did at boot (fetch the registry's CA over plain HTTP and trust
 * whatever came back): the CA is a file the operator gives at build time, checked here.
 */
import { X509Certificate } from 'node:crypto';
import { IMAGE_DAEMON_JSON_PATH } from '../../osie/docker/config.ts';
import { HookError } from '../errors.ts';
import { fileNode, type Tree, treePath } from '../tree/tree.ts';

export interface RegistryTrust {
  host: string;
  /** PEM certificates of the registry's CA (none: `insecure` only). */
  certificates: string[];
  insecure: boolean;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

/**
 * The certificates of a PEM file, each checked by parsing it, and written back in a normal
 * form. A file holding a private key is refused: it would end up in an image anyone who
 * boots it can read. Throws E_SPEC with the reason (the caller places it in the spec).
 */
export function pemCertificates(data: Uint8Array, name: string): string[] {
  const text = new TextDecoder().decode(data);
  const certificates: string[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? '';
    if (label.includes('PRIVATE KEY'))
      throw new HookError('E_SPEC', `${name} holds a private key (${label})`, {
        hint: 'Give the CA certificate only: a key in the image can be read by anyone who boots it',
      });
    if (label !== 'CERTIFICATE') continue;
    try {
      certificates.push(new X509Certificate(match[0]).toString().trimEnd());
    } catch (error) {
      throw new HookError('E_SPEC', `${name}: a certificate does not parse (${(error as Error).message})`, {
        hint: 'Give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----), e.g. `openssl x509 -in ca.der -inform der -out ca.pem`',
      });
    }
  }
  if (certificates.length === 0)
    throw new HookError('E_SPEC', `${name} holds no PEM certificate`, {
      hint: 'Give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)',
    });
  return certificates;
}

/**
 * Writes each registry's CA to /etc/docker/certs.d/<host>/ca.crt and the insecure ones to the
 * image's docker-daemon.json; returns the certificates the system bundle must also hold.
 */
export function addRegistries(tree: Tree, registries: readonly RegistryTrust[]): string[] {
  const bundle: string[] = [];
  const insecure: string[] = [];
  for (const registry of registries) {
    if (registry.certificates.length > 0) {
      tree.set(
        treePath(`etc/docker/certs.d/${registry.host}/ca.crt`),
        fileNode(`${registry.certificates.join('\n')}\n`, 0o644),
      );
      bundle.push(...registry.certificates);
    }
    if (registry.insecure) insecure.push(registry.host);
  }
  if (insecure.length > 0) {
    tree.set(
      treePath(IMAGE_DAEMON_JSON_PATH.slice(1)),
      fileNode(`${JSON.stringify({ 'insecure-registries': insecure }, null, 2)}\n`, 0o644),
    );
  }
  return bundle;
}
