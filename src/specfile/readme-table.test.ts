/**
 * The README's hook.yaml table and the schema say the same: every key of the schema has a row,
 * and every default the schema applies is the one the table shows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoPath } from '../repo.ts';
import { jsonSchema } from './schema.ts';

interface SchemaNode {
  default?: unknown;
  properties?: Record<string, SchemaNode>;
}

/** Dotted key → default, for every leaf key of the JSON Schema (objects are walked into). */
function schemaKeys(node: SchemaNode, prefix = ''): Map<string, unknown> {
  const keys = new Map<string, unknown>();
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    if (child.properties && !['image'].includes(key)) {
      for (const [k, v] of schemaKeys(child, key)) keys.set(k, v);
    } else {
      keys.set(key, child.default);
    }
  }
  return keys;
}

/** The table rows under "## hook.yaml": key → default column. */
function readmeRows(): Map<string, string> {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## hook.yaml'),
    readme.indexOf('\n## ', readme.indexOf('## hook.yaml') + 3),
  );
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const key = /^`([a-zA-Z.]+)`$/.exec(cells[1] ?? '')?.[1];
    if (key !== undefined && cells.length >= 5) rows.set(key, cells[3] ?? '');
  }
  return rows;
}

/** How the table writes a default. */
function shown(value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value))
    return value.length === 0 ? 'none' : value.map((v) => `\`${String(v)}\``).join(', ');
  return `\`${String(value)}\``;
}

test("README's hook.yaml table has a row per schema key, with the schema's default", () => {
  const schema = schemaKeys(jsonSchema() as SchemaNode);
  const rows = readmeRows();
  const version = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')).version;
  assert.ok(rows.size > 10, `only ${rows.size} rows read from the README`);
  for (const [key, value] of schema) {
    assert.ok(rows.has(key), `README's hook.yaml table has no row for ${key}`);
    const cell = rows.get(key);
    if (key === 'version') assert.equal(value, version, 'the default version is the tool version');
    else if (key === 'packages') assert.equal(cell, '(required)');
    else assert.equal(cell, shown(value), `default of ${key}`);
  }
  for (const key of rows.keys())
    assert.ok(schema.has(key), `README documents ${key}, which the schema does not have`);
});
