/**
 * Bytes and text without Node's Buffer or the WHATWG TextEncoder/TextDecoder, neither of which
 * QuickJS has. UTF-8 follows the WHATWG decoder exactly (each maximal invalid subpart becomes
 * one U+FFFD, as TextDecoder and Node's Buffer do; osie/test-runner checks it against Node on
 * random bytes), and lone surrogates are encoded as U+FFFD, as TextEncoder does. Pure code.
 */

const REPLACEMENT = 0xfffd;

/**
 * Native regex scans: qjs runs these in C, while a loop over the bytes in JavaScript costs about
 * a microsecond per byte under emulation (hook-syslog spent 2.5 s of a boot's CPU in such loops).
 */
const NON_ASCII = /[^\x00-\x7f]/;

export function utf8Encode(text: string): Uint8Array {
  if (!NON_ASCII.test(text)) {
    const ascii = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) ascii[i] = text.charCodeAt(i);
    return ascii;
  }
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        code = REPLACEMENT;
      }
    }
    if (code < 0x80) {
      out[n++] = code;
    } else if (code < 0x800) {
      out[n++] = 0xc0 | (code >> 6);
      out[n++] = 0x80 | (code & 0x3f);
    } else if (code < 0x10000) {
      out[n++] = 0xe0 | (code >> 12);
      out[n++] = 0x80 | ((code >> 6) & 0x3f);
      out[n++] = 0x80 | (code & 0x3f);
    } else {
      out[n++] = 0xf0 | (code >> 18);
      out[n++] = 0x80 | ((code >> 12) & 0x3f);
      out[n++] = 0x80 | ((code >> 6) & 0x3f);
      out[n++] = 0x80 | (code & 0x3f);
    }
  }
  return out.slice(0, n);
}

export function utf8Decode(bytes: Uint8Array): string {
  // Most text is ASCII: each byte is its character, and the check runs natively.
  const latin1 = latin1Decode(bytes);
  if (!NON_ASCII.test(latin1)) return latin1;
  const parts: string[] = [];
  let units: number[] = [];
  const flush = () => {
    parts.push(String.fromCharCode(...units));
    units = [];
  };
  let i = 0;
  while (i < bytes.length) {
    const first = bytes[i] as number;
    if (first < 0x80) {
      units.push(first);
      i++;
    } else {
      let need = 0;
      let code = 0;
      let lower = 0x80;
      let upper = 0xbf;
      if (first >= 0xc2 && first <= 0xdf) {
        need = 1;
        code = first & 0x1f;
      } else if (first >= 0xe0 && first <= 0xef) {
        need = 2;
        code = first & 0x0f;
        if (first === 0xe0) lower = 0xa0;
        if (first === 0xed) upper = 0x9f;
      } else if (first >= 0xf0 && first <= 0xf4) {
        need = 3;
        code = first & 0x07;
        if (first === 0xf0) lower = 0x90;
        if (first === 0xf4) upper = 0x8f;
      }
      let j = i + 1;
      let complete = need > 0;
      for (let k = 0; k < need; k++, j++) {
        const next = bytes[j];
        if (next === undefined || next < lower || next > upper) {
          complete = false;
          break;
        }
        lower = 0x80;
        upper = 0xbf;
        code = (code << 6) | (next & 0x3f);
      }
      if (!complete) {
        // One U+FFFD for the maximal subpart; the byte that broke it starts over.
        units.push(REPLACEMENT);
        i = need === 0 ? i + 1 : j;
      } else {
        if (code >= 0x10000) {
          code -= 0x10000;
          units.push(0xd800 + (code >> 10), 0xdc00 + (code & 0x3ff));
        } else {
          units.push(code);
        }
        i = j;
      }
    }
    if (units.length >= 4096) flush();
  }
  flush();
  return parts.join('');
}

/** Each byte as one character (U+0000–U+00FF), as the kernel's command line is read. */
export function latin1Decode(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 4096) {
    // apply, not a spread: no iterator step per byte.
    parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]));
  }
  return parts.join('');
}

export function utf8Length(text: string): number {
  return NON_ASCII.test(text) ? utf8Encode(text).length : text.length;
}

/**
 * The longest prefix of `text` whose UTF-8 form has at most `maxBytes` bytes, never cutting a
 * character in two.
 */
export function cutUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, two units, is 4).
  if (text.length * 3 <= maxBytes) return text;
  if (!NON_ASCII.test(text)) return text.slice(0, Math.max(0, maxBytes));
  const bytes = utf8Encode(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // Back up over continuation bytes to the start of the character that does not fit.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return utf8Decode(bytes.subarray(0, end));
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The index of `needle` in `bytes` from `from`, or -1. */
export function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= bytes.length; i++) {
    for (let k = 0; k < needle.length; k++) if (bytes[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** RFC 4648 base64, padded. */
export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += BASE64[n >> 18];
    out += BASE64[(n >> 12) & 63];
    out += b === undefined ? '=' : BASE64[(n >> 6) & 63];
    out += c === undefined ? '=' : BASE64[n & 63];
  }
  return out;
}

/** RFC 4648 §5 base64url without padding (what Node's `toString('base64url')` gives). */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64Encode(bytes).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
}

/** Decodes base64 or base64url, padded or not; undefined when `text` is neither. */
export function base64Decode(text: string): Uint8Array | undefined {
  const clean = text.replaceAll('-', '+').replaceAll('_', '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let n = 0;
  for (const char of clean) {
    value = (value << 6) | BASE64.indexOf(char);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function readUint32BE(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] ?? 0) << 24) >>> 0) +
    ((bytes[at + 1] ?? 0) << 16) +
    ((bytes[at + 2] ?? 0) << 8) +
    (bytes[at + 3] ?? 0)
  );
}
