import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildReport, ReportFile } from '../pipeline/artifacts/report.ts';
import { formatSize } from '../util/size.ts';
import { GROUPS, groupLegend, groupOf, groupOfPackage } from './groups.ts';
import { changeColor, esc, mix, treemapHtml, treemapSvg, treemapSvgDocument } from './html.ts';
import { imageModel } from './model.ts';
import { reportOf } from './testing.ts';

const f = (path: string, pkg: string, segment: string, bytes: number): ReportFile => ({
  path,
  package: pkg,
  segment,
  bytes,
});

const modules = Array.from({ length: 3000 }, (_, i) =>
  f(
    `/usr/lib/modules/6.12/kernel/drivers/m${i}.ko.xz`,
    'linux-image-6.12-amd64',
    'kernel-modules',
    100 + (i % 50),
  ),
);
const current = reportOf(
  [
    f('/init', '(generated)', 'early', 3000),
    f('/usr/bin/busybox', 'busybox-static', 'early', 200_000),
    f('/usr/sbin/dockerd', 'docker.io', 'package-docker.io', 9_000_000),
    f('/usr/sbin/docker-proxy', 'docker.io', 'package-docker.io', 300_000),
    f('/usr/bin/busybox', 'busybox-static', 'base', 200_000),
    f('/usr/bin/strace', 'strace', 'base', 400_000),
    f('/usr/bin/bash', 'bash', 'base', 1_000_000),
    f('/usr/lib/x86_64-linux-gnu/libssl.so.3', 'libssl3t64', 'base', 700_000),
    f('/usr/lib/x86_64-linux-gnu/libfoo.so.1', 'libfoo1', 'base', 150_000),
    f('/usr/lib/hook/hook-bootkit.js', '(generated)', 'config', 76_000),
    f('/etc/passwd', '(generated)', 'config', 800),
    f('/usr/bin/odd', 'odd<name>&"quoted"', 'base', 90_000),
    ...modules,
  ],
  [
    ['early', 210_000, 100_000],
    ['base', 2_600_000, 1_000_000],
    ['kernel-modules', 1_000_000, 950_000],
    ['package-docker.io', 9_400_000, 3_000_000],
    ['config', 80_000, 25_000],
  ],
);
const older = reportOf(
  [
    f('/init', '(generated)', 'early', 3000),
    f('/usr/bin/busybox', 'busybox-static', 'early', 200_000),
    f('/usr/sbin/dockerd', 'docker.io', 'package-docker.io', 8_000_000),
    f('/usr/sbin/docker-proxy', 'docker.io', 'package-docker.io', 300_000),
    f('/usr/bin/busybox', 'busybox-static', 'base', 200_000),
    f('/usr/bin/btrfs', 'btrfs-progs', 'base', 900_000),
    f('/usr/bin/bash', 'bash', 'base', 1_000_000),
    f('/usr/lib/x86_64-linux-gnu/libssl.so.3', 'libssl3t64', 'base', 700_000),
    f('/usr/lib/x86_64-linux-gnu/libfoo.so.1', 'libfoo1', 'base', 150_000),
    f('/usr/lib/hook/hook-bootkit.js', '(generated)', 'config', 76_000),
    f('/etc/passwd', '(generated)', 'config', 800),
    f('/usr/bin/odd', 'odd<name>&"quoted"', 'base', 90_000),
    ...modules,
  ],
  [
    ['early', 210_000, 100_000],
    ['base', 3_100_000, 1_200_000],
    ['kernel-modules', 1_000_000, 950_000],
    ['package-docker.io', 8_300_000, 2_700_000],
    ['config', 80_000, 25_000],
  ],
);

/** `<rect …>` elements of one view whose attributes match. */
type RectAttrs = Record<string, string> & { title: string };

function rects(svg: string, cls: string): RectAttrs[] {
  return [...svg.matchAll(new RegExp(`<rect class="${cls}"([^>]*)>(?:<title>([^<]*)</title>)?`, 'g'))].map(
    (m) => {
      const attrs: RectAttrs = { title: m[2] ?? '' };
      for (const a of (m[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)) attrs[a[1] as string] = a[2] as string;
      return attrs;
    },
  );
}

/** Whether every element is closed in order (HTML's void elements excepted). */
function wellFormed(text: string, voids: readonly string[] = []): boolean {
  const stack: string[] = [];
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name = '', self] = m;
    if (self === '/' || voids.includes(name.toLowerCase())) continue;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name);
  }
  return stack.length === 0;
}

