/** Values and errors as text for test failures (a small `util.inspect`). */

export function inspect(value: unknown, depth = 0, seen: unknown[] = []): string {
  if (typeof value === 'string')
    return depth === 0 ? JSON.stringify(value) : `'${value.replaceAll("'", "\\'")}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `[Function ${value.name || '(anonymous)'}]`;
  if (typeof value !== 'object' || value === null) return String(value);
  if (seen.includes(value)) return '[Circular]';
  if (depth > 6) return '[Object]';
  const next = [...seen, value];
  const nest = (v: unknown) => inspect(v, depth + 1, next);
  if (value instanceof RegExp) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof Uint8Array)
    return `Uint8Array(${value.length}) [${[...value.subarray(0, 64)].join(', ')}${value.length > 64 ? ', …' : ''}]`;
  if (Array.isArray(value)) return `[${value.map(nest).join(', ')}]`;
  if (value instanceof Map)
    return `Map(${value.size}) {${[...value].map(([k, v]) => `${nest(k)} => ${nest(v)}`).join(', ')}}`;
  if (value instanceof Set) return `Set(${value.size}) {${[...value].map(nest).join(', ')}}`;
  const entries = Object.keys(value).map(
    (key) =>
      `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${nest((value as Record<string, unknown>)[key])}`,
  );
  return `{${entries.join(', ')}}`;
}

export function formatError(error: unknown): string {
  if (error instanceof Error) {
    const stack = typeof error.stack === 'string' ? error.stack.trim() : '';
    return stack === '' ? `${error.name}: ${error.message}` : `${error.name}: ${error.message}\n${stack}`;
  }
  return `thrown non-Error: ${inspect(error)}`;
}
