/** A failed system call, with the errno and the text the C library gives for it. */
import * as std from 'quickjs:std';

/** The C library's text for an errno value ("No such file or directory"). */
export function errorText(errno: number): string {
  return std.strerror(errno);
}

export class SystemError extends Error {
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`${what}: ${errorText(errno)}`);
    this.name = 'SystemError';
    this.errno = errno;
  }
}

/** The errno values the services look at (Linux). */
export const ENOENT = 2;
export const EINTR = 4;
export const EAGAIN = 11;
export const EEXIST = 17;
export const ENOTDIR = 20;
export const EPIPE = 32;