describe('groups', () => {
  it('sorts files and packages into the groups a reader asks about', () => {
    const g = (path: string, pkg: string, segment = 'base') => groupOf({ path, package: pkg, segment }).name;
    assert.equal(g('/usr/bin/busybox', 'busybox-static', 'early'), 'early boot');
    assert.equal(
      g('/usr/lib/modules/6.12/modules.dep', 'linux-image-6.12-amd64', 'kernel-modules'),
      'kernel modules',
    );
    assert.equal(g('/usr/lib/firmware/intel/ice.pkg', 'firmware-intel-misc', 'firmware'), 'firmware');
    assert.equal(g('/usr/lib/hook/hook-bootkit.js', '(generated)', 'config'), 'HookOS services');
    assert.equal(
      g('/usr/lib/systemd/system/docker.service.d/10-hook.conf', '(generated)'),
      'HookOS services',
    );
    assert.equal(g('/etc/passwd', '(generated)', 'config'), 'generated configuration');
    for (const pkg of ['docker.io', 'containerd', 'runc', 'iptables', 'libnftnl11'])
      assert.equal(groupOfPackage(pkg).name, 'container engine', pkg);
    for (const pkg of ['nodejs', 'libnode115', 'quickjs'])
      assert.equal(groupOfPackage(pkg).name, 'TypeScript runtime', pkg);
    assert.equal(groupOfPackage('libicu76').name, 'ICU');
    for (const pkg of ['systemd', 'libsystemd-shared', 'udev', 'dbus-daemon', 'libpam-modules'])
      assert.equal(groupOfPackage(pkg).name, 'system (systemd, udev, dbus)', pkg);
    for (const pkg of ['libssl3t64', 'curl', 'iproute2', 'ca-certificates'])
      assert.equal(groupOfPackage(pkg).name, 'network and TLS', pkg);
    for (const pkg of ['btrfs-progs', 'lvm2', 'nvme-cli', 'libblkid1'])
      assert.equal(groupOfPackage(pkg).name, 'disk tools', pkg);
    assert.equal(groupOfPackage('libzstd1').name, 'libraries');
    assert.equal(groupOfPackage('coreutils').name, 'tools and base system');
    assert.equal(groupOfPackage('linux-image-6.12.118+deb13-amd64').name, 'kernel modules');
    assert.equal(groupOfPackage('firmware-bnx2x').name, 'firmware');
  });

  it('has one colour per group, and a rule without conditions last', () => {
    const legend = groupLegend();
    assert.equal(new Set(legend.map((g) => g.color)).size, legend.length);
    const last = GROUPS[GROUPS.length - 1];
    assert.ok(last && last.package === undefined && last.path === undefined && last.segment === undefined);
  });
});

