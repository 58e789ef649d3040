import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { isHookError } from '../errors.ts';
import { fileNode, Tree, treePath } from '../tree/tree.ts';
import { addRegistries, pemCertificates } from './registries.ts';

/** A throw-away CA made with openssl for this test (the public certificate only). */
const CA = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUCFOJHbPEyzRQ3UycC2cXW64C13wwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRaG9vay11bml0LXRlc3QtY2EwIBcNMjYxMTI5MTk0MDE3WhgP
MjEyNjExMDUxOTQwMTdaMBwxGjAYBgNVBAMMEWhvb2stdW5pdC10ZXN0LWNhMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEt9a0QZQ7j4vkO5wMviQ1gDZRHt1vDOwW
6h1SFB/1U7c4F+h+TqqiH9/HEy5fFxtOakeL4FrURZCNKwqJ1KZdC6NTMFEwHQYD
VR0OBBYEFL5c8fIkgljRbtqYSzYGXXXNs8SMMB8GA1UdIwQYMBaAFL5c8fIkgljR
btqYSzYGXXXNs8SMMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIg
KmQhSdOyFwyhs5NKrFCcgBE21EWb6H/JPmULbXt5bA8CIQC4NgNoXPllgeG/Ng3E
MQy+sqaiQdgobUvr0/ltu7XpsA==
-----END CERTIFICATE-----`;
const FINGERPRINT =
  '56:B7:98:D1:7F:38:90:55:96:9C:6F:02:B5:3B:0D:CF:24:A8:DB:D9:0F:BC:08:E5:85:7C:ED:1B:F1:51:F9:58';

const bytes = (text: string) => new TextEncoder().encode(text);
const fails = (text: string, pattern: RegExp) =>
  assert.throws(
    () => pemCertificates(bytes(text), 'ca.pem'),
    (error: unknown) => isHookError(error) && error.code === 'E_SPEC' && pattern.test(error.message),
  );

test('a CA file: every PEM certificate, parsed; comments around them are fine (CRLF too)', () => {
  const certs = pemCertificates(
    bytes(`# our registry CA\r\n${CA.replaceAll('\n', '\r\n')}\r\n\n${CA}\n`),
    'ca.pem',
  );
  assert.equal(certs.length, 2);
  for (const pem of certs) assert.equal(new X509Certificate(pem).fingerprint256, FINGERPRINT);
});

test('a private key, no certificate, or a damaged certificate is refused', () => {
  fails(
    `${CA}\n-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n`,
    /holds a private key \(PRIVATE KEY\)/,
  );
  fails('-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n', /holds a private key/);
  fails('not a certificate\n', /holds no PEM certificate/);
  fails(CA.replace('MIIBjzCCATWg', 'MIIBjzCCATWh'), /a certificate does not parse/);
});

test('each CA goes to /etc/docker/certs.d/<host>/ca.crt and to the bundle list; insecure hosts to docker-daemon.json', () => {
  const tree = new Tree();
  const bundle = addRegistries(tree, [
    { host: 'registry.lan:5000', certificates: [CA], insecure: false },
    { host: '10.0.0.5', certificates: [], insecure: true },
    { host: '[fd00::5]:5000', certificates: [CA], insecure: true },
  ]);
  assert.deepEqual(bundle, [CA, CA]);
  const text = (path: string) => {
    const node = tree.get(treePath(path));
    assert.ok(node?.kind === 'file', path);
    return new TextDecoder().decode(node.content.data);
  };
  assert.equal(text('etc/docker/certs.d/registry.lan:5000/ca.crt'), `${CA}\n`);
  assert.equal(text('etc/docker/certs.d/[fd00::5]:5000/ca.crt'), `${CA}\n`);
  assert.equal(tree.get(treePath('etc/docker/certs.d/10.0.0.5')), undefined, 'no CA, no folder');
  assert.deepEqual(JSON.parse(text('usr/lib/hook/docker-daemon.json')), {
    'insecure-registries': ['10.0.0.5', '[fd00::5]:5000'],
  });
  const none = new Tree();
  none.set(treePath('etc/motd'), fileNode('x'));
  assert.deepEqual(addRegistries(none, [{ host: 'r.lan', certificates: [CA], insecure: false }]), [CA]);
  assert.equal(
    none.get(treePath('usr/lib/hook/docker-daemon.json')),
    undefined,
    'no insecure registry, no file',
  );
});
