import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEffect, maintainerScriptWarnings, scanMaintainerScripts } from './maintainer-scripts.ts';

const scripts = (postinst: string, preinst?: string) =>
  new Map<string, Uint8Array>([
    ['postinst', new TextEncoder().encode(postinst)],
    ...(preinst === undefined ? [] : ([['preinst', new TextEncoder().encode(preinst)]] as const)),
  ]);

test('actions the build covers by a rule are not listed; the others are, with their command', () => {
  const effects = scanMaintainerScripts(
    'example',
    scripts(
      [
        '#!/bin/sh',
        'deb-systemd-helper enable example.service',
        'update-alternatives --install /usr/bin/x x /usr/bin/x-1 10',
        'setcap cap_net_raw+ep /usr/bin/example',
        'chmod 4755 /usr/bin/example',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    effects.map((e) => [e.command, e.action, e.reviewed]),
    [
      ['setcap', 'setcap cap_net_raw+ep /usr/bin/example', undefined],
      ['chmod', 'chmod 4755 /usr/bin/example', undefined],
    ],
  );
});

test('here-document bodies and messages printed with cat are text, not actions; commands are whole words', () => {
  const effects = scanMaintainerScripts(
    'example',
    scripts(
      [
        'cat <<EOF',
        'update-passwd has found differences; rm nothing',
        'EOF',
        "cat > /etc/example.conf <<-'END'",
        '\tchmod is a word in this text',
        '\tEND',
        'cat "$tmp"',
        '--slave /usr/share/man/man8/rmt.8.gz rmt.8.gz \\',
        'rm -f /etc/old',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    effects.map((e) => e.action),
    ["cat > /etc/example.conf <<-'END'", 'rm -f /etc/old'],
  );
});

test('a reviewed package warns only about commands nobody reviewed for it; --verbose lists all with the note', () => {
  // iproute2 is reviewed for setcap, mv and rmdir (file capabilities are not needed: only root).
  const reviewed = scanMaintainerScripts(
    'iproute2',
    scripts('setcap "cap_net_admin=ep" /bin/ip\nrmdir /etc/x'),
  );
  assert.ok(reviewed.every((e) => e.reviewed?.startsWith('skipped: file capabilities')));
  assert.deepEqual(maintainerScriptWarnings(reviewed), []);
  assert.match(
    describeEffect(reviewed[0] as (typeof reviewed)[number]),
    /^iproute2 \(postinst\): setcap .*\[skipped: /,
  );

  // A new kind of action in a later version of the package is seen.
  const changed = scanMaintainerScripts('iproute2', scripts('setcap x /bin/ip\nchown ip:ip /etc/iproute2'));
  const warnings = maintainerScriptWarnings(changed);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? '',
    /maintainer scripts of 1 packages do things the build does not cover .*: iproute2$/,
  );
  assert.match(
    describeEffect(changed[1] as (typeof changed)[number]),
    /chown ip:ip \/etc\/iproute2 {2}\[not covered\]$/,
  );
});
