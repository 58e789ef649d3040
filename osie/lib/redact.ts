/**
 * The one rule set that keeps credentials out of everything the OS services emit (and out of
 * the builder's errors and progress, src/errors.ts): their log
 * lines (log.ts), failures printed by runMain, warnings copied to the console, and every journal
 * line hook-syslog forwards to syslog_host — including lines we did not write, such as the
 * kernel's own `Kernel command line: … registry_password=…`.
 *
 * Rules, applied to the original text (all matches are collected first, overlapping ones merged,
 * then each merged range becomes `***`, so no rule ever sees another rule's output):
 *
 * 1. The value of every credential key, whatever it is: `registry_password=<value>` in the
 *    kernel's own syntax (quotes may group spaces), `"REGISTRY_PASSWORD=<value>"` inside a quoted
 *    string (an environment list), and `"registry_password": "<value>"` (JSON). Keys match
 *    case-insensitively, so the worker's environment name is covered too.
 * 2. URL userinfo (`http://<user:password>@proxy`), and `password=`/`token=` in query strings.
 * 3. Every registered secret value (and its JSON-escaped and URL-encoded spellings):
 *    - from MIN_SUBSTRING_SECRET characters on, wherever it appears, even inside a word;
 *    - shorter ones only as a whole token: not preceded or followed by a letter, digit, `_`, `.`
 *      or `-`. Why: a 1-character password `a` is a substring of most lines; masking every `a`
 *      would make the logs unreadable and, worse, turn the masking itself into an oracle (the
 *      shape of the `***`s spells out where the password's characters are). As a whole token
 *      (`"a"`, `msg=a`, `user:a@host`, ` a `) it is masked; inside `banana` or `x-a-y` it is not.
 *      For a random password of k characters from 62, an accidental match at a given position
 *      has probability 62^-k: 1.8e-11 for k = 6 (nothing in a boot's few MB of journal), but
 *      4.2e-6 for k = 3 (several per 2 KB line budget over a boot), hence the threshold.
 */

import { cmdlineWords } from './cmdline.ts';

/** Kernel command line keys whose values are credentials. The only list: add new keys here. */
export const CREDENTIAL_KEYS: readonly string[] = ['registry_password'];

/** Query and form keys whose values are credentials (`?password=…&`), as the builder meets them in URLs. */
const QUERY_CREDENTIAL_KEYS: readonly string[] = ['password', 'passwd', 'token', 'access_token'];

export const MASK = '***';

/** Secrets at least this long are masked wherever they appear (see the rules above). */
export const MIN_SUBSTRING_SECRET = 6;

/** Characters that continue a token: a short secret next to one of these is part of a longer word. */
const TOKEN_CHAR = /[\p{L}\p{N}_.-]/u;

const KEY_ALTERNATION = CREDENTIAL_KEYS.map(escapeRegExp).join('|');

/**
 * The three spellings of a credential key and its value; group 1 is the value.
 * - kernel: not inside a word or a quoted string; the value runs to unquoted whitespace, with
 *   `"…"` grouping spaces exactly like the kernel's own parser.
 * - quoted: `"KEY=value"` (a Docker environment list); the value ends at the closing quote.
 * - json: `"key": "value"` with JSON escapes.
 */
const KEY_VALUE_PATTERNS: readonly RegExp[] = [
  new RegExp(`(?<![\\p{L}\\p{N}_"'])(?:${KEY_ALTERNATION})=((?:[^\\s"]|"[^"]*"?)+)`, 'dgiu'),
  new RegExp(`(?<=["'])(?:${KEY_ALTERNATION})=([^"'\\s][^"']*)`, 'dgiu'),
  new RegExp(`"(?:${KEY_ALTERNATION})"\\s*:\\s*"((?:[^"\\\\]|\\\\.)+)"?`, 'dgiu'),
  // A query or form value ends at `&` (the kernel's own value does not).
  new RegExp(
    `(?<![\\p{L}\\p{N}_])(?:${QUERY_CREDENTIAL_KEYS.map(escapeRegExp).join('|')})=([^\\s&"']+)`,
    'dgiu',
  ),
];

