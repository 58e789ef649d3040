/**
 * Docker's overlay2 image store made from layer tars: the on-disk names and files Docker 26
 * reads (checked in the boot test by the real engine running a container from it), whiteouts
 * as overlayfs wants them, opaque directories turned into whiteouts against the layers below,
 * layers shared between images written once, and tar-split records that give each layer's
 * tar back byte for byte.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { type TarEntry, writeTar } from '../formats/tar-write.ts';
import { type Tree, type TreeNode, treePath } from '../tree/tree.ts';
import { chainIds, crc64Iso, dockerImageStore, storeEntries } from './docker-store.ts';

const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const owner = { uid: 0, gid: 0 };
const file = (path: string, text: string, mode = 0o644): TarEntry => ({
  kind: 'file',
  path,
  mode,
  ...owner,
  data: Buffer.from(text),
});
const dir = (path: string, mode = 0o755): TarEntry => ({ kind: 'dir', path, mode, ...owner });

function layer(entries: TarEntry[]): { tar: Uint8Array; diffId: string } {
  const tar = new Uint8Array(Buffer.concat(writeTar(entries, { mtime: 1_700_000_000 })));
  return { tar, diffId: sha256(tar) };
}

const base = layer([
  dir('./'),
  dir('etc'),
  file('etc/a', 'a\n'),
  file('etc/b', 'b\n'),
  { kind: 'hardlink', path: 'etc/a-link', mode: 0o644, ...owner, target: 'etc/a' },
  dir('opt'),
  dir('opt/x'),
  file('opt/x/old', 'old\n'),
  dir('opt/x/sub'),
  file('opt/x/sub/deep', 'deep\n'),
  file('opt/x/kept', 'kept v1\n'),
]);
const top = layer([
  dir('etc'),
  file('etc/.wh.b', ''),
  dir('opt/x'),
  file('opt/x/.wh..wh..opq', ''),
  file('opt/x/kept', 'kept v2\n'),
  { kind: 'symlink', path: 'usr/bin/sh', ...owner, target: 'busybox' },
  { kind: 'char', path: 'dev/null', mode: 0o666, ...owner, major: 1, minor: 3 },
  file(`long/${'n'.repeat(120)}/file`, 'a path longer than ustar holds\n', 0o4755),
]);
const config = (diffIds: string[]) =>
  Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );

const text = (tree: Tree, path: string) => {
  const node = tree.get(treePath(path));
  assert.equal(node?.kind, 'file', `${path} is a file`);
  return node?.kind === 'file' ? Buffer.from(node.content.data).toString('utf8') : '';
};

test('chain IDs follow the image spec: the first is the diff ID, then sha256 of "parent diff"', () => {
  const [a, b] = chainIds([base.diffId, top.diffId]);
  assert.equal(a, base.diffId);
  assert.equal(b, sha256(`${base.diffId} ${top.diffId}`));
});

test('CRC-64 is Go hash/crc64 with the ISO table (the catalogue check value)', () => {
  assert.equal(Buffer.from(crc64Iso(Buffer.from('123456789'))).toString('hex'), 'b90956c775a41001');
  assert.equal(Buffer.from(crc64Iso(new Uint8Array(0))).toString('hex'), '0000000000000000');
});

test('the store: config by image ID, layer database, overlay2 dirs with links and lowers, names', () => {
  const configBytes = config([base.diffId, top.diffId]);
  const imageId = sha256(configBytes).slice(7);
  const store = dockerImageStore([
    {
      configBytes,
      layers: [base, top],
      names: [
        '127.0.0.1:5000/test/worker:1',
        `127.0.0.1:5000/test/worker@sha256:${'c'.repeat(64)}`,
        'docker.io/library/worker:embedded',
      ],
      label: 'test/worker',
    },
  ]);
  const { tree } = store;
  assert.equal(store.layers, 2);
  assert.deepEqual(
    Buffer.from(
      (
        tree.get(treePath(`image/overlay2/imagedb/content/sha256/${imageId}`)) as {
          content: { data: Uint8Array };
        }
      ).content.data,
    ),
    configBytes,
  );
  assert.deepEqual(JSON.parse(text(tree, 'image/overlay2/repositories.json')), {
    Repositories: {
      '127.0.0.1:5000/test/worker': {
        '127.0.0.1:5000/test/worker:1': `sha256:${imageId}`,
        [`127.0.0.1:5000/test/worker@sha256:${'c'.repeat(64)}`]: `sha256:${imageId}`,
      },
      worker: { 'worker:embedded': `sha256:${imageId}` },
    },
  });
  const [chainBase, chainTop] = chainIds([base.diffId, top.diffId]) as [string, string];
  const dbBase = `image/overlay2/layerdb/sha256/${chainBase.slice(7)}`;
  const dbTop = `image/overlay2/layerdb/sha256/${chainTop.slice(7)}`;
  assert.equal(text(tree, `${dbBase}/diff`), base.diffId);
  assert.equal(text(tree, `${dbBase}/size`), String('a\nb\nold\ndeep\nkept v1\n'.length));
  assert.equal(tree.get(treePath(`${dbBase}/parent`)), undefined);
  assert.equal(text(tree, `${dbTop}/parent`), chainBase);
  const cacheBase = text(tree, `${dbBase}/cache-id`);
  const cacheTop = text(tree, `${dbTop}/cache-id`);
  assert.match(cacheBase, /^[0-9a-f]{64}$/);
  const linkBase = text(tree, `overlay2/${cacheBase}/link`);
  const linkTop = text(tree, `overlay2/${cacheTop}/link`);
  assert.notEqual(linkTop, linkBase);
  assert.match(linkBase, /^[A-Z2-7]{26}$/);
  assert.deepEqual(tree.get(treePath(`overlay2/l/${linkBase}`)), {
    kind: 'symlink',
    target: `../${cacheBase}/diff`,
    uid: 0,
    gid: 0,
  });
  assert.equal(text(tree, `overlay2/${cacheTop}/lower`), `l/${linkBase}`);
  assert.equal(tree.get(treePath(`overlay2/${cacheBase}/lower`)), undefined, 'the bottom layer has no lower');
  assert.equal(tree.get(treePath(`overlay2/${cacheTop}/work`))?.kind, 'dir');
  assert.equal(
    tree.get(treePath(`overlay2/${cacheBase}/committed`))?.kind,
    'file',
    'a parent is marked committed',
  );

  const diffBase = `overlay2/${cacheBase}/diff`;
  const diffTop = `overlay2/${cacheTop}/diff`;
  const a = tree.get(treePath(`${diffBase}/etc/a`));
  const aLink = tree.get(treePath(`${diffBase}/etc/a-link`));
  assert.ok(
    a?.kind === 'file' && aLink?.kind === 'file' && a.content === aLink.content,
    'a tar hard link shares its content (one inode in the cpio)',
  );
  const whiteout: TreeNode = { kind: 'char', mode: 0, uid: 0, gid: 0, major: 0, minor: 0 };
  assert.deepEqual(tree.get(treePath(`${diffTop}/etc/b`)), whiteout, '.wh.b is a 0/0 device named b');
  assert.equal(tree.get(treePath(`${diffTop}/etc/.wh.b`)), undefined);
  // The opaque opt/x hides old and sub of the layer below; kept is in this layer.
  assert.deepEqual(tree.get(treePath(`${diffTop}/opt/x/old`)), whiteout);
  assert.deepEqual(tree.get(treePath(`${diffTop}/opt/x/sub`)), whiteout);
  assert.equal(text(tree, `${diffTop}/opt/x/kept`), 'kept v2\n');
  assert.equal(tree.get(treePath(`${diffTop}/opt/x/.wh..wh..opq`)), undefined);
  assert.deepEqual(tree.get(treePath(`${diffTop}/dev/null`)), {
    kind: 'char',
    mode: 0o666,
    uid: 0,
    gid: 0,
    major: 1,
    minor: 3,
  });
  const long = tree.get(treePath(`${diffTop}/long/${'n'.repeat(120)}/file`));
  assert.equal(long?.kind === 'file' && long.mode, 0o4755);

  const entries = storeEntries(tree);
  assert.ok(entries.every(([path]) => path.startsWith('var/lib/docker/')));
  assert.ok(entries.some(([path]) => path === `var/lib/docker/overlay2/l/${linkBase}`));
});

test('tar-split gives each layer tar back byte for byte from the files in diff/', () => {
  const store = dockerImageStore([
    { configBytes: config([base.diffId, top.diffId]), layers: [base, top], names: [], label: 'x' },
  ]);
  const { tree } = store;
  for (const [i, chainId] of chainIds([base.diffId, top.diffId]).entries()) {
    const db = `image/overlay2/layerdb/sha256/${chainId.slice(7)}`;
    const cacheId = text(tree, `${db}/cache-id`);
    const split = tree.get(treePath(`${db}/tar-split.json.gz`));
    assert.ok(split?.kind === 'file');
    // What tar-split's asm.WriteOutputTarStream does with a path file getter on diff/.
    const pieces: Buffer[] = [];
    for (const line of gunzipSync(split.content.data).toString('utf8').trim().split('\n')) {
      const entry = JSON.parse(line) as {
        type: number;
        name?: string;
        size?: number;
        payload: string | null;
      };
      if (entry.type === 2) pieces.push(Buffer.from(entry.payload ?? '', 'base64'));
      else if ((entry.size ?? 0) > 0) {
        const node = tree.get(treePath(`overlay2/${cacheId}/diff/${entry.name}`));
        assert.ok(node?.kind === 'file', `${entry.name} is in diff/`);
        assert.equal(Buffer.from(crc64Iso(node.content.data)).toString('base64'), entry.payload);
        pieces.push(Buffer.from(node.content.data));
      }
    }
    assert.equal(sha256(Buffer.concat(pieces)), [base, top][i]?.diffId);
  }
});

test('a layer shared by two images is written once; one name for two images is refused', () => {
  const other = layer([file('other', 'x')]);
  const store = dockerImageStore([
    { configBytes: config([base.diffId]), layers: [base], names: ['a/one:1'], label: 'one' },
    {
      configBytes: config([base.diffId, other.diffId]),
      layers: [base, other],
      names: ['a/two:1'],
      label: 'two',
    },
  ]);
  assert.equal(store.layers, 2);
  assert.throws(
    () =>
      dockerImageStore([
        { configBytes: config([base.diffId]), layers: [base], names: ['a/one:1'], label: 'one' },
        { configBytes: config([other.diffId]), layers: [other], names: ['a/one:1'], label: 'two' },
      ]),
    /Two embedded images both want the name a\/one:1/,
  );
});

test('entries climbing out of the layer are refused', () => {
  const bad = layer([file('../escape', 'x')]);
  assert.throws(
    () =>
      dockerImageStore([{ configBytes: config([bad.diffId]), layers: [bad], names: [], label: 'bad/image' }]),
    /Cannot embed bad\/image: a layer entry "\.\.\/escape" climbs above its root/,
  );
});

test('extended attributes (file capabilities) cannot ride in cpio: the files are named', async () => {
  const pack = tarStream.pack();
  pack.entry(
    { name: 'usr/bin/ping', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': 'cap' } },
    'ELF',
  );
  pack.entry({ name: 'usr/bin/plain', mode: 0o755 }, 'ELF');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const tar = new Uint8Array(Buffer.concat(chunks));
  const diffId = sha256(tar);
  const store = dockerImageStore([
    { configBytes: config([diffId]), layers: [{ tar, diffId }], names: [], label: 'x' },
  ]);
  assert.deepEqual(store.droppedXattrs, ['/usr/bin/ping (security.capability)']);
});
