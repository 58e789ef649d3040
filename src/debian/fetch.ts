/**
 * Downloads `.deb` files into the content-addressed cache, each verified by the SHA-256 and
 * size of its (signed) index entry while it streams (and cut off past that size), several at
 * a time. A cached `.deb` is hashed again on every call: one changed in place, even with its
 * size and mtime put back, is deleted and downloaded again.
 */
import { HookError } from '../errors.ts';
import { cachedPath, casPath, type RepairReporter } from './cache.ts';
import { downloadToFile, type RetryOptions } from './http.ts';

export interface FetchablePackage {
  /** Path relative to the mirror root (`pool/main/h/hostname/hostname_3.25_amd64.deb`). */
  filename: string;
  sha256: string;
  size: number;
  origin: { mirror: string };
  name?: string;
}

export interface FetchProgress {
  /** Packages ready (already cached or downloaded). */
  done: number;
  total: number;
  /** Bytes downloaded so far in this call (cache hits excluded). */
  downloadedBytes: number;
  /** The package that just became ready. */
  filename: string;
  fromCache: boolean;
}

export interface FetchOptions {
  cacheDir: string;
  concurrency?: number;
  onProgress?: (progress: FetchProgress) => void;
  /** Told about each damaged cached `.deb` that was deleted and downloaded again (default: none). */
  onRepair?: RepairReporter;
  /** Told why a download is not progressing (waiting for data, retrying); default: none. */
  onWait?: (message: string) => void;
  retry?: RetryOptions;
}

/** Ensures every package is in the cache; returns SHA-256 → path of the verified cache file. */
export async function fetchPackages(
  pkgs: readonly FetchablePackage[],
  options: FetchOptions,
): Promise<Map<string, string>> {
  const unique = new Map<string, FetchablePackage>();
  for (const pkg of pkgs) {
    const sha256 = pkg.sha256.toLowerCase();
    const seen = unique.get(sha256);
    if (seen && seen.size !== pkg.size) {
      throw new HookError(
        'E_INDEX',
        `${seen.filename} and ${pkg.filename} share SHA-256 ${sha256} but differ in size`,
      );
    }
    if (!seen) unique.set(sha256, pkg);
  }
  const queue = [...unique.entries()];
  const result = new Map<string, string>();
  const total = queue.length;
  let done = 0;
  let downloadedBytes = 0;

  const fetchOne = async (sha256: string, pkg: FetchablePackage): Promise<void> => {
    const label = `package file ${pkg.filename}`;
    let path = await cachedPath(options.cacheDir, sha256, pkg.size, { onRepair: options.onRepair, label });
    const fromCache = path !== undefined;
    if (!path) {
      path = casPath(options.cacheDir, sha256);
      await downloadToFile(`${pkg.origin.mirror.replace(/\/+$/, '')}/${pkg.filename}`, path, {
        ...(options.onWait ? { onWait: options.onWait } : {}),
        ...options.retry,
        sha256,
        size: pkg.size,
        label,
      });
      downloadedBytes += pkg.size;
    }
    result.set(sha256, path);
    done++;
    options.onProgress?.({ done, total, downloadedBytes, filename: pkg.filename, fromCache });
  };

  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      try {
        await fetchOne(next[0], next[1]);
      } catch (error) {
        queue.length = 0; // stop starting new downloads; in-flight ones finish or clean up
        throw error;
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 6, total));
  const outcomes = await Promise.allSettled(Array.from({ length: workers }, worker));
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return result;
}
