/**
 * One test per class of spec error: each message must name file:line:column exactly, so that
 * editors and terminals can jump to the node.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isHookError } from '../src/errors.ts';
import { loadSpec, SpecError, specError } from '../src/spec/load.ts';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/spec/${name}`, import.meta.url));

function messageOf(file: string): string {
  try {
    loadSpec(file);
  } catch (error) {
    assert.ok(error instanceof SpecError, String(error));
    assert.ok(isHookError(error));
    assert.equal(error.code, 'E_SPEC');
    return error.message;
  }
  assert.fail(`${file} loaded without error`);
}

test('unknown key: named at the key, with a suggestion', () => {
  const file = fixture('unknown-key.yaml');
  assert.equal(
    messageOf(file),
    [
      `${file}:2:1: kernal: unknown key "kernal" (did you mean kernel?)`,
      `${file}:7:5: packages[1].exlcude: unknown key "exlcude" (did you mean exclude?)`,
    ].join('\n'),
  );
});

test('wrong type: says what was expected and what was found', () => {
  const file = fixture('wrong-type.yaml');
  assert.equal(
    messageOf(file),
    [
      `${file}:4:12: kernel.modules: expected a list of strings, got a number`,
      `${file}:6:31: kernel.firmware.packages[1]: expected a string, got a boolean (true)`,
      `${file}:7:13: sizeBudget: expected a string or a whole number, got a list`,
    ].join('\n'),
  );
});

test('missing source file: named relative to the spec file', () => {
  const file = fixture('missing-source.yaml');
  const absent = fixture('files/absent.conf');
  assert.equal(
    messageOf(file),
    `${file}:6:13: files[1].source: source file "files/absent.conf" does not exist (${absent})`,
  );
});

test('bad glob: unbalanced bracket, absolute path, empty exclusion, ".."', () => {
  const file = fixture('bad-glob.yaml');
  assert.equal(
    messageOf(file),
    [
      `${file}:3:15: packages[0].include[0]: bad glob "usr/bin/[docker": Missing closing: "]" - use "\\\\]" to match literal characters`,
      `${file}:6:5: exclude[1]: bad glob "/usr/share/man/**": write it relative to the image root, without the leading "/"`,
      `${file}:10:7: kernel.modules[1]: bad glob "!": the pattern is empty`,
      `${file}:11:7: kernel.modules[2]: bad glob "kernel/../../etc/**": ".." is not allowed`,
    ].join('\n'),
  );
});

test('YAML syntax error: position from the parser', () => {
  const file = fixture('syntax-error.yaml');
  assert.equal(
    messageOf(file),
    `${file}:5:3: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  );
});

test('unknown package (reported later by the resolver): specError points at the entry', () => {
  const file = fixture('unknown-package.yaml');
  const loaded = loadSpec(file);
  const error = specError(loaded, ['packages', 3], 'unknown package "systemdd" (did you mean systemd?)');
  assert.equal(error.code, 'E_SPEC');
  assert.equal(error.message, `${file}:7:5: packages[3]: unknown package "systemdd" (did you mean systemd?)`);
  const inside = specError(loaded, ['packages', 2, 'exclude', 0], 'matches no file of docker.io');
  assert.equal(inside.message, `${file}:6:15: packages[2].exclude[0]: matches no file of docker.io`);
});
