/**
 * How the docker CLI prints things, free of I/O, so that HookOS's `docker` looks like the one
 * people know: tables as Go's text/tabwriter lays them out with Docker's settings (minimum width
 * 10, padding 3), durations as go-units' HumanDuration, sizes as HumanSizeWithPrecision(…, 3),
 * `inspect` as json.Indent of the engine's own JSON, and the small part of Go templates that
 * `--format` is used with at a console (`{{.State.Pid}}`, `{{json .Config.Env}}`).
 */

/** Docker's table writer: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
const MIN_WIDTH = 10;
const PADDING = 3;

/** Code points, as Go counts a cell's width. */
function width(text: string): number {
  return [...text].length;
}

/**
 * Rows of cells as tabwriter aligns them: every column but the last padded to its widest cell
 * plus 3, at least 10; the last cell of a row is not padded.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(width(cell) + PADDING, MIN_WIDTH));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell))))
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision(size, 3): decimal units, Go's `%.3g`. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${goFormatG(size, 3)}${DECIMAL_UNITS[unit]}`;
}

/** Go's `%.<precision>g`: shortest of fixed and exponent form, trailing zeros removed. */
export function goFormatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa = '', exp = '0'] = value.toExponential(precision - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const expNumber = Number(exp);
    return `${trimmed}e${expNumber < 0 ? '-' : '+'}${String(Math.abs(expNumber)).padStart(2, '0')}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** Docker's stringutils.Ellipsis: at most `max` code points, the last one `…` when cut. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A 64-hex ID (with or without `sha256:`) as Docker shows it: 12 characters. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

export interface PortBinding {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/**
 * `0.0.0.0:8080->80/tcp, 53/udp`. Docker also merges consecutive ports into ranges; this does
 * not (a worker machine's containers publish no ports: they use the host network).
 */
export function formatPorts(ports: readonly PortBinding[] | undefined): string {
  return [...(ports ?? [])]
    .sort((a, b) => a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0))
    .map((p) => {
      if (p.PublicPort === undefined) return `${p.PrivatePort}/${p.Type}`;
      const ip = p.IP?.includes(':') ? `[${p.IP}]` : (p.IP ?? '0.0.0.0');
      return `${ip}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`;
    })
    .join(', ');
}

/**
 * Go's json.Indent(dst, src, "", "    "): the JSON text re-indented without being re-encoded, so
 * strings keep the engine's own escapes (`\u0026` for `&`, as `docker inspect` prints them).
 */
export function jsonIndent(text: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  let needIndent = false;
  const newline = () => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') {
      depth++;
      out += newline();
      needIndent = false;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      out += c;
      needIndent = true;
    } else if (c === '}' || c === ']') {
      if (needIndent) {
        needIndent = false;
      } else {
        depth--;
        out += newline();
      }
      out += c;
    } else if (c === ',') {
      out += `,${newline()}`;
    } else if (c === ':') {
      out += ': ';
    } else {
      out += c;
    }
  }
  return out;
}

/** Go's `%v` of a value decoded from JSON (maps sorted by key, as fmt prints them). */
export function goValue(value: unknown): string {
  if (value === undefined) return '<no value>';
  if (value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((key) => `${key}:${goValue((value as Record<string, unknown>)[key])}`);
  return `map[${entries.join(' ')}]`;
}

/**
 * A JSON number as Go prints the field it came from: integers (the engine's ints: Pid, ExitCode,
 * Size) in decimal; other numbers as `%v` of a float64 (shortest digits, exponent form when the
 * exponent is below -4 or at least 6).
 */
function goNumber(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 53) return String(value);
  const [mantissa = '', exp = '0'] = value.toExponential().split('e');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(`template: ${message}`);
    this.name = 'TemplateError';
  }
}

/**
 * Renders the part of Go's text/template that console use needs: text, `{{.Path.To.Field}}`,
 * `{{.}}`, `{{json .Path}}` (and `{{json .}}`). Anything else (range, if, functions) is refused
 * with a clear error rather than misprinted.
 */
export function renderTemplate(template: string, data: unknown): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = template.indexOf('{{', at);
    if (open < 0) return out + template.slice(at);
    out += template.slice(at, open);
    const close = template.indexOf('}}', open);
    if (close < 0) throw new TemplateError(`unclosed action in ${JSON.stringify(template)}`);
    const action = template
      .slice(open + 2, close)
      .replace(/^-\s*/, '')
      .replace(/\s*-$/, '')
      .trim();
    const json = /^json\s+(\S+)$/.exec(action);
    const path = json?.[1] ?? action;
    if (!/^\.([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)?$/.test(path)) {
      throw new TemplateError(
        `"{{${action}}}" is not supported here: this docker knows {{.Field.Field}} and {{json .Field}}`,
      );
    }
    let value: unknown = data;
    for (const name of path.split('.').filter((part) => part !== '')) {
      value =
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? (value as Record<string, unknown>)[name]
          : undefined;
      if (value === undefined) break;
    }
    out += json !== null ? JSON.stringify(value ?? null) : goValue(value);
    at = close + 2;
  }
}
