/**
 * One test per class of spec error: each message must name file:line:column exactly, so that
 * editors and terminals can jump to the node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isHookError } from '../src/errors.ts';
import { build } from '../src/pipeline/pipeline.ts';
import { silentReporter } from '../src/pipeline/reporter.ts';
import { loadSpec, SpecError, specError } from '../src/specfile/load.ts';
import { tempDirSync } from './helpers/temp-dir.ts';

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
      `${file}:6:5: exclude[1]: bad glob "/usr/share/man/**": write it relative to the root of the OS, without the leading "/"`,
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

const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));

function hook(...args: string[]) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [HOOK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: result.status, stderr: result.stderr, ms: performance.now() - started };
}

/** A failed `hook build`: exit 1, `error E_SPEC: …` and a hint, never a stack trace. */
function assertSpecFailure(run: ReturnType<typeof hook>): void {
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^error E_SPEC: /m);
  assert.match(run.stderr, /^hint: /m);
  assert.doesNotMatch(run.stderr, /internal error|^\s+at /m);
}

test('an alias bomb: exit 1 with E_SPEC at the alias, not an internal error (exit 3)', () => {
  const file = fixture('alias-bomb.yaml');
  const run = hook('build', file, '-o', tempDirSync('hook-bomb-'));
  assertSpecFailure(run);
  assert.match(
    run.stderr,
    new RegExp(`E_SPEC: ${file}:4:8: YAML: alias \\*b: aliases expand to too much data`),
  );
});

test('a 50 MB spec is refused at once by the size cap, without reading it', () => {
  const dir = tempDirSync('hook-huge-');
  const file = join(dir, 'hook.yaml');
  const line = `  - ${'a'.repeat(60)}\n`;
  writeFileSync(file, `packages:\n${line.repeat(Math.ceil((50 * 1024 * 1024) / line.length))}`);
  const run = hook('build', file, '-o', join(dir, 'out'));
  assertSpecFailure(run);
  assert.match(
    run.stderr,
    new RegExp(`E_SPEC: ${file}:1:1: \\(document\\): the spec is 50 MiB, over the limit of 1 MiB`),
  );
  // Before the cap: 52 s and 2.8 GB. Now the time of starting the CLI (about 1 s here).
  assert.ok(run.ms < 10_000, `${run.ms} ms`);
});

test('sources outside the spec folder: refused with the flag named; allowed with --allow-outside-sources', () => {
  const file = fixture('outside-source.yaml');
  const out = tempDirSync('hook-outside-');
  const refused = hook('build', file, '-o', out);
  assertSpecFailure(refused);
  const dir = fixture('');
  assert.match(
    refused.stderr,
    new RegExp(
      `${file}:6:13: files\\[1\\]\\.source: source ".*etc/passwd" is outside the spec's folder ${dir.replace(/\/$/, '')}`,
    ),
  );
  assert.match(
    refused.stderr,
    new RegExp(`${file}:8:13: files\\[2\\]\\.source: source "/etc/passwd" is outside`),
  );
  assert.match(refused.stderr, /hint: .*--allow-outside-sources/);
  // Allowed, the spec loads and the build goes on to the archive (unreachable here).
  const allowed = hook('build', file, '-o', out, '--allow-outside-sources', '--mirror', 'http://127.0.0.1:9');
  assert.equal(allowed.code, 1);
  assert.doesNotMatch(allowed.stderr, /E_SPEC/);
  assert.match(allowed.stderr, /^error E_(HTTP|MIRROR)/m);
});

test('hostile values and paths: all named at once, at their nodes', () => {
  const file = fixture('hostile-values.yaml');
  assert.equal(
    messageOf(file),
    [
      `${file}:2:10: version: bad version "1\\"\\nID=evil": expected letters, digits and . _ ~ + - (at most 64 characters, starting with a letter or digit)`,
      `${file}:5:13: files[0].path: bad path "usr/.": it ends with "/.", which names a directory: give the path of the file itself`,
      `${file}:10:12: systemd.enable[0]: bad unit name "docker": expected a systemd unit name such as docker.service or getty@tty1.service (letters, digits, ":_.\\-", one "@", a type: service, socket, device, mount, automount, swap, target, path, timer, slice, scope)`,
    ].join('\n'),
  );
  // Fixed, the cross checks come up: the collision after normalisation and the unknown owner.
  const fixed = join(tempDirSync('hook-hostile-'), 'hook.yaml');
  writeFileSync(
    fixed,
    readFileSync(file, 'utf8')
      .replace('version: "1\\"\\nID=evil"', 'version: "1"')
      .replace('"usr/."', 'usr/x')
      .replace('[docker]', '[docker.service]'),
  );
  assert.equal(
    messageOf(fixed),
    [
      `${fixed}:7:13: files[2].path: "etc/x" names the same path as files[1] "etc/x"`,
      `${fixed}:8:39: files[3].owner: bad owner "tink:docker": unknown user "tink" (did you mean bin?), unknown group "docker"`,
    ].join('\n'),
  );
});

test('an unknown owner fails before anything is resolved or downloaded', async () => {
  const file = fixture('unknown-owner.yaml');
  const outDir = tempDirSync('hook-owner-');
  const started = performance.now();
  // The mirror is unreachable: reaching the archive would be E_HTTP, not E_SPEC.
  await assert.rejects(
    build({ specFile: file, outDir, mirror: 'http://127.0.0.1:9', reporter: silentReporter }),
    (error) => {
      assert.ok(isHookError(error), String(error));
      assert.equal(error.code, 'E_SPEC');
      assert.equal(
        error.message,
        `${file}:7:12: files[0].owner: bad owner "daemn:dockr": unknown user "daemn" (did you mean daemon?), unknown group "dockr" (did you mean docker?)`,
      );
      assert.match(error.hint ?? '', /users:\/groups:/);
      return true;
    },
  );
  assert.ok(performance.now() - started < 2000);
});
