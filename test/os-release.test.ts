/**
 * os-release is read by shells (`. /etc/os-release`) and by systemd: a value must come back
 * exactly as written and can never add an assignment. The shell is the oracle here.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isHookError } from '../src/errors.ts';
import { osRelease, osReleaseValue } from '../src/pipeline/stages/configure.ts';
import { tempDirSync } from './helpers/temp-dir.ts';

/** The variables a POSIX shell sees after sourcing `text`, for the given names. */
function sourced(text: string, names: string[]): Record<string, string> {
  const file = join(tempDirSync('hook-os-release-'), 'os-release');
  writeFileSync(file, text);
  const script = `. "$1"; ${names.map((n) => `printf '%s\\0' "$${n}"`).join('; ')}; printf '%s\\0' "\${EVIL-unset}"`;
  const out = execFileSync('sh', ['-c', script, 'sh', file], { encoding: 'utf8' }).split('\0');
  assert.equal(out[names.length], 'unset', 'no other variable was assigned');
  return Object.fromEntries(names.map((n, i) => [n, out[i] as string]));
}

test('os-release values read back exactly in a shell, whatever characters they hold', () => {
  for (const value of ['1.0', '1"; EVIL=1; x="', '$(EVIL=1)', '`EVIL=1`', 'a\\b', "it's", '$EVIL $((1+1))']) {
    const text = `VERSION_ID=${osReleaseValue(value)}\n`;
    assert.deepEqual(sourced(text, ['VERSION_ID']), { VERSION_ID: value }, text);
  }
});

test('the generated os-release parses as written', () => {
  const text = osRelease({ name: 'hookos', version: '0.1.0+git~1', arch: 'x86_64' });
  assert.deepEqual(sourced(text, ['NAME', 'PRETTY_NAME', 'VERSION_ID', 'VARIANT_ID']), {
    NAME: 'HookOS',
    PRETTY_NAME: 'HookOS 0.1.0+git~1 (hookos)',
    VERSION_ID: '0.1.0+git~1',
    VARIANT_ID: 'hookos',
  });
});

test('a line break or an unquotable name is refused, never written', () => {
  assert.throws(
    () => osRelease({ name: 'hookos', version: '1"\nID=evil', arch: 'x86_64' }),
    (error: unknown) => isHookError(error) && error.code === 'E_SPEC',
  );
  assert.throws(
    () => osRelease({ name: 'a b', version: '1', arch: 'x86_64' }),
    (error: unknown) => isHookError(error) && error.code === 'E_SPEC',
  );
});
