import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { imageModel } from '../inspect/model.ts';
import { reportOf } from '../inspect/testing.ts';
import { serializeReport } from '../pipeline/artifacts/report.ts';
import { DEFAULT_SPEC_FILE } from '../specfile/load.ts';
import { formatReport, loadReport, locateBuild, topOption } from './inspect.ts';
import { createProgram, main } from './main.ts';

const root = mkdtempSync(join(tmpdir(), 'hook-inspect-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]);
const report = reportOf(
  [
    { path: '/usr/sbin/dockerd', package: 'docker.io', segment: 'package-docker.io', bytes: 9000 },
    { path: '/usr/bin/bash', package: 'bash', segment: 'base', bytes: 1000 },
    { path: '/etc/passwd', package: '(generated)', segment: 'base', bytes: 100 },
  ],
  [
    ['base', 1200, 500],
    ['package-docker.io', 9100, 3000],
  ],
);

/** A build folder with a report and an initramfs of the size the report says. */
function buildDir(dir: string, arch: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `hook-${arch}.report.json`), serializeReport({ ...report, arch }));
  writeFileSync(
    join(dir, `initramfs-${arch}`),
    Buffer.concat([ZSTD_MAGIC, Buffer.alloc(report.initramfsBytes - 6)]),
  );
}

/** A spec in its own folder: the default one with another output.dir (and arch). */
function specIn(dir: string, outputDir: string, arch = 'x86_64'): string {
  mkdirSync(dir, { recursive: true });
  const text = readFileSync(DEFAULT_SPEC_FILE, 'utf8')
    .replace(/^output:\n {2}dir: .*$/m, `output:\n  dir: ${outputDir}`)
    .replace(/^arch: .*$/m, `arch: ${arch}`);
  assert.match(text, new RegExp(`\\n {2}dir: ${outputDir}\\n`), 'the default spec has output.dir');
  const file = join(dir, 'hook.yaml');
  writeFileSync(file, text);
  return file;
}

describe('locateBuild', () => {
  it("finds a spec's build in its output.dir, relative to the spec, for the spec's arch or --arch", () => {
    const spec = specIn(join(root, 'site'), 'build/out', 'aarch64');
    buildDir(join(root, 'site/build/out'), 'aarch64');
    buildDir(join(root, 'site/build/out'), 'x86_64');
    assert.deepEqual(locateBuild(spec), {
      kind: 'initramfs',
      file: join(root, 'site/build/out/initramfs-aarch64'),
      arch: 'aarch64',
    });
    assert.equal(locateBuild(spec, { arch: 'x86_64' }).file, join(root, 'site/build/out/initramfs-x86_64'));
    // --dir wins over output.dir.
    buildDir(join(root, 'elsewhere'), 'aarch64');
    assert.equal(
      locateBuild(spec, { dir: join(root, 'elsewhere') }).file,
      join(root, 'elsewhere/initramfs-aarch64'),
    );
  });

  it('with --dir alone: the one architecture built there, else the default spec’s', () => {
    buildDir(join(root, 'only-arm'), 'aarch64');
    assert.equal(locateBuild(undefined, { dir: join(root, 'only-arm') }).arch, 'aarch64');
    assert.equal(locateBuild(undefined, { dir: join(root, 'site/build/out') }).arch, 'x86_64');
  });

  it('reads a report alone when the initramfs is not there', () => {
    const dir = join(root, 'report-only');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hook-x86_64.report.json'), serializeReport(report));
    assert.deepEqual(locateBuild(undefined, { dir, arch: 'x86_64' }), {
      kind: 'report',
      file: join(dir, 'hook-x86_64.report.json'),
      arch: 'x86_64',
    });
  });

  it('takes a positional .json or initramfs file as it is', () => {
    const dir = join(root, 'site/build/out');
    assert.deepEqual(locateBuild(join(dir, 'hook-x86_64.report.json')), {
      kind: 'report',
      file: join(dir, 'hook-x86_64.report.json'),
    });
    // By its content, whatever its name (here a link named like a spec would not be).
    symlinkSync(join(dir, 'initramfs-x86_64'), join(root, 'my-image'));
    assert.deepEqual(locateBuild(join(root, 'my-image')), {
      kind: 'initramfs',
      file: join(root, 'my-image'),
    });
  });

  it('says what is wrong: no such file or a folder (usage errors), no build there (E_IO)', () => {
    const error = (fn: () => unknown, code: string, message: RegExp) =>
      assert.throws(
        fn,
        (e: Error & { code?: string; hint?: string }) => e.code === code && message.test(e.message),
      );
    error(() => locateBuild(join(root, 'nope.yaml')), 'E_USAGE', /^No such file: .*nope\.yaml$/);
    error(() => locateBuild(join(root, 'site')), 'E_USAGE', /is a folder/);
    error(
      () => locateBuild(join(root, 'site/build/out/hook-x86_64.report.json'), { dir: root }),
      'E_USAGE',
      /--dir names a build folder, but .* is already a report/,
    );
    const empty = join(root, 'empty');
    mkdirSync(empty);
    error(
      () => locateBuild(undefined, { dir: empty, arch: 'x86_64' }),
      'E_IO',
      /^No x86_64 build in .*empty: neither hook-x86_64\.report\.json nor initramfs-x86_64$/,
    );
  });

  it('uses the report beside an initramfs only when it describes that initramfs', async () => {
    const dir = join(root, 'site/build/out');
    const loaded = await loadReport({ kind: 'initramfs', file: join(dir, 'initramfs-x86_64') });
    assert.equal(loaded.files?.length, 3);
    writeFileSync(join(dir, 'initramfs-x86_64'), Buffer.concat([ZSTD_MAGIC, Buffer.alloc(10)]));
    // Stale: the initramfs itself is read (and this one is no initramfs at all).
    await assert.rejects(loadReport({ kind: 'initramfs', file: join(dir, 'initramfs-x86_64') }));
  });
});

