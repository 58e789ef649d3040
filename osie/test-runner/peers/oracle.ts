/**
 * Node as an oracle for the qjs replacements of its built-ins: the tests on qjs send inputs here
 * and compare the answers with what osie/lib/platform (bytes.ts) and host-port.ts compute.
 */
import { isIPv6 } from 'node:net';
import { servePeer } from './rpc.ts';

await servePeer(
  {
    isIPv6: (texts: string[]) => texts.map((text) => isIPv6(text)),
    utf8Decode: (arrays: number[][]) => arrays.map((bytes) => Buffer.from(bytes).toString('utf8')),
    utf8Encode: (texts: string[]) => texts.map((text) => [...Buffer.from(text, 'utf8')]),
    base64url: (arrays: number[][]) => arrays.map((bytes) => Buffer.from(bytes).toString('base64url')),
    base64: (arrays: number[][]) => arrays.map((bytes) => Buffer.from(bytes).toString('base64')),
  },
  () => ({}),
);
