/**
 * The picture of where an image's bytes go: a treemap (group → package → file) drawn as SVG,
 * compressed and uncompressed, coloured by change against an older report when there is one,
 * in a self-contained HTML page (inline CSS, no script, no external asset) or a standalone
 * SVG. Every rectangle has a <title> (the browser's tooltip) with its sizes.
 */
import { UNKNOWN_PACKAGE } from '../pipeline/artifacts/report.ts';
import { formatSize } from '../util/size.ts';
import { type Change, changed, compressedDelta, delta, isChanged } from './diff.ts';
import { groupLegend } from './groups.ts';
import {
  type FileLeaf,
  type GroupNode,
  type ImageModel,
  type PackageNode,
  packageLabel,
  sizeIn,
  type View,
} from './model.ts';
import { inset, type Rect, squarify } from './treemap.ts';

export const MAP_WIDTH = 1360;
export const MAP_HEIGHT = 680;

/** Files drawn smaller than this (px²) are drawn as one "N smaller files" rectangle per package. */
const MIN_FILE_AREA = 24;
const GROUP_HEADER = 17;
const PACKAGE_HEADER = 13;
/** Average advance of a character of the 11 px sans-serif labels, to decide what fits. */
const CHAR_WIDTH = 0.6;

const VIEW_TEXT: Record<View, { title: string; what: string }> = {
  compressed: { title: 'Compressed', what: 'what every machine downloads' },
  uncompressed: { title: 'Uncompressed', what: 'what the OS unpacks into RAM' },
};

export interface SvgOptions {
  width?: number;
  height?: number;
  /** Write the xmlns attribute (a standalone SVG file needs it; inline SVG in HTML does not). */
  standalone?: boolean;
}

/** One view of the treemap as an <svg> element. */
export function treemapSvg(model: ImageModel, view: View, options: SvgOptions = {}): string {
  const width = options.width ?? MAP_WIDTH;
  const height = options.height ?? MAP_HEIGHT;
  const shapes: string[] = [];
  const labels: string[] = [];
  const groups = model.groups.filter((g) => sizeIn(view, g) > 0);
  const groupRects = squarify(
    groups.map((g) => sizeIn(view, g)),
    { x: 0, y: 0, w: width, h: height },
  );
  const diffing = model.against !== undefined;
  for (const [gi, group] of groups.entries()) {
    const rect = groupRects[gi] as Rect;
    const header = rect.h >= 2.5 * GROUP_HEADER && rect.w >= 50 ? GROUP_HEADER : 0;
    shapes.push(
      `<g class="group" data-group="${attr(group.rule.name)}">`,
      `<rect class="group" ${box(rect)} fill="${group.rule.color}">${title(groupTitle(model, group))}</rect>`,
    );
    if (header > 0) {
      const change = diffing ? shownDelta(group.change, view) : undefined;
      const sign = change === undefined ? '' : ` ${signed(change)}`;
      labels.push(
        text(
          rect.x + 4,
          rect.y + 13,
          `${group.rule.name} ${formatSize(sizeIn(view, group))}${sign}`,
          rect.w - 8,
          {
            cls: 'group-label',
            size: 12,
            fill: labelColor(group.rule.color),
          },
        ),
      );
    }
    const content = insetOrWhole(rect, 2, header);
    const packages = group.packages.filter((p) => sizeIn(view, p) > 0);
    const packageRects = squarify(
      packages.map((p) => sizeIn(view, p)),
      content,
    );
    for (const [pi, pkg] of packages.entries()) {
      const prect = packageRects[pi] as Rect;
      drawPackage(model, view, pkg, group, prect, shapes, labels);
    }
    shapes.push('</g>');
  }
  const xmlns = options.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  return [
    `<svg${xmlns} class="treemap" data-view="${view}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${attr(`${VIEW_TEXT[view].title} size of initramfs-${model.report.arch} by group, package and file`)}" font-family="system-ui, sans-serif">`,
    ...shapes,
    '<g class="labels" pointer-events="none">',
    ...labels,
    '</g>',
    '</svg>',
  ].join('\n');
}

