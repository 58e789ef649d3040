/** The kernel log (and so the console): one record per write() to /dev/kmsg, as the kernel requires. */
import { utf8Encode } from './bytes.ts';
import { writeOnce } from './fs.ts';

/** Writes one record (`<level>text\n`); without /dev/kmsg (tests, not root) nothing happens. */
export function writeKmsg(record: string): void {
  writeOnce('/dev/kmsg', utf8Encode(record));
}
