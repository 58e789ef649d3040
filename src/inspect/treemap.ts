/**
 * Squarified treemap layout (Bruls, Huizing and van Wijk, "Squarified Treemaps", 2000):
 * rectangles whose areas are proportional to sizes, tiling their container, laid in rows
 * along the container's shorter side so that they stay close to squares (long slivers are
 * hard to compare and to point at). Pure and deterministic: the same sizes give the same
 * rectangles, whatever the platform.
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * One rectangle per size, in the order given, tiling `rect` with areas proportional to the
 * sizes. Larger sizes are placed first (ties in input order); a size of zero (or less, or not
 * finite) gets an empty rectangle at the container's corner.
 */
export function squarify(sizes: readonly number[], rect: Rect): Rect[] {
  const out: Rect[] = sizes.map(() => ({ x: rect.x, y: rect.y, w: 0, h: 0 }));
  const order = sizes
    .map((size, index) => ({ size, index }))
    .filter((s) => Number.isFinite(s.size) && s.size > 0)
    .sort((a, b) => b.size - a.size || a.index - b.index);
  const total = order.reduce((sum, s) => sum + s.size, 0);
  if (order.length === 0 || !(rect.w > 0) || !(rect.h > 0)) return out;
  const scale = (rect.w * rect.h) / total;
  const areas = order.map((s) => s.size * scale);
  const free = { ...rect };
  let start = 0;
  while (start < order.length) {
    const side = Math.min(free.w, free.h);
    // Grow the row while that does not make its worst aspect ratio worse.
    let end = start + 1;
    let rowArea = areas[start] ?? 0;
    let worstSoFar = worst(areas, start, end, rowArea, side);
    while (end < order.length) {
      const nextArea = rowArea + (areas[end] ?? 0);
      const next = worst(areas, start, end + 1, nextArea, side);
      if (next > worstSoFar) break;
      worstSoFar = next;
      rowArea = nextArea;
      end++;
    }
    placeRow(order, areas, start, end, rowArea, free, out, end === order.length);
    start = end;
  }
  return out;
}

/**
 * The largest aspect ratio (≥ 1) in a row of areas[start..end) laid along a side of length
 * `side`; areas are sorted in decreasing order, so the extremes are the first and last.
 */
function worst(areas: readonly number[], start: number, end: number, sum: number, side: number): number {
  const largest = areas[start] ?? 0;
  const smallest = areas[end - 1] ?? 0;
  const s2 = side * side;
  const sum2 = sum * sum;
  return Math.max((s2 * largest) / sum2, sum2 / (s2 * smallest));
}

/** Lays a row along the shorter side of `free` and takes its strip off `free`. */
function placeRow(
  order: ReadonlyArray<{ index: number }>,
  areas: readonly number[],
  start: number,
  end: number,
  rowArea: number,
  free: Rect,
  out: Rect[],
  last: boolean,
): void {
  const vertical = free.w >= free.h; // the row is a column at the left of a wide space
  const length = vertical ? free.h : free.w;
  // The last row takes what is left, so float rounding leaves no gap at the far edge.
  const thickness = last
    ? vertical
      ? free.w
      : free.h
    : Math.min(rowArea / length, vertical ? free.w : free.h);
  let offset = 0;
  for (let i = start; i < end; i++) {
    const extent = i === end - 1 ? length - offset : (areas[i] ?? 0) / thickness;
    const index = order[i]?.index ?? 0;
    out[index] = vertical
      ? { x: free.x, y: free.y + offset, w: thickness, h: extent }
      : { x: free.x + offset, y: free.y, w: extent, h: thickness };
    offset += extent;
  }
  if (vertical) {
    free.x += thickness;
    free.w = Math.max(0, free.w - thickness);
  } else {
    free.y += thickness;
    free.h = Math.max(0, free.h - thickness);
  }
}

export interface TreemapNode<T> {
  /** The size this node's area is proportional to among its siblings. */
  size: number;
  data: T;
  children?: ReadonlyArray<TreemapNode<T>>;
}

export interface PlacedNode<T> {
  data: T;
  rect: Rect;
  depth: number;
  /** Where its children were laid (its rectangle less a label strip and padding). */
  content: Rect;
  children: Array<PlacedNode<T>>;
}

/**
 * Lays a hierarchy: each level squarified inside its parent's content rectangle, which
 * `content` derives from the parent's rectangle and depth (room for a label, a gap). Areas
 * are proportional among siblings.
 */
export function layoutTree<T>(
  nodes: ReadonlyArray<TreemapNode<T>>,
  rect: Rect,
  content: (rect: Rect, depth: number) => Rect = (r) => r,
  depth = 0,
): Array<PlacedNode<T>> {
  const rects = squarify(
    nodes.map((n) => n.size),
    rect,
  );
  return nodes.map((node, i) => {
    const own = rects[i] ?? { x: rect.x, y: rect.y, w: 0, h: 0 };
    const inner = content(own, depth);
    return {
      data: node.data,
      rect: own,
      depth,
      content: inner,
      children: node.children ? layoutTree(node.children, inner, content, depth + 1) : [],
    };
  });
}

/** A rectangle shrunk by `pad` on every side and by `top` more at the top (never negative). */
export function inset(rect: Rect, pad: number, top = 0): Rect {
  const w = Math.max(0, rect.w - 2 * pad);
  const h = Math.max(0, rect.h - 2 * pad - top);
  return { x: rect.x + Math.min(pad, rect.w / 2), y: rect.y + Math.min(pad + top, rect.h), w, h };
}