function drawPackage(
  model: ImageModel,
  view: View,
  pkg: PackageNode,
  group: GroupNode,
  rect: Rect,
  shapes: string[],
  labels: string[],
): void {
  const diffing = model.against !== undefined;
  const packageFill = diffing ? changeColor(pkg.change, view) : mix(group.rule.color, '#ffffff', 0.3);
  shapes.push(
    `<rect class="pkg" data-package="${attr(pkg.name)}" data-group="${attr(group.rule.name)}" data-bytes="${pkg.bytes}" data-compressed="${Math.round(pkg.compressed)}" ${box(rect)} fill="${packageFill}">${title(packageTitle(model, pkg))}</rect>`,
  );
  const header = rect.h >= 3 * PACKAGE_HEADER && rect.w >= 40 ? PACKAGE_HEADER : 0;
  const label = `${packageLabel(pkg.name)} ${formatSize(sizeIn(view, pkg))}`;
  if (header > 0)
    labels.push(text(rect.x + 3, rect.y + 10, label, rect.w - 6, { size: 10, cls: 'pkg-label' }));
  const content = insetOrWhole(rect, 1, header);
  const total = sizeIn(view, pkg);
  const files = pkg.files.filter((f) => sizeIn(view, f) > 0);
  if (files.length > 0 && content.w > 0 && content.h > 0 && total > 0) {
    const perByte = (content.w * content.h) / total;
    const shown = files.filter((f) => sizeIn(view, f) * perByte >= MIN_FILE_AREA);
    const shownSet = new Set(shown);
    const rest = files.filter((f) => !shownSet.has(f));
    const sizes = shown.map((f) => sizeIn(view, f));
    const restSize = rest.reduce((sum, f) => sum + sizeIn(view, f), 0);
    const rects = squarify(rest.length > 0 ? [...sizes, restSize] : sizes, content);
    for (const [fi, file] of shown.entries()) {
      const frect = rects[fi] as Rect;
      const fill = diffing
        ? changeColor(file.change ?? pkg.change, view)
        : mix(group.rule.color, '#ffffff', 0.55);
      shapes.push(
        `<rect class="file" ${box(frect)} fill="${fill}">${title(fileTitle(model, pkg, file))}</rect>`,
      );
      // Without a header strip the package's own label sits where a file label would go.
      if (header > 0 && frect.w >= 40 && frect.h >= 12) {
        const name = file.path.slice(file.path.lastIndexOf('/') + 1);
        labels.push(
          text(frect.x + 2, frect.y + 10, `${name} ${formatSize(sizeIn(view, file))}`, frect.w - 4, {
            size: 9,
          }),
        );
      }
    }
    if (rest.length > 0) {
      const rrect = rects[shown.length] as Rect;
      const fill = diffing
        ? changeColor(sumChanges(rest, pkg.change), view)
        : mix(group.rule.color, '#ffffff', 0.7);
      shapes.push(
        `<rect class="more" data-package="${attr(pkg.name)}" ${box(rrect)} fill="${fill}">${title(
          `${rest.length} smaller files of ${packageLabel(pkg.name)}: ${formatSize(restSize)} ${view}`,
        )}</rect>`,
      );
    }
  }
  if (header === 0 && rect.w >= 30 && rect.h >= 11) {
    labels.push(
      text(rect.x + 2, rect.y + Math.min(rect.h - 2, 10), label, rect.w - 4, { size: 9, cls: 'pkg-label' }),
    );
  }
}

/** The change of several files together (the "smaller files" rectangle). */
function sumChanges(files: readonly FileLeaf[], fallback: Change | undefined): Change | undefined {
  if (files.some((f) => f.change === undefined)) return fallback;
  let before: { bytes: number; compressed: number } | undefined;
  let after = { bytes: 0, compressed: 0 };
  for (const file of files) {
    const c = file.change as Change;
    if (c.before !== undefined) {
      before = before ?? { bytes: 0, compressed: 0 };
      before.bytes += c.before.bytes;
      before.compressed += c.before.compressed ?? 0;
    }
    if (c.after !== undefined)
      after = {
        bytes: after.bytes + c.after.bytes,
        compressed: after.compressed + (c.after.compressed ?? 0),
      };
  }
  return { name: '', before, after };
}

