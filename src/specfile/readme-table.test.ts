/**
 * The README's hook.yaml table and the schema say the same: every key of the schema has a row,
 * and every default the schema applies is the one the table shows. Every example spec of its
 * Customise section loads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { repoPath } from '../repo.ts';
import { loadSpec } from './load.ts';
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

test("every spec of the README's Customise section loads, extending the default", () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8');
  const start = readme.indexOf('## Customise');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
  const examples = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(examples.length >= 5, `only ${examples.length} examples in the Customise section`);
  const dir = mkdtempSync(join(tmpdir(), 'hook-readme-'));
  try {
    // The registry example names a CA file beside the spec: any real certificate will do.
    writeFileSync(join(dir, 'acme-ca.pem'), rootCertificates[0] ?? '');
    for (const [i, text] of examples.entries()) {
      assert.match(text, /^extends: default\n/, `example ${i + 1} extends the default`);
      const file = join(dir, `site-${i + 1}.yaml`);
      writeFileSync(file, text);
      const { spec } = loadSpec(file);
      assert.ok(spec.packages.length > 10, `example ${i + 1} keeps the default's packages`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
