/** A pass-through stream that hashes (SHA-256) and counts what flows through it. */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

export interface Sha256Meter {
  stream: Transform;
  /** Bytes seen so far. */
  size(): number;
  /** Hex digest; call once, after the stream has ended. */
  digest(): string;
}

export function sha256Meter(onBytes?: (total: number) => void): Sha256Meter {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(size);
      callback(null, chunk);
    },
  });
  return { stream, size: () => size, digest: () => hash.digest('hex') };
}
