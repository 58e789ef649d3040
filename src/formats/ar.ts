/**
 * Reader for the common Unix `ar` archive format (`!<arch>\n`), as used by `.deb` files.
 * Member names may be plain (`data.tar.xz`), GNU style with a trailing `/`, GNU long names
 * (`/123` into the `//` table) or BSD long names (`#1/<len>`, name stored before the data).
 * Members are returned in order; their data are views into the input buffer (no copy).
 */
import { HookError } from '../errors.ts';

export interface ArMember {
  name: string;
  /** A view into the archive buffer. */
  data: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
}

const MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function formatError(offset: number, what: string): HookError {
  return new HookError('E_ARCHIVE_FORMAT', `Cannot read ar archive at offset ${offset}: ${what}`);
}

/** A space-padded numeric header field; an all-blank field reads as 0 (GNU symbol tables). */
function numberField(header: string, start: number, width: number, radix: 8 | 10, label: string): number {
  const text = header.slice(start, start + width).trimEnd();
  if (text === '') return 0;
  const pattern = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!pattern.test(text)) throw new Error(`bad ${label} field ${JSON.stringify(text)}`);
  return Number.parseInt(text, radix);
}

export function readAr(buf: Uint8Array): ArMember[] {
  if (buf.byteLength < MAGIC.length || latin1.decode(buf.subarray(0, MAGIC.length)) !== MAGIC) {
    throw formatError(0, 'missing "!<arch>" magic (not an ar archive)');
  }
  const members: ArMember[] = [];
  let longNames: Uint8Array | undefined;
  let offset = MAGIC.length;
  while (offset < buf.byteLength) {
    if (offset + HEADER_SIZE > buf.byteLength) throw formatError(offset, 'truncated member header');
    const header = latin1.decode(buf.subarray(offset, offset + HEADER_SIZE));
    const rawName = header.slice(0, 16).trimEnd();
    const where = `member ${JSON.stringify(rawName)} at offset ${offset}`;
    if (header.slice(58, 60) !== '`\n') {
      throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: header does not end with "\`\\n"`);
    }
    let fields: { mtime: number; uid: number; gid: number; mode: number; size: number };
    try {
      fields = {
        mtime: numberField(header, 16, 12, 10, 'mtime'),
        uid: numberField(header, 28, 6, 10, 'uid'),
        gid: numberField(header, 34, 6, 10, 'gid'),
        mode: numberField(header, 40, 8, 8, 'mode'),
        size: numberField(header, 48, 10, 10, 'size'),
      };
    } catch (error) {
      throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: ${(error as Error).message}`);
    }
    const dataStart = offset + HEADER_SIZE;
    const dataEnd = dataStart + fields.size;
    if (dataEnd > buf.byteLength) {
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `Cannot read ar ${where}: size ${fields.size} runs past the end of the archive (${buf.byteLength} bytes)`,
      );
    }
    const next = dataEnd + (fields.size % 2);
    if (next > buf.byteLength) {
      throw new HookError(
        'E_ARCHIVE_FORMAT',
        `Cannot read ar ${where}: missing padding byte after odd-sized data`,
      );
    }
    let data = buf.subarray(dataStart, dataEnd);
    let name: string;
    if (rawName === '/' || rawName === '/SYM64/') {
      offset = next; // GNU symbol table: not a file
      continue;
    } else if (rawName === '//') {
      longNames = data;
      offset = next;
      continue;
    } else if (/^\/[0-9]+$/.test(rawName)) {
      name = gnuLongName(longNames, Number.parseInt(rawName.slice(1), 10), where);
    } else if (/^#1\/[0-9]+$/.test(rawName)) {
      const length = Number.parseInt(rawName.slice(3), 10);
      if (length > data.byteLength) {
        throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: BSD name longer than the member`);
      }
      name = utf8.decode(data.subarray(0, length)).replace(/\0+$/, '');
      data = data.subarray(length);
    } else {
      name = rawName.endsWith('/') ? rawName.slice(0, -1) : rawName;
    }
    if (name === '') throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: empty member name`);
    members.push({ name, data, mode: fields.mode, uid: fields.uid, gid: fields.gid, mtime: fields.mtime });
    offset = next;
  }
  return members;
}

/** GNU long names live in the `//` member as `name/\n` records; `/<n>` is a byte offset into it. */
function gnuLongName(table: Uint8Array | undefined, index: number, where: string): string {
  if (table === undefined) {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: long name without a "//" name table`);
  }
  const end = Buffer.from(table.buffer, table.byteOffset, table.byteLength).indexOf('/\n', index, 'latin1');
  if (index >= table.byteLength || end < 0) {
    throw new HookError('E_ARCHIVE_FORMAT', `Cannot read ar ${where}: long name index ${index} out of range`);
  }
  return utf8.decode(table.subarray(index, end));
}