/**
 * `scheme://user:password@`: group 1 is the whole userinfo, user included (registries and
 * proxies take tokens as user names too).
 */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]{0,31}:\/\/([^\s/@]+)@/dgiu;

/**
 * Every KEY_VALUE_PATTERNS match contains one of the keys, under the same `iu` case folding, and
 * every URL_PASSWORD match contains `://`. Most journal lines contain neither, and testing this
 * first is what makes forwarding cheap: the patterns above (Unicode classes, lookbehinds) cost
 * ~0.3 ms a line in qjs natively, ~14 ms per journal entry under emulation: 10 s of CPU per boot
 * in hook-syslog, measured.
 */
const ANY_KEY = new RegExp([...CREDENTIAL_KEYS, ...QUERY_CREDENTIAL_KEYS].map(escapeRegExp).join('|'), 'iu');
const URL_MARK = '://';

/**
 * The values of every credential key on a command line (see CREDENTIAL_KEYS), every occurrence,
 * not only the last one that counts: the kernel's own log line shows them all.
 */
export function credentialValues(cmdlineText: string): string[] {
  const values = new Set<string>();
  for (const [key, value] of cmdlineWords(cmdlineText)) {
    if (!CREDENTIAL_KEYS.includes(key) || value === undefined || value === '') continue;
    values.add(value);
    // The settings trim trailing newlines (as Hook does); mask both spellings.
    const trimmed = value.replace(/[\r\n]+$/, '');
    if (trimmed !== '') values.add(trimmed);
  }
  return [...values];
}

export class Redactor {
  readonly #secrets = new Set<string>();

  /** Masks this value from now on, whatever its length (the empty string is ignored). */
  add(value: string): void {
    if (value === '') return;
    for (const spelling of spellings(value)) this.#secrets.add(spelling);
  }

  /** The text with every credential masked (never throws). */
  redact(text: string): string {
    const ranges: [number, number][] = [];
    const patterns = [
      ...(ANY_KEY.test(text) ? KEY_VALUE_PATTERNS : []),
      ...(text.includes(URL_MARK) ? [URL_PASSWORD] : []),
    ];
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        const span = match.indices?.[1];
        if (span !== undefined && span[1] > span[0]) ranges.push([span[0], span[1]]);
      }
    }
    for (const secret of this.#secrets) {
      const whole = secret.length < MIN_SUBSTRING_SECRET;
      for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1)) {
        const end = at + secret.length;
        if (whole && (continuesToken(text, at - 1) || continuesToken(text, end))) continue;
        ranges.push([at, end]);
      }
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let out = '';
    let copied = 0;
    let current: [number, number] | undefined;
    for (const range of ranges) {
      if (current !== undefined && range[0] <= current[1]) {
        current[1] = Math.max(current[1], range[1]);
        continue;
      }
      if (current !== undefined) {
        out += text.slice(copied, current[0]) + MASK;
        copied = current[1];
      }
      current = [range[0], range[1]];
    }
    if (current !== undefined) {
      out += text.slice(copied, current[0]) + MASK;
      copied = current[1];
    }
    return out + text.slice(copied);
  }
}

function continuesToken(text: string, index: number): boolean {
  const char = text[index];
  return char !== undefined && TOKEN_CHAR.test(char);
}

/** The value as written, inside a JSON string, and percent-encoded in a URL. */
function spellings(value: string): string[] {
  const all = new Set([value, JSON.stringify(value).slice(1, -1)]);
  try {
    all.add(encodeURIComponent(value));
  } catch {
    // A lone surrogate cannot be percent-encoded; it cannot appear that way either.
  }
  return [...all].filter((spelling) => spelling !== '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