describe('treemapHtml', () => {
  const model = imageModel(current);
  const html = treemapHtml(model);
  const view = (name: string) => {
    const start = html.indexOf(`<section class="view-${name}">`);
    return html.slice(start, html.indexOf('</section>', start));
  };

  it('draws one rectangle per package in each view, with its sizes in the title', () => {
    const names = new Set(current.packages.map((p) => p.name));
    for (const name of ['compressed', 'uncompressed']) {
      const pkgs = rects(view(name), 'pkg');
      // One per group a package has files in: busybox-static's early boot copy and the OS's
      // own; the build's files in early boot, HookOS services and generated configuration.
      const pairs = new Set((current.files ?? []).map((x) => `${groupOf(x).name}|${x.package}`));
      assert.equal(pairs.size, names.size + 3);
      assert.equal(pkgs.length, pairs.size, name);
      const unescapeXml = (n = '') => n.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)));
      assert.deepEqual(new Set(pkgs.map((r) => unescapeXml(r['data-package']))), names);
      for (const r of pkgs)
        assert.ok(Number(r.width) > 0 && Number(r.height) > 0, `${r['data-package']} has an area`);
    }
    const docker = rects(view('compressed'), 'pkg').find((r) => r['data-package'] === 'docker.io');
    assert.ok(docker);
    assert.equal(
      docker.title.split('\n')[1],
      `${formatSize(9_300_000)} uncompressed · ${formatSize(3_000_000)} compressed (measured: a segment of its own)`,
    );
    const bash = rects(view('compressed'), 'pkg').find((r) => r['data-package'] === 'bash');
    assert.match(bash?.title ?? '', /compressed \(estimated at its segment&#39;s ratio\)/);
  });

  it('areas follow the view: docker.io takes 3/5 of the compressed map and 9.3/13.3 of the uncompressed one', () => {
    const share = (name: string) => {
      const r = rects(view(name), 'pkg').find((x) => x['data-package'] === 'docker.io');
      const group = rects(view(name), 'group').find((x) => x.title.startsWith('container engine'));
      assert.ok(r && group);
      return (Number(group.width) * Number(group.height)) / (1360 * 680);
    };
    assert.ok(
      Math.abs(share('compressed') - 3_000_000 / current.initramfsBytes) < 0.01,
      String(share('compressed')),
    );
    const filesTotal = (current.files ?? []).reduce((s, x) => s + x.bytes, 0);
    assert.ok(Math.abs(share('uncompressed') - 9_300_000 / filesTotal) < 0.01, String(share('uncompressed')));
  });

  it('draws small files together as one rectangle per package', () => {
    const more = rects(view('uncompressed'), 'more').find((r) =>
      r['data-package']?.startsWith('linux-image'),
    );
    assert.ok(more, 'the 3000 small modules are not 3000 invisible rectangles');
    const shownModules = rects(view('uncompressed'), 'file').filter((r) =>
      r.title.startsWith('/usr/lib/modules/'),
    );
    assert.match(more.title, new RegExp(`^${3000 - shownModules.length} smaller files of linux-image`));
  });

  it('is self-contained, well formed, escaped and the same every time', () => {
    assert.doesNotMatch(html, /<script|\bsrc=|\bhref=|url\(|https?:/i);
    assert.ok(wellFormed(html, ['meta', 'input', 'br']));
    assert.ok(html.includes('odd&#60;name&#62;&#38;&#34;quoted&#34;'));
    assert.ok(!html.includes('odd<name>'));
    assert.equal(treemapHtml(imageModel(current)), html);
  });

  it('the standalone SVG holds both views and is well-formed XML', () => {
    const svg = treemapSvgDocument(model);
    assert.match(
      svg,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
    assert.equal(
      [...svg.matchAll(/<svg class="treemap" data-view="(\w+)"/g)].map((m) => m[1]).join(),
      'compressed,uncompressed',
    );
    assert.ok(wellFormed(svg.replace(/^<\?xml[^>]*>/, '')));
    assert.ok(
      treemapSvg(model, 'compressed', { standalone: true }).startsWith(
        '<svg xmlns="http://www.w3.org/2000/svg"',
      ),
    );
  });
});

describe('treemapHtml against an older report', () => {
  const model = imageModel(current, { name: 'old/hook-x86_64.report.json', report: older });
  const html = treemapHtml(model);

  it('colours what is new, grew, shrank or stayed, and lists what is gone', () => {
    const pkgs = rects(html, 'pkg');
    const fill = (name: string) => pkgs.find((r) => r['data-package'] === name)?.fill;
    assert.equal(fill('strace'), '#b2182b', 'new');
    assert.equal(fill('bash'), '#e6e6e6', 'unchanged');
    // The compressed view (first): docker.io's own segment grew from 2.7 to 3 MB, +11%, on a
    // scale that is full at +25%.
    const docker = model.groups.flatMap((g) => g.packages).find((p) => p.name === 'docker.io');
    assert.equal(fill('docker.io'), changeColor(docker?.change, 'compressed'));
    assert.equal(fill('docker.io'), mix('#f4a582', '#d6604d', 300_000 / 2_700_000 / 0.25));
    const dockerd = rects(html, 'file').find((r) => r.title.startsWith('/usr/sbin/dockerd'));
    assert.match(
      dockerd?.title ?? '',
      /\nwas 7\.6 MiB: \+976\.6 KiB uncompressed · \+\d+(\.\d)? KiB compressed$/,
    );
    assert.match(html, /Removed: btrfs-progs \(−878\.9 KiB\)\./);
    assert.match(html, /<h2>What changed since old\/hook-x86_64\.report\.json \(3 packages\)<\/h2>/);
    assert.match(html, /<td class="name">btrfs-progs \(removed\)<\/td><td>878\.9 KiB<\/td><td>—<\/td>/);
  });

  it('a version-1 report (no files) is drawn by package, sized at the image ratio, and says so', () => {
    const { files: _, ...v1 } = older;
    const oldModel = imageModel({
      ...v1,
      reportVersion: undefined,
      packages: v1.packages.map(({ compressedBytes: _c, compressedMeasured: _m, ...p }) => p),
    } as BuildReport);
    assert.equal(oldModel.compressedBasis, 'image');
    const page = treemapHtml(oldModel);
    assert.match(page, /estimated at the whole image&#39;s ratio/);
    assert.equal(rects(page, 'file').length, 0);
    assert.equal(rects(page, 'pkg').length, 2 * older.packages.length);
    assert.equal(esc('a&b'), 'a&#38;b');
  });
});
