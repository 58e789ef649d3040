import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DEFAULT_EXCLUDE,
  globProblem,
  JSON_SCHEMA_FILE,
  jsonSchemaText,
  osPathProblem,
  parseMode,
  specSchema,
} from './schema.ts';

const toolVersion = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

test('a minimal spec gets every default', () => {
  const spec = specSchema.parse({ packages: ['systemd'] });
  assert.deepEqual(spec, {
    name: 'hookos',
    version: toolVersion,
    arch: 'x86_64',
    archive: {
      suites: ['trixie', 'trixie-updates', 'trixie-security'],
      components: ['main', 'non-free-firmware'],
    },
    kernel: {
      package: 'linux-image-{debarch}',
      modules: [],
      firmware: { packages: [], include: [] },
      cmdline: 'console=tty0 console=ttyS0,115200',
    },
    packages: [{ name: 'systemd' }],
    omit: [],
    exclude: DEFAULT_EXCLUDE,
    groups: [],
    users: [],
    symlinks: [],
    files: [],
    systemd: { enable: [], mask: [] },
    registries: [],
    images: [],
    ssh: { authorizedKeys: [] },
    sizeBudget: 448 * 1024 * 1024,
    compression: 'zstd',
    output: { dir: 'out' },
  });
});

test('package entries are normalized to objects', () => {
  const spec = specSchema.parse({
    packages: ['systemd', { name: 'docker.io', include: ['usr/bin/**'], exclude: ['usr/share/**'] }],
  });
  assert.deepEqual(spec.packages, [
    { name: 'systemd' },
    { name: 'docker.io', include: ['usr/bin/**'], exclude: ['usr/share/**'] },
  ]);
});

test('files get mode 0644 and owner root:root unless given', () => {
  const spec = specSchema.parse({
    packages: ['systemd'],
    files: [
      { path: 'etc/a', content: 'a' },
      { path: 'usr/bin/b', source: 'b.sh', mode: '0755', owner: '0:0' },
      { path: 'usr/bin/c', content: '', mode: 0o4755, owner: 'daemon:daemon' },
    ],
  });
  assert.deepEqual(
    spec.files.map((f) => [f.mode, f.owner]),
    [
      [0o644, 'root:root'],
      [0o755, '0:0'],
      [0o4755, 'daemon:daemon'],
    ],
  );
});

test('sizeBudget accepts units and bytes', () => {
  const parse = (sizeBudget: string | number) =>
    specSchema.parse({ packages: ['systemd'], sizeBudget }).sizeBudget;
  assert.equal(parse('1GiB'), 1024 ** 3);
  assert.equal(parse('400000000'), 400_000_000);
  assert.equal(parse(123456), 123456);
  assert.equal(specSchema.safeParse({ packages: ['systemd'], sizeBudget: 'big' }).success, false);
});

test('unknown keys are refused at every level', () => {
  for (const input of [
    { packages: ['systemd'], kernal: {} },
    { packages: ['systemd'], kernel: { modulez: [] } },
    { packages: [{ name: 'systemd', exclud: [] }] },
    { packages: ['systemd'], files: [{ path: 'etc/a', content: '', perms: '0644' }] },
  ]) {
    const result = specSchema.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    assert.equal(result.error?.issues[0]?.code, 'unrecognized_keys');
  }
});

