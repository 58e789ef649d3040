import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { type BuildContext, type BuildResult, createContext } from './context.ts';
import { inputsHash, upToDate, writeStamp } from './no-change.ts';
import { publishSet } from './publish.ts';
import type { Reporter } from './reporter.ts';
import { CHECKSUMMED } from './stages/artifacts.ts';

const quiet: Reporter = { stage: () => () => {}, progress: () => {}, info: () => {}, warn: () => {} };
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SPEC = `arch: x86_64
archive:
  mirror: http://127.0.0.1:9/debian
  securityMirror: http://127.0.0.1:9/debian-security
packages: [bash]
files:
  - path: etc/motd
    source: motd.txt
`;

let dir = '';
let out = '';

function context(options: { updateLock?: boolean } = {}): BuildContext {
  return createContext({ specFile: join(dir, 'hook.yaml'), outDir: out, reporter: quiet, ...options });
}

function sha512(text: string): string {
  return createHash('sha512').update(text).digest('hex');
}

/** What a build leaves behind: artifacts, the lock, checksum.txt and the stamp, as one published set. */
async function fakeBuild(): Promise<BuildResult> {
  const artifacts: Record<string, string> = {
    'vmlinuz-x86_64': 'kernel',
    'initramfs-x86_64': 'image',
    'hook-x86_64.lock': '{"lockfileVersion":1}\n',
  };
  const ctx = context();
  const inputs = await inputsHash(ctx);
  let result: BuildResult | undefined;
  await publishSet(
    out,
    new Map(Object.entries(artifacts).map(([name, text]) => [name, [Buffer.from(text)]])),
    {
      checksummed: CHECKSUMMED,
      beforeSwitch: async (setDir, files) => {
        result = {
          outDir: out,
          files: { ...files },
          report: {} as BuildResult['report'],
          arch: 'x86_64',
          kernelVersion: '6.12.0',
          packages: 1,
          warnings: ['w'],
          upToDate: false,
        };
        await writeStamp(ctx, inputs, result, setDir, artifacts['hook-x86_64.lock'] as string);
      },
    },
  );
  assert.ok(result);
  return result;
}

async function check(ctx = context()): Promise<BuildResult | undefined> {
  return upToDate(ctx, await inputsHash(ctx));
}

describe('build stamp', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hook-stamp-'));
    dirs.push(dir);
    out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(dir, 'hook.yaml'), SPEC);
    writeFileSync(join(dir, 'motd.txt'), 'hello\n');
  });

  it('returns the previous result when nothing changed', async () => {
    const built = await fakeBuild();
    const again = await check();
    assert.deepEqual(again, { ...built, upToDate: true });
  });

  it('is stale after the spec changes', async () => {
    await fakeBuild();
    writeFileSync(join(dir, 'hook.yaml'), `${SPEC}# a comment\n`);
    assert.equal(await check(), undefined);
  });

  it('is stale after a files[].source file changes', async () => {
    await fakeBuild();
    writeFileSync(join(dir, 'motd.txt'), 'hello again\n');
    assert.equal(await check(), undefined);
  });

  it('is stale after a spec it extends, a source named there, or a registry CA changes', async () => {
    // The base lives in a folder of its own: its sources are relative to it.
    mkdirSync(join(dir, 'base'));
    writeFileSync(
      join(dir, 'base', 'base.yaml'),
      'files:\n  - path: etc/issue\n    source: issue.txt\nregistries:\n  - host: registry.lan:5000\n    ca: ca.pem\n',
    );
    writeFileSync(join(dir, 'base', 'issue.txt'), 'HookOS\n');
    writeFileSync(join(dir, 'base', 'ca.pem'), 'not parsed by the stamp\n');
    writeFileSync(join(dir, 'hook.yaml'), `extends: base/base.yaml\n${SPEC}`);
    await fakeBuild();
    assert.notEqual(await check(), undefined, 'up to date before any edit');
    writeFileSync(join(dir, 'base', 'base.yaml'), `${SPEC.replace('[bash]', '[bash, zstd]')}`);
    assert.equal(await check(), undefined, 'the base spec changed');

    writeFileSync(
      join(dir, 'base', 'base.yaml'),
      'files:\n  - path: etc/issue\n    source: issue.txt\nregistries:\n  - host: registry.lan:5000\n    ca: ca.pem\n',
    );
    await fakeBuild();
    writeFileSync(join(dir, 'base', 'issue.txt'), 'HookOS 2\n');
    assert.equal(await check(), undefined, 'a source named by the base changed');
    await fakeBuild();
    writeFileSync(join(dir, 'base', 'ca.pem'), 'another CA\n');
    assert.equal(await check(), undefined, 'the registry CA changed');
  });

  it('is stale after an output is deleted or rewritten', async () => {
    await fakeBuild();
    unlinkSync(join(out, 'initramfs-x86_64'));
    assert.equal(await check(), undefined);
    await fakeBuild();
    writeFileSync(join(out, 'vmlinuz-x86_64'), 'kernel');
    utimesSync(join(out, 'vmlinuz-x86_64'), new Date(2000, 1, 1), new Date(2000, 1, 1));
    assert.equal(await check(), undefined);
  });

  it('is stale after the lock changes or with --update-lock', async () => {
    await fakeBuild();
    assert.notEqual(await check(), undefined);
    assert.equal(await check(context({ updateLock: true })), undefined);
    writeFileSync(join(out, 'hook-x86_64.lock'), '{"lockfileVersion":1,"other":true}\n');
    assert.equal(await check(), undefined);
  });

  it('is stale after SOURCE_DATE_EPOCH changes', async () => {
    await fakeBuild();
    process.env.SOURCE_DATE_EPOCH = '12345';
    try {
      assert.equal(await check(), undefined);
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
  });

  it('follows checksum.txt by content: another architecture may rewrite it, not drop our lines', async () => {
    await fakeBuild();
    writeFileSync(
      join(out, 'checksum.txt'),
      `${sha512('other')}  initramfs-aarch64\n${sha512('image')}  initramfs-x86_64\n${sha512('kernel')}  vmlinuz-x86_64\n`,
    );
    assert.notEqual(await check(), undefined);
    writeFileSync(join(out, 'checksum.txt'), `${sha512('image')}  initramfs-x86_64\n`);
    assert.equal(await check(), undefined);
  });
});