/**
 * Red for what grew (the darkest for what is new), blue for what shrank, grey for unchanged:
 * a diverging scale readable with the common colour-vision deficiencies. The darker, the
 * larger the change relative to the old size (full at 25%).
 */
export function changeColor(change: Change | undefined, view: View): string {
  if (change === undefined || change.after === undefined) return '#d9d9d9';
  if (change.before === undefined) return '#b2182b';
  const d = shownDelta(change, view);
  if (d === undefined || d === 0) return '#e6e6e6';
  const base =
    view === 'compressed' && change.before.compressed !== undefined
      ? change.before.compressed
      : change.before.bytes;
  const t = Math.min(1, Math.abs(d) / Math.max(1, base) / 0.25);
  return d > 0 ? mix('#f4a582', '#d6604d', t) : mix('#92c5de', '#2166ac', t);
}

/**
 * The change to show in a view, or undefined when there is none worth showing (see
 * isChanged): a compressed estimate that only moved with its segment's ratio is not a change.
 */
export function shownDelta(change: Change | undefined, view: View): number | undefined {
  if (change === undefined || !isChanged(change)) return undefined;
  if (view === 'uncompressed') return delta(change);
  return compressedDelta(change) ?? delta(change);
}

// -------------------------------------------------------------------------------------------
// Tooltips

function compressedNote(model: ImageModel, measured: boolean): string {
  if (measured) return 'measured: a segment of its own';
  return model.compressedBasis === 'segments'
    ? "estimated at its segment's ratio"
    : "estimated at the whole image's ratio";
}

function sizesLine(bytes: number, compressed: number, note: string): string {
  return `${formatSize(bytes)} uncompressed · ${formatSize(compressed)} compressed (${note})`;
}

function changeLine(change: Change | undefined): string {
  if (change === undefined) return '';
  if (change.before === undefined) return '\nnew since the older report';
  const dc = compressedDelta(change);
  const compressed = dc === undefined ? '' : ` · ${signed(dc)} compressed`;
  return `\nwas ${formatSize(change.before.bytes)}: ${signed(delta(change))} uncompressed${compressed}`;
}

function groupTitle(model: ImageModel, group: GroupNode): string {
  return `${group.rule.name}: ${group.rule.about}\n${sizesLine(group.bytes, group.compressed, compressedNote(model, false))}\n${group.packages.length} packages${changeLine(group.change)}`;
}

function packageTitle(model: ImageModel, pkg: PackageNode): string {
  const version = pkg.version === '' ? '' : ` ${pkg.version}`;
  return `${packageLabel(pkg.name)}${version} (${pkg.group}), ${pkg.fileCount} files\n${sizesLine(pkg.bytes, pkg.compressed, compressedNote(model, pkg.measured))}${changeLine(pkg.change)}`;
}

function fileTitle(model: ImageModel, pkg: PackageNode, file: FileLeaf): string {
  const where = file.segment === '' ? '' : `, segment ${file.segment}`;
  return `${file.path} (${packageLabel(pkg.name)}${where})\n${sizesLine(file.bytes, file.compressed, compressedNote(model, false))}${changeLine(file.change)}`;
}

// -------------------------------------------------------------------------------------------
// Documents

