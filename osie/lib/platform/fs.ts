/**
 * Files on QuickJS's `os` module: plain open/read/write loops, because `std.loadFile` sizes a file
 * with ftell() and so reads /proc files (size 0) as empty. Every failure throws a SystemError
 * naming the call and the path.
 */
import * as os from 'quickjs:os';
import { utf8Decode, utf8Encode } from './bytes.ts';
import { EEXIST, EINTR, ENOENT, SystemError } from './errors.ts';

export function readBytes(path: string): Uint8Array {
  const fd = os.open(path, os.O_RDONLY);
  if (fd < 0) throw new SystemError(`open ${path}`, -fd);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buffer = new ArrayBuffer(65536);
      const n = os.read(fd, buffer, 0, buffer.byteLength);
      if (n === -EINTR) continue;
      if (n < 0) throw new SystemError(`read ${path}`, -n);
      if (n === 0) break;
      chunks.push(new Uint8Array(buffer, 0, n));
      total += n;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } finally {
    os.close(fd);
  }
}

export function readText(path: string): string {
  return utf8Decode(readBytes(path));
}

/** Writes every byte to `fd`, looping over short writes; returns 0 or `-errno`. */
export function writeAll(fd: number, bytes: Uint8Array): number {
  let at = 0;
  while (at < bytes.length) {
    const n = os.write(fd, bytes.buffer, bytes.byteOffset + at, bytes.length - at);
    if (n === -EINTR) continue;
    if (n < 0) return n;
    at += n;
  }
  return 0;
}

/** Creates or truncates `path` with `mode` (for a new file) and writes `data`. */
export function writeFile(path: string, data: string | Uint8Array, mode = 0o644): void {
  const fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode);
  if (fd < 0) throw new SystemError(`open ${path}`, -fd);
  try {
    const result = writeAll(fd, typeof data === 'string' ? utf8Encode(data) : data);
    if (result < 0) throw new SystemError(`write ${path}`, -result);
  } finally {
    os.close(fd);
  }
}

/**
 * Opens `path` for writing without creating it and writes `data` in one write() call, as
 * /dev/kmsg needs (one record per write). Returns 0 or `-errno`; never throws.
 */
export function writeOnce(path: string, data: Uint8Array): number {
  const fd = os.open(path, os.O_WRONLY);
  if (fd < 0) return fd;
  const n = os.write(fd, data.buffer, data.byteOffset, data.length);
  os.close(fd);
  return Math.min(n, 0);
}

/** Linux's O_NOCTTY (the same on x86_64 and arm64); qjs's `os` does not export it. */
const O_NOCTTY = 0o400;

/**
 * Writes `data` to a terminal device without making it this process's controlling terminal (a
 * service is a session leader without one, and a plain open would acquire it). Returns 0 or
 * `-errno`; never throws.
 */
export function writeTerminal(path: string, data: Uint8Array): number {
  const fd = os.open(path, os.O_WRONLY | O_NOCTTY);
  if (fd < 0) return fd;
  const result = writeAll(fd, data);
  os.close(fd);
  return result;
}

/** `mkdir -p`: creates `path` and its missing parents with `mode`. */
export function mkdirp(path: string, mode = 0o755): void {
  if (isDirectory(path)) return;
  const parent = dirname(path);
  if (parent !== path) mkdirp(parent, mode);
  const result = os.mkdir(path, mode);
  if (result < 0 && !(result === -EEXIST && isDirectory(path)))
    throw new SystemError(`mkdir ${path}`, -result);
}

/** The names in a directory, without `.` and `..`, sorted. */
export function readdir(path: string): string[] {
  const [names, errno] = os.readdir(path);
  if (errno !== 0) throw new SystemError(`readdir ${path}`, errno);
  return names.filter((name) => name !== '.' && name !== '..').sort();
}

export function exists(path: string): boolean {
  return os.stat(path)[1] === 0;
}

export function isDirectory(path: string): boolean {
  const [info, errno] = os.stat(path);
  return errno === 0 && (info.mode & os.S_IFMT) === os.S_IFDIR;
}

/** File size and permission bits, or undefined when there is no such file. */
export function stat(path: string): { size: number; mode: number; isDirectory: boolean } | undefined {
  const [info, errno] = os.stat(path);
  if (errno === ENOENT) return undefined;
  if (errno !== 0) throw new SystemError(`stat ${path}`, errno);
  return { size: info.size, mode: info.mode & 0o7777, isDirectory: (info.mode & os.S_IFMT) === os.S_IFDIR };
}

/** Removes a file or an empty directory; a missing one is fine. */
export function remove(path: string): void {
  const result = os.remove(path);
  if (result < 0 && result !== -ENOENT) throw new SystemError(`remove ${path}`, -result);
}

/** `rm -rf` without following symlinks. */
export function removeTree(path: string): void {
  const [info, errno] = os.lstat(path);
  if (errno === ENOENT) return;
  if (errno !== 0) throw new SystemError(`lstat ${path}`, errno);
  if ((info.mode & os.S_IFMT) === os.S_IFDIR) {
    for (const name of readdir(path)) removeTree(`${path}/${name}`);
  }
  remove(path);
}

export function rename(from: string, to: string): void {
  const result = os.rename(from, to);
  if (result < 0) throw new SystemError(`rename ${from} to ${to}`, -result);
}

let tempCounter = 0;

/** A new private directory under $TMPDIR (or /tmp), like mkdtemp(3). */
export function makeTempDir(prefix: string, base = '/tmp'): string {
  for (;;) {
    const name = `${base}/${prefix}${os.getpid()}-${++tempCounter}-${Math.floor(Math.random() * 1e9).toString(36)}`;
    const result = os.mkdir(name, 0o700);
    if (result === 0) return name;
    if (result !== -EEXIST) throw new SystemError(`mkdir ${name}`, -result);
  }
}

export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : trimmed.slice(0, slash);
}

/** Joins path parts with `/`, collapsing repeated slashes (no `..` handling: not needed here). */
export function joinPath(...parts: string[]): string {
  return parts.join('/').replace(/\/{2,}/g, '/');
}
