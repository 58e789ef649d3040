import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { inset, layoutTree, type Rect, squarify } from './treemap.ts';

const area = (r: Rect) => r.w * r.h;

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

const sizes = fc.array(fc.integer({ min: 1, max: 2_000_000_000 }), { minLength: 1, maxLength: 60 });
const container = fc.record({
  x: fc.integer({ min: -50, max: 50 }),
  y: fc.integer({ min: -50, max: 50 }),
  w: fc.double({ min: 1, max: 3000, noNaN: true }),
  h: fc.double({ min: 1, max: 3000, noNaN: true }),
});

describe('squarify', () => {
  it('lays the example of Bruls, Huizing and van Wijk as in their paper: rows {6,6}, {4,3}, {2,2,1}', () => {
    const rects = squarify([6, 6, 4, 3, 2, 2, 1], { x: 0, y: 0, w: 6, h: 4 });
    const near = (r: Rect | undefined, want: Rect) => {
      assert.ok(r);
      for (const k of ['x', 'y', 'w', 'h'] as const)
        assert.ok(Math.abs(r[k] - want[k]) < 1e-9, `${k}: ${r[k]} ≠ ${want[k]}`);
    };
    near(rects[0], { x: 0, y: 0, w: 3, h: 2 });
    near(rects[1], { x: 0, y: 2, w: 3, h: 2 });
    near(rects[2], { x: 3, y: 0, w: 12 / 7, h: 7 / 3 });
    near(rects[3], { x: 3 + 12 / 7, y: 0, w: 9 / 7, h: 7 / 3 });
    near(rects[4], { x: 3, y: 7 / 3, w: 1.2, h: 5 / 3 });
    near(rects[5], { x: 4.2, y: 7 / 3, w: 1.2, h: 5 / 3 });
    near(rects[6], { x: 5.4, y: 7 / 3, w: 0.6, h: 5 / 3 });
  });

  it('makes squares of equal sizes where squares fit (slice-and-dice would make slivers)', () => {
    const rects = squarify(Array(16).fill(7), { x: 0, y: 0, w: 100, h: 100 });
    for (const r of rects) {
      assert.ok(Math.abs(r.w - 25) < 1e-9 && Math.abs(r.h - 25) < 1e-9, JSON.stringify(r));
    }
  });

  it('areas are proportional to sizes, tile the container and never overlap', () => {
    fc.assert(
      fc.property(sizes, container, (list, box) => {
        const rects = squarify(list, box);
        assert.equal(rects.length, list.length);
        const total = list.reduce((a, b) => a + b, 0);
        const eps = 1e-6 * area(box);
        let sum = 0;
        for (const [i, r] of rects.entries()) {
          const want = ((list[i] as number) / total) * area(box);
          assert.ok(
            Math.abs(area(r) - want) <= eps + 1e-9 * want,
            `rect ${i}: area ${area(r)}, want ${want}`,
          );
          assert.ok(r.w >= 0 && r.h >= 0);
          assert.ok(r.x >= box.x - 1e-6 && r.y >= box.y - 1e-6, 'inside (top left)');
          assert.ok(
            r.x + r.w <= box.x + box.w + 1e-6 && r.y + r.h <= box.y + box.h + 1e-6,
            'inside (bottom right)',
          );
          sum += area(r);
        }
        assert.ok(Math.abs(sum - area(box)) <= eps, `tiles: ${sum} of ${area(box)}`);
        for (let i = 0; i < rects.length; i++)
          for (let j = i + 1; j < rects.length; j++)
            assert.ok(overlap(rects[i] as Rect, rects[j] as Rect) <= eps, `rects ${i} and ${j} overlap`);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same sizes give the same rectangles, and order among equal sizes is the input order', () => {
    fc.assert(
      fc.property(sizes, container, (list, box) => {
        assert.deepEqual(squarify(list, box), squarify([...list], { ...box }));
      }),
      { numRuns: 100 },
    );
    const [a, b] = squarify([5, 5], { x: 0, y: 0, w: 10, h: 5 });
    assert.ok(a && b && a.x < b.x, 'the first of two equal sizes comes first');
  });

  it('gives empty rectangles to sizes that are zero, negative or not numbers, and to an empty container', () => {
    const rects = squarify([0, 4, -1, Number.NaN, 4], { x: 10, y: 20, w: 8, h: 4 });
    for (const i of [0, 2, 3]) assert.deepEqual(rects[i], { x: 10, y: 20, w: 0, h: 0 });
    assert.equal(area(rects[1] as Rect) + area(rects[4] as Rect), 32);
    assert.deepEqual(squarify([], { x: 0, y: 0, w: 5, h: 5 }), []);
    assert.deepEqual(squarify([1, 2], { x: 0, y: 0, w: 0, h: 5 }), [
      { x: 0, y: 0, w: 0, h: 0 },
      { x: 0, y: 0, w: 0, h: 0 },
    ]);
  });
});

describe('layoutTree', () => {
  it("lays children inside their parent's content rectangle, proportional among siblings", () => {
    const tree = [
      {
        size: 30,
        data: 'a',
        children: [
          { size: 20, data: 'a1' },
          { size: 10, data: 'a2' },
        ],
      },
      { size: 10, data: 'b', children: [{ size: 1, data: 'b1' }] },
    ];
    const placed = layoutTree(tree, { x: 0, y: 0, w: 400, h: 100 }, (r) => inset(r, 2, 10));
    assert.equal(area(placed[0]?.rect as Rect), 30_000);
    for (const parent of placed) {
      const c = parent.content;
      assert.deepEqual(c, inset(parent.rect, 2, 10));
      let sum = 0;
      for (const child of parent.children) {
        assert.equal(child.depth, 1);
        const r = child.rect;
        assert.ok(
          r.x >= c.x - 1e-9 &&
            r.y >= c.y - 1e-9 &&
            r.x + r.w <= c.x + c.w + 1e-9 &&
            r.y + r.h <= c.y + c.h + 1e-9,
        );
        sum += area(r);
      }
      assert.ok(Math.abs(sum - area(c)) < 1e-6);
    }
    const [a1, a2] = placed[0]?.children ?? [];
    assert.ok(a1 && a2 && Math.abs(area(a1.rect) / area(a2.rect) - 2) < 1e-9);
  });

  it('inset never gives a negative size', () => {
    assert.deepEqual(inset({ x: 0, y: 0, w: 3, h: 5 }, 2, 10), { x: 1.5, y: 5, w: 0, h: 0 });
  });
});
