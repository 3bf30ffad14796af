/**
 * The join against turf's booleanPointInPolygon as reference: 1,000,000 random points in bulk (a
 * plain seeded loop: fast-check's shrinking buys nothing for uniform points), then fast-check for
 * the hard places — points exactly on shared edges and vertices, and points a few ulps beside them.
 */
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import fc from 'fast-check';
import Flatbush from 'flatbush';
import { describe, expect, it } from 'vitest';
import { buildGridIndex } from '../../core/grid/join.ts';
import { latticeGrids, mulberry32 } from './synthetic.ts';

// ~990 grids like the sample district: 32×31 lattice with 3 segments per side, one MultiPolygon grid,
// one grid with a hole. Dyadic coordinates so that points on edges can be written exactly.
const grids = latticeGrids({ cols: 32, rows: 31, seed: 7, edgeVertices: 3, jitter: 0.28, special: true, dyadic: true });
const byCode = [...grids].sort((a, b) => (a.code < b.code ? -1 : 1));
const index = buildGridIndex(grids);
const [minX, minY, maxX, maxY] = index.bbox;

// The reference: turf over the grids whose bbox holds the point (an index of our own, built here).
const boxes = new Flatbush(byCode.length);
for (const g of byCode) {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  const polys = g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates;
  for (const p of polys)
    for (const [x, y] of p[0]) {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
  boxes.add(x0, y0, x1, y1);
}
boxes.finish();
function turfGrids(x: number, y: number): number[] {
  return boxes
    .search(x, y, x, y)
    .filter((o) => booleanPointInPolygon([x, y], byCode[o].geometry))
    .sort((a, b) => a - b);
}

describe('join vs turf booleanPointInPolygon, 1,000,000 random points', () => {
  for (let part = 0; part < 4; part++) {
    it(`part ${part + 1}/4: 250,000 points`, () => {
      const N = 250_000;
      const rnd = mulberry32(1000 + part);
      const padX = (maxX - minX) * 0.03,
        padY = (maxY - minY) * 0.03;
      const xs = new Float64Array(N),
        ys = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        xs[i] = minX - padX + rnd() * (maxX - minX + 2 * padX);
        ys[i] = minY - padY + rnd() * (maxY - minY + 2 * padY);
      }
      const out = index.joinBatch(xs, ys, new Int32Array(N));
      let mismatches = 0,
        inside = 0,
        multi = 0;
      for (let i = 0; i < N; i++) {
        const ref = turfGrids(xs[i], ys[i]);
        if (ref.length > 1) multi++; // on a boundary (never for random doubles, in practice)
        const expected = ref.length ? ref[0] : -1;
        if (ref.length > 1 ? !ref.includes(out[i]) : out[i] !== expected) {
          if (mismatches++ < 5) console.error('mismatch', xs[i], ys[i], ref, out[i]);
        }
        if (out[i] >= 0) inside++;
        // The single-point API agrees with the batch.
        if (i % 1000 === 0) expect(index.join(xs[i], ys[i]).grid).toBe(index.codeOf(out[i]));
      }
      expect(mismatches).toBe(0);
      expect(multi).toBe(0);
      expect(inside).toBeGreaterThan(N * 0.85);
    });
  }
});

/** All vertices of all rings, with their grid. */
const vertices: [number, number][] = [];
const edges: [number, number, number, number][] = [];
for (const g of byCode) {
  const polys = g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates;
  for (const p of polys)
    for (const ring of p) {
      for (let i = 0; i + 1 < ring.length; i++) {
        vertices.push([ring[i][0], ring[i][1]]);
        edges.push([ring[i][0], ring[i][1], ring[i + 1][0], ring[i + 1][1]]);
      }
    }
}

function containing(x: number, y: number): number[] {
  return index.search(x, y, x, y).filter((o) => index.contains(o, x, y));
}

/** Where the edge rule puts a point of the outer boundary: west and south sides in, east and north out. */
function expectedCount(x: number, y: number): number {
  if (x === maxX || y === maxY) return 0;
  return 1;
}

const one = { xs: new Float64Array(1), ys: new Float64Array(1), out: new Int32Array(1) };
/** The join of one point through both paths (single and batch), which must agree. */
function joinBoth(x: number, y: number): string | null {
  one.xs[0] = x;
  one.ys[0] = y;
  const batch = index.codeOf(index.joinBatch(one.xs, one.ys, one.out)[0]);
  const single = index.join(x, y).grid;
  expect(batch).toBe(single);
  return single;
}

function checkBoundaryPoint(x: number, y: number): void {
  const holders = containing(x, y);
  const o = joinBoth(x, y);
  expect(holders.length).toBe(expectedCount(x, y));
  if (holders.length === 1) {
    expect(o).toBe(index.codeOf(holders[0]));
    const g = byCode[holders[0]].geometry;
    // Turf agrees that the point lies on the boundary of the grid it was given to.
    expect(booleanPointInPolygon([x, y], g)).toBe(true);
    expect(booleanPointInPolygon([x, y], g, { ignoreBoundary: true })).toBe(false);
  } else {
    expect(o).toBeNull();
  }
}

