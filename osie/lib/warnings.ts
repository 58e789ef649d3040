/**
 * Warnings about the kernel command line go to two places: the journal (the service's log, at
 * warn level) and the console, through /dev/kmsg with a `hook-<service>:` prefix, because a
 * machine that boots with a bad setting is usually debugged from its (serial) console.
 */
import type { Logger } from './log.ts';
import { cutUtf8, utf8Length } from './platform/bytes.ts';
import { writeKmsg as writeKmsgRecord } from './platform/kmsg.ts';

/**
 * Kernel log level 3 (err), although these are warnings: the image sets `kernel.printk = 4 4 1 7`
 * (hook.yaml), so the console shows only levels below 4 and a level-4 line would never appear.
 */
const KMSG_LEVEL = 3;
/** The kernel cuts /dev/kmsg records at about 1 KiB (LOG_LINE_MAX); stay below it. */
const KMSG_MAX_BYTES = 900;

export type ConsoleWriter = (record: string) => void;

/** One write() per record, as /dev/kmsg requires; a missing device (tests, containers) is ignored. */
export const writeKmsg: ConsoleWriter = (record) => writeKmsgRecord(record);

/** Returns a function that reports each distinct warning once, redacted, to the journal and the console. */
export function warningReporter(
  log: Logger,
  program: string,
  writeConsole: ConsoleWriter = writeKmsg,
): (message: string) => void {
  const seen = new Set<string>();
  return (message) => {
    if (seen.has(message)) return;
    seen.add(message);
    log.warn(message);
    const line = `${program}: ${log.redact(message)}`.replace(/[\r\n]+/g, ' ');
    const cut = utf8Length(line) > KMSG_MAX_BYTES ? `${cutUtf8(line, KMSG_MAX_BYTES)}...` : line;
    writeConsole(`<${KMSG_LEVEL}>${cut}\n`);
  };
}
