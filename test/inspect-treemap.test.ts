/**
 * `hook inspect --html/--svg` on the real default OS, looked at in a real browser: headless
 * Chromium parses the page (one rectangle per package, the sizes in the titles) and draws it
 * (a screenshot whose colours cover the areas the layout gave them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { groupLegend, groupOf } from '../src/inspect/groups.ts';
import { mix } from '../src/inspect/html.ts';
import { type BuildReport, parseReport, serializeReport } from '../src/pipeline/artifacts/report.ts';
import { DEFAULT_SPEC_FILE } from '../src/specfile/load.ts';
import { formatSize } from '../src/util/size.ts';
import { buildDefaultOs } from './helpers/built-os.ts';
import { dumpDom, screenshot } from './helpers/chromium.ts';
import { countColor, readPng } from './helpers/png.ts';

const HOOK = fileURLToPath(new URL('../bin/hook.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'hook-treemap-'));
after(() => rmSync(work, { recursive: true, force: true }));

function hook(...args: string[]) {
  const result = spawnSync(process.execPath, [HOOK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface DomRect {
  cls: string;
  attrs: Record<string, string>;
  title: string;
}

/** The rectangles of one view, from the DOM as Chromium serialised it. */
function viewRects(dom: string, view: 'compressed' | 'uncompressed'): DomRect[] {
  const start = dom.indexOf(`data-view="${view}"`);
  assert.ok(start > 0, `the DOM has the ${view} view`);
  const svg = dom.slice(start, dom.indexOf('</svg>', start));
  const decode = (s: string) =>
    s.replace(
      /&(amp|lt|gt|quot|#39);/g,
      (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '',
    );
  return [...svg.matchAll(/<rect class="(\w+)"([^>]*)>(?:<title>([^<]*)<\/title>)?/g)].map((m) => {
    const attrs: Record<string, string> = {};
    for (const a of (m[2] ?? '').matchAll(/([\w-]+)="([^"]*)"/g))
      attrs[a[1] as string] = decode(a[2] as string);
    return { cls: m[1] as string, attrs, title: decode(m[3] ?? '') };
  });
}

const area = (r: DomRect) => Number(r.attrs.width) * Number(r.attrs.height);

test('hook inspect draws the default OS as a treemap that Chromium shows as laid out', {
  timeout: 20 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  const report = parseReport(readFileSync(join(image.outDir, 'hook-x86_64.report.json'), 'utf8'), 'report');
  assert.ok(report.files && report.files.length > 1000, 'the report lists every file');

  const html = join(work, 'treemap.html');
  const svg = join(work, 'treemap.svg');
  const made = hook('inspect', '--dir', image.outDir, '--html', html, '--svg', svg);
  assert.equal(made.code, 0, made.stderr);
  assert.match(
    made.stdout,
    /^Wrote .*treemap\.html and .*treemap\.svg: a treemap of .*initramfs-x86_64 \(\d+ groups, \d+ packages, \d+ files\)\n$/,
  );

  // The DOM Chromium built: one rectangle per package and group it has files in, in both views.
  const dom = await dumpDom(html);
  const files = report.files;
  const ratio = new Map(report.segments.map((s) => [s.name, s.compressedBytes / s.uncompressedBytes]));
  const pairs = new Set(files.map((f) => `${groupOf(f).name}|${f.package}`));
  for (const view of ['compressed', 'uncompressed'] as const) {
    const pkgs = viewRects(dom, view).filter((r) => r.cls === 'pkg');
    assert.deepEqual(
      new Set(pkgs.map((r) => `${r.attrs['data-group']}|${r.attrs['data-package']}`)),
      pairs,
      view,
    );
    assert.equal(pkgs.length, pairs.size, `${view}: one rectangle per package and group`);
  }
  const compressed = viewRects(dom, 'compressed');
  // The largest package whose segments hold nothing else is measured; docker.io's dockerd is a
  // segment of its own but its small files share chunks, so it is estimated.
  const measured = report.packages.find((p) => p.compressedMeasured);
  assert.ok(measured, 'some package is measured: its files in segments of their own');
  const measuredRect = compressed.find((r) => r.cls === 'pkg' && r.attrs['data-package'] === measured.name);
  assert.equal(
    measuredRect?.title.split('\n')[1],
    `${formatSize(measured.bytes)} uncompressed · ${formatSize(measured.compressedBytes ?? 0)} compressed (measured: a segment of its own)`,
  );
  const dockerd = compressed.find((r) => r.cls === 'file' && r.title.startsWith('/usr/sbin/dockerd '));
  const dockerdFile = files.find((f) => f.path === '/usr/sbin/dockerd');
  assert.ok(dockerd && dockerdFile);
  assert.equal(
    dockerd.title,
    `/usr/sbin/dockerd (docker.io, segment ${dockerdFile.segment})\n${formatSize(dockerdFile.bytes)} uncompressed · ${formatSize(Math.round(dockerdFile.bytes * (ratio.get(dockerdFile.segment) ?? 0)))} compressed (estimated at its segment's ratio)`,
  );
  // Areas in the DOM follow the sizes: each group's share of the map is its share of the image.
  const groupShare = (name: string) =>
    area(compressed.find((r) => r.cls === 'group' && r.title.startsWith(`${name}:`)) as DomRect) /
    (1360 * 680);
  const engineBytes = files
    .filter((f) => groupOf(f).name === 'container engine')
    .reduce((sum, f) => sum + f.bytes * (ratio.get(f.segment) ?? 0), 0);
  const totalEstimated = files.reduce((sum, f) => sum + f.bytes * (ratio.get(f.segment) ?? 0), 0);
  assert.ok(Math.abs(groupShare('container engine') - engineBytes / totalEstimated) < 0.01);

  // What Chromium drew: the page at 1400×900, the map at 1:1 (1360 px wide between margins).
  const png = join(work, 'treemap.png');
  await screenshot(html, png, 1400, 900);
  const shot = readPng(readFileSync(png));
  assert.deepEqual([shot.width, shot.height], [1400, 900]);
  const engine = groupLegend().find((g) => g.name === 'container engine');
  assert.ok(engine);
  const fileColor = mix(engine.color, '#ffffff', 0.55);
  const fileArea = compressed
    .filter((r) => r.cls === 'file' && r.attrs.fill === fileColor)
    .reduce((sum, r) => sum + area(r), 0);
  const painted = countColor(shot, fileColor);
  // Edges lose a little to the white 0.5 px outlines and anti-aliasing, labels to their text.
  assert.ok(painted > 0.85 * fileArea && painted <= fileArea * 1.01, `painted ${painted} px of ${fileArea}`);
  const header = compressed.find(
    (r) => r.cls === 'group' && r.title.startsWith('container engine:'),
  ) as DomRect;
  assert.ok(countColor(shot, engine.color) > 0.4 * Number(header.attrs.width) * 17, 'the group header strip');

  // The standalone SVG is an image Chromium draws too, and it holds both views.
  const svgDom = await dumpDom(svg);
  assert.equal(viewRects(svgDom, 'compressed').filter((r) => r.cls === 'pkg').length, pairs.size);
  assert.equal(viewRects(svgDom, 'uncompressed').filter((r) => r.cls === 'pkg').length, pairs.size);
});

test('hook inspect --against shows what grew and what is new', { timeout: 20 * 60_000 }, async () => {
  const image = await buildDefaultOs('x86_64');
  const report = parseReport(readFileSync(join(image.outDir, 'hook-x86_64.report.json'), 'utf8'), 'report');
  // An older build: without socat, and with a dockerd 4 MiB smaller.
  const older: BuildReport = {
    ...report,
    files: (report.files ?? [])
      .filter((f) => f.package !== 'socat')
      .map((f) => (f.path === '/usr/sbin/dockerd' ? { ...f, bytes: f.bytes - 4 * 1024 * 1024 } : f)),
    packages: report.packages
      .filter((p) => p.name !== 'socat')
      .map((p) => (p.name === 'docker.io' ? { ...p, bytes: p.bytes - 4 * 1024 * 1024 } : p)),
  };
  const old = join(work, 'old.report.json');
  writeFileSync(old, serializeReport(older));
  const text = hook('inspect', '--dir', image.outDir, '--against', old, '--top', '5');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /; 2 packages changed\n/);
  assert.match(text.stdout, /\ndocker\.io +[\d.]+ MiB +[\d.]+ MiB +\+4 MiB +/);
  assert.match(text.stdout, /\nsocat \(new\) +- +[\d.]+ KiB +\+[\d.]+ KiB +\+[\d.]+ KiB\n/);

  const html = join(work, 'diff.html');
  assert.equal(hook('inspect', '--dir', image.outDir, '--against', old, '--html', html).code, 0);
  const rects = viewRects(await dumpDom(html), 'uncompressed');
  const fill = (name: string) =>
    rects.find((r) => r.cls === 'pkg' && r.attrs['data-package'] === name)?.attrs.fill;
  assert.equal(fill('socat'), '#b2182b', 'new');
  assert.equal(fill('bash'), '#e6e6e6', 'unchanged');
  const dockerd = rects.find((r) => r.cls === 'file' && r.title.startsWith('/usr/sbin/dockerd '));
  assert.match(dockerd?.title ?? '', /\nwas [\d.]+ MiB: \+4 MiB uncompressed · \+[\d.]+ MiB compressed$/);
});

test("hook inspect <spec> finds the build in the spec's output.dir, relative to the spec", {
  timeout: 20 * 60_000,
}, async () => {
  const image = await buildDefaultOs('x86_64');
  // A spec in a folder of its own whose output.dir is where the build went (a link to it).
  const site = join(work, 'site');
  mkdirSync(join(site, 'build'), { recursive: true });
  symlinkSync(image.outDir, join(site, 'build/out'));
  const spec = readFileSync(DEFAULT_SPEC_FILE, 'utf8').replace(
    /^output:\n {2}dir: .*$/m,
    'output:\n  dir: build/out',
  );
  assert.match(spec, /\n {2}dir: build\/out\n/);
  writeFileSync(join(site, 'hook.yaml'), spec);
  const shown = spawnSync(process.execPath, [HOOK, 'inspect', 'site/hook.yaml', '--top', '3'], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^initramfs-x86_64: [\d.]+ MiB compressed, [\d.]+ MiB uncompressed\n/);
  assert.match(shown.stdout, /\ncontainer engine +\d+ +[\d.]+ MiB +[\d.]+ MiB\n/);
  // From the spec's folder or elsewhere, the same build; with no build for the arch, a clear error.
  const arm = spawnSync(process.execPath, [HOOK, 'inspect', join(site, 'hook.yaml'), '--arch', 'aarch64'], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  assert.equal(arm.status, 1);
  assert.match(
    arm.stderr,
    /error E_IO: No aarch64 build in .*site\/build\/out: neither hook-aarch64\.report\.json nor initramfs-aarch64\n/,
  );
  assert.match(arm.stderr, /hint: Build it with `npx hook build .*site\/hook\.yaml --arch aarch64`/);
});