describe('hook inspect options', () => {
  it('--top must be a positive integer', () => {
    assert.equal(topOption('7'), 7);
    for (const bad of ['abc', '-5', '0', '1.5', '', '1e3', ' 3'])
      assert.throws(
        () => topOption(bad),
        (e: Error & { code?: string }) =>
          e.code === 'E_USAGE' && e.message === `--top must be a positive integer, not "${bad}"`,
      );
  });

  it('a bad --top is a usage error (exit 2) before anything is read', async () => {
    const write = process.stderr.write;
    let stderr = '';
    process.stderr.write = ((chunk: string) => {
      stderr += chunk;
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal(await main(['node', 'hook', 'inspect', '--top', 'abc']), 2);
      assert.equal(await main(['node', 'hook', 'inspect', '--top', '-5']), 2);
      assert.equal(await main(['node', 'hook', 'inspect', join(root, 'missing.yaml')]), 2);
    } finally {
      process.stderr.write = write;
    }
    assert.match(stderr, /error E_USAGE: --top must be a positive integer, not "abc"/);
    assert.match(stderr, /error E_USAGE: --top must be a positive integer, not "-5"/);
    assert.match(stderr, /error E_USAGE: No such file: .*missing\.yaml/);
  });

  it('--help shows each default once', async () => {
    const program = await createProgram();
    const help = program.commands.find((c) => c.name() === 'inspect')?.helpInformation() ?? '';
    assert.match(help, /Usage: hook inspect \[options\] \[spec\]/);
    for (const option of ['--dir', '--arch', '--top', '--html', '--svg', '--against', '--json'])
      assert.ok(help.includes(option), option);
    // Descriptions wrap, so count per option: from its flag to the next one.
    const entries = help.split(/\n(?= {2}(?:-|\w))/);
    for (const entry of entries) assert.ok((entry.match(/default/g) ?? []).length <= 1, `twice: ${entry}`);
    assert.match(help, /--top <n> +how many packages, files and changes to list \(default: 15\)/);
  });
});

describe('formatReport', () => {
  it('prints segments, groups, packages with measured or estimated compressed sizes, and the changes', () => {
    const older = reportOf(
      [{ path: '/usr/bin/bash', package: 'bash', segment: 'base', bytes: 1000 }],
      [['base', 1200, 500]],
    );
    const text = formatReport(imageModel(report, { name: 'old.json', report: older }), 5);
    assert.match(text, /^initramfs-x86_64: 3\.4 KiB compressed, 10\.1 KiB uncompressed\n/);
    assert.match(text, /\npackage-docker\.io +1 +8\.9 KiB +2\.9 KiB +33%\n/);
    assert.match(text, /\ncontainer engine +1 +8\.8 KiB +2\.9 KiB\n/);
    assert.match(text, /\ndocker\.io +1 +8\.8 KiB +2\.9 KiB\n/, 'measured: no ~');
    assert.match(text, /\nbash +1 +1000 B +417 B ~\n/, 'estimated at base’s ratio 500/1200');
    assert.match(text, /\nagainst old\.json: .*; 2 packages changed\n/);
    assert.match(text, /\ndocker\.io \(new\) +- +8\.8 KiB +\+8\.8 KiB +\+2\.9 KiB\n/);
  });
});