describe('points exactly on shared edges and vertices land in exactly one grid', () => {
  it('every vertex', () => {
    for (const [x, y] of vertices) checkBoundaryPoint(x, y);
  });

  it('points on edges (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat({ max: edges.length - 1 }), fc.integer({ min: 1, max: 255 }), (e, k) => {
        const [x1, y1, x2, y2] = edges[e];
        const t = k / 256;
        const x = x1 + (x2 - x1) * t,
          y = y1 + (y2 - y1) * t;
        // Dyadic coordinates: the point is exactly on the segment (checked, not assumed).
        expect((x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)).toBe(0);
        checkBoundaryPoint(x, y);
      }),
      { numRuns: 20_000 },
    );
  });

  it('points a few ulps beside an edge or vertex are in exactly one grid, and the join finds it (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: edges.length - 1 }),
        fc.integer({ min: 0, max: 256 }),
        fc.integer({ min: -64, max: 64 }),
        fc.integer({ min: -64, max: 64 }),
        (e, k, dx, dy) => {
          const [x1, y1, x2, y2] = edges[e];
          const t = k / 256;
          const x = x1 + (x2 - x1) * t + dx * 2 ** -48;
          const y = y1 + (y2 - y1) * t + dy * 2 ** -48;
          const holders = containing(x, y);
          const onOuter = x <= minX || x >= maxX || y <= minY || y >= maxY;
          if (!onOuter) expect(holders.length).toBe(1);
          else expect(holders.length).toBeLessThanOrEqual(1);
          expect(joinBoth(x, y)).toBe(holders.length ? index.codeOf(holders[0]) : null);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('a non-dyadic set: random points near edges are in exactly one grid (fast-check)', () => {
    const set = latticeGrids({
      cols: 12,
      rows: 12,
      seed: 11,
      edgeVertices: 2,
      jitter: 0.3,
      origin: [116.391, 39.907],
      step: 0.00137,
    });
    const idx = buildGridIndex(set);
    const es: [number, number, number, number][] = [];
    for (const g of set) {
      if (g.geometry.type !== 'Polygon') continue;
      const r = g.geometry.coordinates[0];
      for (let i = 0; i + 1 < r.length; i++) es.push([r[i][0], r[i][1], r[i + 1][0], r[i + 1][1]]);
    }
    const [bx0, by0, bx1, by1] = idx.bbox;
    fc.assert(
      fc.property(
        fc.nat({ max: es.length - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: -3, max: 3 }),
        (e, t, d) => {
          const [x1, y1, x2, y2] = es[e];
          const x = x1 + (x2 - x1) * t + d * 1e-15;
          const y = y1 + (y2 - y1) * t;
          if (x <= bx0 || x >= bx1 || y <= by0 || y >= by1) return;
          const holders = idx.search(x, y, x, y).filter((o) => idx.contains(o, x, y));
          expect(holders.length).toBe(1);
          expect(idx.ordinalAt(x, y)).toBe(holders[0]);
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

describe('the sample district (992 grids) vs turf', () => {
  it('200,000 random points agree', async () => {
    const { loadSampleGrids } = await import('../../geo-data/index.ts');
    const base = loadSampleGrids()
      .features.filter((f) => f.properties.level === 4)
      .map((f) => ({ code: f.properties.code, geometry: f.geometry }))
      .sort((a, b) => (a.code < b.code ? -1 : 1));
    const idx = buildGridIndex(base);
    const tree = new Flatbush(base.length);
    for (const g of base) {
      const ring =
        g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates.flatMap((p) => p[0]);
      tree.add(
        Math.min(...ring.map((p) => p[0])),
        Math.min(...ring.map((p) => p[1])),
        Math.max(...ring.map((p) => p[0])),
        Math.max(...ring.map((p) => p[1])),
      );
    }
    tree.finish();
    const [x0, y0, x1, y1] = idx.bbox;
    const rnd = mulberry32(99);
    const N = 200_000;
    const xs = new Float64Array(N),
      ys = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      xs[i] = x0 + rnd() * (x1 - x0);
      ys[i] = y0 + rnd() * (y1 - y0);
    }
    const out = idx.joinBatch(xs, ys, new Int32Array(N));
    let mismatches = 0;
    for (let i = 0; i < N; i++) {
      const ref = tree
        .search(xs[i], ys[i], xs[i], ys[i])
        .filter((o) => booleanPointInPolygon([xs[i], ys[i]], base[o].geometry))
        .sort((a, b) => a - b);
      if ((ref[0] ?? -1) !== out[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