test('semantic checks: paths, modes, units, passwords, duplicates, content xor source', () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ files: [{ path: '/etc/a', content: '' }] }, 'files.0.path'],
    [{ files: [{ path: 'etc/../../a', content: '' }] }, 'files.0.path'],
    [{ files: [{ path: 'etc/a', content: '', mode: '0999' }] }, 'files.0.mode'],
    [{ files: [{ path: 'etc/a', content: '', mode: 0o10000 }] }, 'files.0.mode'],
    [{ files: [{ path: 'etc/a' }] }, 'files.0'],
    [{ files: [{ path: 'etc/a', content: '', source: 'a' }] }, 'files.0'],
    [{ files: [{ path: 'etc/a', content: '', owner: 'root' }] }, 'files.0.owner'],
    [{ symlinks: [{ path: '/usr/sbin/iptables', target: 'xtables-nft-multi' }] }, 'symlinks.0.path'],
    [{ systemd: { enable: ['docker'] } }, 'systemd.enable.0'],
    [{ users: [{ name: 'tink', uid: 1000, password: 'hunter2' }] }, 'users.0.password'],
    [{ users: [{ name: 'Tink', uid: 1000 }] }, 'users.0.name'],
    [{ users: [{ name: 'tink', uid: -1 }] }, 'users.0.uid'],
    [{ users: [{ name: 'tink', uid: 1000, shell: 'bash' }] }, 'users.0.shell'],
    [
      {
        users: [
          { name: 'a', uid: 1000 },
          { name: 'b', uid: 1000 },
        ],
      },
      'users.1.uid',
    ],
    [
      {
        groups: [
          { name: 'docker', gid: 999 },
          { name: 'docker', gid: 998 },
        ],
      },
      'groups.1.name',
    ],
    [{ kernel: { package: 'linux-image-{debian}' } }, 'kernel.package'],
    [{ kernel: { modules: ['!'] } }, 'kernel.modules.0'],
    [{ archive: { mirror: 'ftp://mirror/debian' } }, 'archive.mirror'],
    [{ arch: 'amd64' }, 'arch'],
    [{ compression: 'xz' }, 'compression'],
    [{ packages: ['systemd', 'systemd'] }, 'packages.1.name'],
    [{ packages: [] }, 'packages'],
    [{ packages: ['Systemd'] }, 'packages.0'],
  ];
  for (const [extra, path] of bad) {
    const result = specSchema.safeParse({ packages: ['systemd'], ...extra });
    assert.deepEqual(
      result.error?.issues.map((issue) => issue.path.join('.')),
      [path],
      JSON.stringify(extra),
    );
  }
});

test('a password is never repeated in a message', () => {
  const result = specSchema.safeParse({
    packages: ['systemd'],
    users: [{ name: 'tink', uid: 1, password: 'hunter2' }],
  });
  assert.equal(result.success, false);
  assert.ok(!JSON.stringify(result.error?.issues).includes('hunter2'));
  const ok = specSchema.safeParse({
    packages: ['systemd'],
    users: [
      { name: 'tink', uid: 1001, password: '$y$j9T$abc$def' },
      { name: 'ops', uid: 1002, password: '!' },
    ],
  });
  assert.equal(ok.success, true);
});

test('globProblem: valid globs pass, broken ones say why', () => {
  for (const ok of [
    'usr/share/doc/**',
    'kernel/drivers/{net,block}/*.ko*',
    'lib/*.[ch]',
    'a/+(b|c)',
    'virtio_net',
  ]) {
    assert.equal(globProblem(ok), undefined, ok);
  }
  assert.match(globProblem('') ?? '', /empty/);
  assert.match(globProblem('/usr/**') ?? '', /leading "\/"/);
  assert.match(globProblem('a/../b') ?? '', /"\.\."/);
  assert.match(globProblem('usr/[bin') ?? '', /Missing closing/);
  assert.match(globProblem('a/[z-a]') ?? '', /Range out of order/);
  assert.match(globProblem('*(a') ?? '', /Missing closing/);
});

test('osPathProblem refuses absolute, climbing and empty paths', () => {
  assert.equal(osPathProblem('usr/sbin/iptables'), undefined);
  assert.notEqual(osPathProblem('/usr/sbin/iptables'), undefined);
  assert.notEqual(osPathProblem('usr/../../etc'), undefined);
  assert.notEqual(osPathProblem(''), undefined);
});

