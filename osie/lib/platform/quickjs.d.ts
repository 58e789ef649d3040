/**
 * Types for the parts of QuickJS's `os` and `std` modules (Debian trixie's quickjs 2025.04.26,
 * /usr/bin/qjs) that osie/lib/platform uses. Only the platform layer imports these modules,
 * as `quickjs:os` and `quickjs:std` (src/image/osie.ts rewrites them to qjs's `os` and
 * `std`; the prefix keeps them apart from Node's own `os` module for the type checker); everything
 * else goes through it. Errors are returned, not thrown: `-errno` from the `os` calls
 * that return a number, `[value, errno]` from those that return a value.
 */
declare module 'quickjs:os' {
  export const O_RDONLY: number;
  export const O_WRONLY: number;
  export const O_RDWR: number;
  export const O_APPEND: number;
  export const O_CREAT: number;
  export const O_EXCL: number;
  export const O_TRUNC: number;
  export const S_IFMT: number;
  export const S_IFDIR: number;
  export const S_IFREG: number;
  export const S_IFLNK: number;
  export const SIGINT: number;
  export const SIGTERM: number;
  export const SIGKILL: number;
  export const SIGPIPE: number;
  export const SIGCHLD: number;
  export const WNOHANG: number;

  export interface Stat {
    dev: number;
    ino: number;
    mode: number;
    nlink: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
  }

  export interface ExecOptions {
    /** Wait for the process (default true); false returns its pid. */
    block?: boolean;
    /** Look the program up in PATH (default true). */
    usePath?: boolean;
    cwd?: string;
    stdin?: number;
    stdout?: number;
    stderr?: number;
    /** The whole environment of the child (default: this process's). */
    env?: Record<string, string>;
  }

  export function open(path: string, flags: number, mode?: number): number;
  export function close(fd: number): number;
  export function read(fd: number, buffer: ArrayBuffer, offset: number, length: number): number;
  export function write(fd: number, buffer: ArrayBufferLike, offset: number, length: number): number;
  export function remove(path: string): number;
  export function rename(from: string, to: string): number;
  export function mkdir(path: string, mode?: number): number;
  export function stat(path: string): [Stat, number];
  export function lstat(path: string): [Stat, number];
  export function readdir(path: string): [string[], number];
  export function realpath(path: string): [string, number];
  export function getcwd(): [string, number];
  export function exec(args: string[], options?: ExecOptions): number;
  export function waitpid(pid: number, options: number): [number, number];
  export function pipe(): [number, number] | null;
  export function kill(pid: number, signal: number): number;
  export function getpid(): number;
  export function setReadHandler(fd: number, handler: (() => void) | null): void;
  export function setWriteHandler(fd: number, handler: (() => void) | null): void;
  /** `null` restores the default action, `undefined` ignores the signal. */
  export function signal(signal: number, handler: (() => void) | null | undefined): void;
  export function setTimeout(callback: () => void, ms: number): unknown;
  export function clearTimeout(handle: unknown): void;
  export function sleepAsync(ms: number): Promise<void>;
  export function now(): number;
}

declare module 'quickjs:std' {
  export interface FILE {
    puts(text: string): void;
    flush(): void;
    close(): number;
  }
  export const out: FILE;
  export const err: FILE;
  export function exit(code: number): never;
  export function getenv(name: string): string | undefined;
  export function setenv(name: string, value: string): void;
  export function getenviron(): Record<string, string>;
  export function strerror(errno: number): string;
}

/** qjs's own globals: the script path and its arguments, and a monotonic clock. */
declare const scriptArgs: string[];
declare const performance: { now(): number };