/** The whole page: summary, the two views (a radio switch, no script), legend and tables. */
export function treemapHtml(model: ImageModel, options: { generator?: string } = {}): string {
  const { report } = model;
  const heading = `HookOS ${report.arch}: where the bytes of initramfs-${report.arch} go`;
  const packages = new Set(model.groups.flatMap((g) => g.packages.map((p) => p.name))).size;
  const files = report.files?.length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(heading)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 12px 20px; color: #222; background: #fff; }
h1 { font-size: 19px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 2px 0; }
.muted { color: #555; }
.switch { margin: 8px 0 6px; }
.switch label { display: inline-block; padding: 3px 10px; border: 1px solid #888; border-radius: 4px; margin-right: 6px; cursor: pointer; }
input[name=view] { position: absolute; opacity: 0; }
#view-compressed:checked ~ .switch label[for=view-compressed],
#view-uncompressed:checked ~ .switch label[for=view-uncompressed] { background: #222; color: #fff; border-color: #222; }
#view-compressed:checked ~ .view-uncompressed, #view-uncompressed:checked ~ .view-compressed { display: none; }
svg.treemap { display: block; max-width: 100%; height: auto; }
svg.treemap rect { stroke: #fff; stroke-width: 0.5; }
svg.treemap rect.group { stroke-width: 1; }
svg.treemap rect.pkg:hover, svg.treemap rect.file:hover, svg.treemap rect.more:hover { stroke: #000; stroke-width: 1.5; }
.group-label { font-weight: 600; }
.pkg-label { fill: #111; font-weight: 600; }
svg.treemap text:not([fill]) { fill: #111; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { padding: 2px 10px 2px 0; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, .name { text-align: left; }
th { border-bottom: 1px solid #888; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; }
.up { color: #b2182b; } .down { color: #2166ac; }
</style>
</head>
<body>
<h1>${esc(heading)}</h1>
<p>${summaryLine(model)}</p>
<p class="muted">${esc(`${packages} packages${files === undefined ? '' : `, ${files} files`}; kernel ${report.kernelVersion || 'unknown'}.`)} ${esc(compressedExplanation(model))}${options.generator ? ` ${esc(options.generator)}` : ''}</p>
${model.against ? `<p>${againstLine(model)}</p>` : ''}
<input type="radio" name="view" id="view-compressed" checked>
<input type="radio" name="view" id="view-uncompressed">
<div class="switch">${(['compressed', 'uncompressed'] as const)
    .map(
      (v) =>
        `<label for="view-${v}">${VIEW_TEXT[v].title}: ${esc(formatSize(v === 'compressed' ? report.initramfsBytes : report.uncompressedBytes))}, ${VIEW_TEXT[v].what}</label>`,
    )
    .join('')}</div>
<section class="view-compressed">
${treemapSvg(model, 'compressed')}
</section>
<section class="view-uncompressed">
${treemapSvg(model, 'uncompressed')}
</section>
${model.against ? changesSection(model) : ''}
${groupsSection(model)}
${segmentsSection(model)}
</body>
</html>
`;
}

/** A standalone SVG file: both views, one above the other, each under a heading. */
export function treemapSvgDocument(model: ImageModel): string {
  const { report } = model;
  const top = 56;
  const gap = 34;
  const height = top + 2 * MAP_HEIGHT + gap;
  const views = (['compressed', 'uncompressed'] as const).map((view, i) => {
    const y = top + i * (MAP_HEIGHT + gap);
    const size = formatSize(view === 'compressed' ? report.initramfsBytes : report.uncompressedBytes);
    return `<text x="0" y="${y - 8}" font-size="14" font-weight="600">${esc(`${VIEW_TEXT[view].title}: ${size}, ${VIEW_TEXT[view].what}`)}</text>
<g transform="translate(0 ${y})">
${treemapSvg(model, view)}
</g>`;
  });
  const against = model.against ? `${stripTags(againstLine(model))} ` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${MAP_WIDTH} ${height}" width="${MAP_WIDTH}" height="${height}" font-family="system-ui, sans-serif">
<style>rect { stroke: #fff; stroke-width: 0.5; } text.group-label { font-weight: 600; } text.pkg-label { font-weight: 600; }</style>
<rect x="0" y="0" width="${MAP_WIDTH}" height="${height}" fill="#fff" stroke="none"/>
<text x="0" y="18" font-size="17" font-weight="600">${esc(`HookOS ${report.arch}: where the bytes of initramfs-${report.arch} go`)}</text>
<text x="0" y="36" font-size="12">${esc(`${against}${compressedExplanation(model)}`)}</text>
${views.join('\n')}
</svg>
`;
}

function summaryLine(model: ImageModel): string {
  const r = model.report;
  return esc(
    `initramfs-${r.arch}: ${formatSize(r.initramfsBytes)} compressed, ${formatSize(r.uncompressedBytes)} uncompressed (${percent(r.initramfsBytes, r.uncompressedBytes)}), in ${r.segments.length} segments.`,
  );
}

function againstLine(model: ImageModel): string {
  const against = model.against;
  if (against === undefined) return '';
  const { before, after } = against.diff.image;
  const part = (label: string, b: number, a: number) =>
    `${label} ${esc(formatSize(b))} → ${esc(formatSize(a))} (<span class="${a > b ? 'up' : a < b ? 'down' : ''}">${esc(signed(a - b))}, ${esc(signedPercent(a - b, b))}</span>)`;
  return `Against <b>${esc(against.name)}</b>: ${part('compressed', before.compressed ?? 0, after.compressed ?? 0)}; ${part('uncompressed', before.bytes, after.bytes)}. Colours show change: <span class="swatch" style="background:#b2182b"></span>new <span class="swatch" style="background:#d6604d"></span>grew <span class="swatch" style="background:#2166ac"></span>shrank <span class="swatch" style="background:#e6e6e6"></span>unchanged${against.diff.files === undefined ? ' (by package: the older report lists no files)' : ''}.${removedNote(model)}`;
}

/** What the map cannot show: packages that are gone. */
function removedNote(model: ImageModel): string {
  const removed = changed(model.against?.diff.packages ?? []).filter((c) => c.after === undefined);
  if (removed.length === 0) return '';
  const shown = removed.slice(0, 6).map((c) => `${packageLabel(c.name)} (${signed(delta(c))})`);
  const more = removed.length > shown.length ? ` and ${removed.length - shown.length} more` : '';
  return esc(` Removed: ${shown.join(', ')}${more}.`);
}

function compressedExplanation(model: ImageModel): string {
  const unknown = model.report.files?.some((f) => f.package === UNKNOWN_PACKAGE)
    ? 'Read from the initramfs alone (no build report matches it): packages are named only where a segment of their own names them. '
    : '';
  return unknown + compressedBasisText(model);
}

function compressedBasisText(model: ImageModel): string {
  if (model.compressedBasis === 'image') {
    return "Compressed sizes are estimated at the whole image's ratio: this report (version 1) does not say which segment each file is in.";
  }
  const measured = model.groups.flatMap((g) => g.packages.filter((p) => p.measured).map((p) => p.name));
  const which = measured.length > 0 ? ` (${measured.sort().join(', ')})` : '';
  return `Compressed sizes: measured for packages with a segment of their own${which}; every other package and every file is estimated at the ratio of the segment it is in.`;
}

function changesSection(model: ImageModel): string {
  const against = model.against;
  if (against === undefined) return '';
  const list = changed(against.diff.packages);
  const rows = list.slice(0, 40).map((c) => {
    const d = delta(c);
    const dc = compressedDelta(c);
    const state = c.before === undefined ? ' (new)' : c.after === undefined ? ' (removed)' : '';
    return `<tr><td class="name">${esc(packageLabel(c.name))}${state}</td><td>${c.before ? esc(formatSize(c.before.bytes)) : '—'}</td><td>${c.after ? esc(formatSize(c.after.bytes)) : '—'}</td><td class="${d > 0 ? 'up' : d < 0 ? 'down' : ''}">${esc(signed(d))}</td><td>${dc === undefined ? '?' : esc(signed(dc))}</td></tr>`;
  });
  const more =
    list.length > 40 ? `<p class="muted">… and ${list.length - 40} more changed packages.</p>` : '';
  return `<h2>What changed since ${esc(against.name)} (${list.length} packages)</h2>
<table class="changes"><tr><th>package</th><th>before</th><th>after</th><th>change</th><th>compressed change</th></tr>
${rows.join('\n')}
</table>${more}`;
}

function groupsSection(model: ImageModel): string {
  const r = model.report;
  const byName = new Map(model.groups.map((g) => [g.rule.name, g]));
  const rows = groupLegend().map((rule) => {
    const g = byName.get(rule.name);
    const bytes = g?.bytes ?? 0;
    const compressed = g?.compressed ?? 0;
    const change = g?.change ?? model.against?.diff.groups.find((c) => c.name === rule.name);
    const d =
      change === undefined || delta(change) === 0
        ? ''
        : `<td class="${delta(change) > 0 ? 'up' : 'down'}">${esc(signed(delta(change)))}</td>`;
    return `<tr><td class="name"><span class="swatch" style="background:${rule.color}"></span>${esc(rule.name)}</td><td>${esc(formatSize(Math.round(compressed)))}</td><td>${esc(percent(compressed, r.initramfsBytes))}</td><td>${esc(formatSize(bytes))}</td><td>${g?.packages.length ?? 0}</td>${model.against ? d || '<td></td>' : ''}<td class="name muted">${esc(rule.about)}</td></tr>`;
  });
  return `<h2>Groups</h2>
<table class="groups"><tr><th>group</th><th>compressed</th><th>share</th><th>uncompressed</th><th>packages</th>${model.against ? '<th>change</th>' : ''}<th class="name">holds</th></tr>
${rows.join('\n')}
</table>`;
}

function segmentsSection(model: ImageModel): string {
  const rows = model.report.segments.map(
    (s) =>
      `<tr><td class="name">${esc(s.name)}</td><td>${s.entries}</td><td>${esc(formatSize(s.uncompressedBytes))}</td><td>${esc(formatSize(s.compressedBytes))}</td><td>${esc(percent(s.compressedBytes, s.uncompressedBytes))}</td></tr>`,
  );
  return `<h2>Segments</h2>
<p class="muted">The initramfs is an early boot archive followed by these compressed cpio segments; /init unpacks them in this order.</p>
<table class="segments"><tr><th>segment</th><th>entries</th><th>uncompressed</th><th>compressed</th><th>ratio</th></tr>
${rows.join('\n')}
</table>`;
}

// -------------------------------------------------------------------------------------------
// Small helpers

/** The rectangle less its padding and label strip; all of it when that would leave nothing. */
function insetOrWhole(rect: Rect, pad: number, top: number): Rect {
  const inner = inset(rect, pad, top);
  return inner.w > 0 && inner.h > 0 ? inner : rect;
}

function box(r: Rect): string {
  return `x="${num(r.x)}" y="${num(r.y)}" width="${num(r.w)}" height="${num(r.h)}"`;
}

/** Coordinates to 0.01 px: enough for any screen, and the same text on every platform. */
function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function title(text: string): string {
  return `<title>${esc(text)}</title>`;
}

/** A label cut to what fits in `room` px (an ellipsis when cut), or nothing when nothing fits. */
function text(
  x: number,
  y: number,
  content: string,
  room: number,
  o: { size?: number; cls?: string; fill?: string } = {},
): string {
  const size = o.size ?? 11;
  const fits = Math.floor(room / (size * CHAR_WIDTH));
  if (fits < 3) return '';
  const shown = content.length <= fits ? content : `${content.slice(0, fits - 1)}…`;
  const cls = o.cls ? ` class="${o.cls}"` : '';
  const fill = o.fill ? ` fill="${o.fill}"` : '';
  return `<text${cls} x="${num(x)}" y="${num(y)}" font-size="${size}"${fill}>${esc(shown)}</text>`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const attr = esc;

function stripTags(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/\s+/g, ' ');
}

export function signed(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes === 0) return '±0 B';
  return `${bytes > 0 ? '+' : '−'}${formatSize(Math.round(Math.abs(bytes)))}`;
}

function signedPercent(d: number, base: number): string {
  if (base === 0) return 'new';
  const p = (100 * d) / base;
  return `${p > 0 ? '+' : p < 0 ? '−' : '±'}${Math.abs(p).toFixed(1)}%`;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
}

/** White or near-black, whichever contrasts more with the background (WCAG's ratio). */
export function labelColor(background: string): string {
  const luminance = [1, 3, 5]
    .map((i) => Number.parseInt(background.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * ([0.2126, 0.7152, 0.0722][i] ?? 0), 0);
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0556 ? '#ffffff' : '#111111';
}

/** `a` blended toward `b` by t ∈ [0, 1] (#rrggbb). */
export function mix(a: string, b: string, t: number): string {
  const channel = (hex: string, i: number) => Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  let out = '#';
  for (let i = 0; i < 3; i++) {
    const v = Math.round(channel(a, i) * (1 - t) + channel(b, i) * t);
    out += v.toString(16).padStart(2, '0');
  }
  return out;
}