test('parseMode reads octal digits and takes numbers as the mode', () => {
  assert.equal(parseMode('0644'), 0o644);
  assert.equal(parseMode('644'), 0o644);
  assert.equal(parseMode('0o755'), 0o755);
  assert.equal(parseMode('4755'), 0o4755);
  assert.equal(parseMode(0o600), 0o600);
  assert.equal(parseMode('0999'), undefined);
  assert.equal(parseMode('077777'), undefined);
  assert.equal(parseMode(0o10000), undefined);
  assert.equal(parseMode(1.5), undefined);
});

test('hook.schema.json is up to date with the schema', () => {
  const checkedIn = readFileSync(JSON_SCHEMA_FILE, 'utf8');
  assert.equal(
    checkedIn,
    jsonSchemaText(),
    'hook.schema.json is stale: run node --import tsx -e "import(\'./src/spec/schema.ts\').then((m) => m.writeJsonSchema())"',
  );
});

test('the JSON Schema describes every key and refuses unknown ones', () => {
  const schema = JSON.parse(jsonSchemaText());
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(specSchema.shape).sort());
  assert.deepEqual(schema.required, ['packages']);
  assert.equal(schema.properties.kernel.additionalProperties, false);
  assert.deepEqual(schema.properties.arch.enum, ['x86_64', 'aarch64']);
  assert.equal(schema.properties.sizeBudget.default, '448MiB');
});

test('images: references and tags as Docker parses them, one entry per reference', () => {
  const issues = (images: unknown) => {
    const result = specSchema.safeParse({ packages: ['systemd'], images });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(
    issues([{ ref: 'quay.io/tinkerbell/tink-worker:v0.12.1', tag: 'tink-worker:latest' }]),
    [],
  );
  assert.deepEqual(issues([{ ref: `ubuntu@sha256:${'a'.repeat(64)}` }]), []);
  assert.deepEqual(issues([{ ref: 'Quay.io/x:y:z' }]), [
    'images.0.ref: bad image reference "Quay.io/x:y:z": a name is path components of [a-z0-9] joined by . _ __ or -, after an optional registry host[:port]',
  ]);
  assert.match(
    issues([{ ref: 'a/b', tag: `c@sha256:${'b'.repeat(64)}` }])[0] ?? '',
    /^images\.0\.tag: bad tag .*a tag cannot hold a digest/,
  );
  assert.match(issues([{ ref: 'a/b' }, { ref: 'a/b' }])[0] ?? '', /^images\.1\.ref: duplicate image "a\/b"/);
  assert.match(issues([{ ref: 'a/b', pull: 'always' }])[0] ?? '', /pull/);
});

test('ssh.authorizedKeys: one public key per entry, type and data checked', () => {
  const key = (type: string, body = type) => {
    const name = Buffer.from(body);
    const blob = Buffer.concat([Buffer.alloc(4), name, Buffer.from([0, 0, 0, 1, 7])]);
    blob.writeUInt32BE(name.length, 0);
    return `${type} ${blob.toString('base64')}`;
  };
  const issues = (authorizedKeys: unknown) => {
    const result = specSchema.safeParse({ packages: ['systemd'], ssh: { authorizedKeys } });
    return result.success ? [] : result.error.issues.map((i) => i.message);
  };
  assert.deepEqual(issues([`${key('ssh-ed25519')} me@laptop`, key('ecdsa-sha2-nistp256')]), []);
  assert.match(issues([key('ssh-dss')])[0] ?? '', /with a type of ssh-ed25519, .*not "ssh-dss"/);
  assert.match(issues([key('ssh-ed25519', 'ssh-rsa')])[0] ?? '', /does not start with its type ssh-ed25519/);
  assert.match(issues(['ssh-ed25519 !!!'])[0] ?? '', /not base64/);
  assert.match(issues([`${key('ssh-ed25519')}\n${key('ssh-rsa')}`])[0] ?? '', /control character/);
  assert.match(issues([`command="/bin/sh" ${key('ssh-ed25519')}`])[0] ?? '', /not "command=/);
});
