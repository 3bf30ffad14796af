import { describe, expect, it } from 'vitest';
import type { Polygon, Position } from 'geojson';
import { latticeGrids } from '../../test/grid/synthetic.ts';
import { validateTopology, type TopologyFeature } from './topology.ts';

const ring = (...pts: [number, number][]): Position[] => [...pts, pts[0]];
const feat = (code: string, ...rings: Position[][]): TopologyFeature => ({
  type: 'Feature',
  properties: { code },
  geometry: { type: 'Polygon', coordinates: rings } as Polygon,
});
const kinds = (fs: TopologyFeature[]) => validateTopology(fs).problems.map((p) => `${p.kind}:${p.codes.join(',')}`);

describe('validateTopology', () => {
  it('accepts a lattice of ~1,000 grids with a MultiPolygon grid and a grid with a hole, fast', () => {
    const grids = latticeGrids({ cols: 32, rows: 31, seed: 5, edgeVertices: 3, special: true });
    const fs: TopologyFeature[] = grids.map((g) => ({
      type: 'Feature',
      properties: { code: g.code },
      geometry: g.geometry,
    }));
    const t0 = performance.now();
    const r = validateTopology(fs);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(performance.now() - t0).toBeLessThan(6000); // ~0.4 s quiet
  });

  it('finds a ring touching itself, a spike, and crossing rings', () => {
    // A figure-8 through (1,1): the ring touches itself at a vertex.
    const eight = ring([0, 0], [1, 1], [2, 0], [2, 2], [1, 1], [0, 2]);
    expect(kinds([feat('120106001001001', eight)])).toContain('self_intersection:120106001001001');
    // A spike: the ring runs out along one line and back.
    const spike = ring([0, 0], [2, 0], [3, 0], [2, 0], [2, 2], [0, 2]);
    expect(kinds([feat('120106001001002', spike)])).toContain('self_intersection:120106001001002');
    // A hole that crosses its outer ring.
    const outer = ring([0, 0], [4, 0], [4, 4], [0, 4]);
    const crossing = ring([3, 1], [5, 1], [5, 2], [3, 2]);
    const k = kinds([feat('120106001001003', outer, crossing)]);
    expect(k).toContain('self_intersection:120106001001003');
  });

  it('allows a hole touching its outer ring at one point', () => {
    const outer = ring([0, 0], [4, 0], [4, 4], [0, 4]);
    const hole = ring([0, 2], [2, 3], [2, 1]);
    expect(kinds([feat('120106001001001', outer, hole)])).toEqual([]);
  });

  it('finds identical geometries and a grid inside another as overlaps', () => {
    const sq = ring([0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001]);
    expect(kinds([feat('120106001001001', sq), feat('120106001001002', sq)])).toEqual([
      'overlap:120106001001001,120106001001002',
    ]);
    const small = ring([0.0002, 0.0002], [0.0004, 0.0002], [0.0004, 0.0004], [0.0002, 0.0004]);
    expect(kinds([feat('120106001001001', sq), feat('120106001001002', small)])).toEqual([
      'overlap:120106001001001,120106001001002',
    ]);
    // A chord: a triangle on the square's diagonal, with its third corner outside.
    const tri = ring([0, 0], [0.001, 0.001], [-0.001, 0.002]);
    expect(kinds([feat('120106001001001', sq), feat('120106001001002', tri)])).toEqual([
      'overlap:120106001001001,120106001001002',
    ]);
  });

  it('does not call neighbours sharing an edge an overlap', () => {
    const a = ring([0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001]);
    const b = ring([0.001, 0], [0.002, 0], [0.002, 0.001], [0.001, 0.001]);
    expect(kinds([feat('120106001001001', a), feat('120106001001002', b)])).toEqual([]);
  });
});

describe('parts of one MultiPolygon', () => {
  const multi = (code: string, ...parts: Position[][][]): TopologyFeature => ({
    type: 'Feature',
    properties: { code },
    geometry: { type: 'MultiPolygon', coordinates: parts },
  });
  const sq = (x: number, y: number, s: number) => [ring([x, y], [x + s, y], [x + s, y + s], [x, y + s])];
  // ~1 km squares near Tianjin, in degrees.
  const d = 0.01;

  it('reports overlapping parts as parts_overlap with the area and place, not as a crossing', () => {
    const r = validateTopology([multi('120106001001003', sq(117, 39, d), sq(117 + d * 0.7, 39, d))]);
    expect(r.problems.map((p) => p.kind)).toEqual(['parts_overlap']);
    const p = r.problems[0];
    expect(p.codes).toEqual(['120106001001003']);
    expect(p.areaM2!).toBeGreaterThan(0.3 * 0.01 * 111195 * 0.01 * 111195 * Math.cos((39 * Math.PI) / 180) * 0.95);
    expect(p.location[0]).toBeGreaterThan(117 + d * 0.7);
    expect(p.location[0]).toBeLessThan(117 + d);
    expect(p.message).toMatch(/parts 1 and 2 of its MultiPolygon overlap by \d+ m² near 117\.00\d+, 39\.00\d+/);
  });

  it('finds a part wholly inside another (no crossing at all)', () => {
    const r = validateTopology([multi('120106001001003', sq(117, 39, d), sq(117 + d / 4, 39 + d / 4, d / 2))]);
    expect(r.problems.map((p) => p.kind)).toEqual(['parts_overlap']);
  });

  it('accepts parts that touch at a point; parts sharing an edge are one polygon drawn as two', () => {
    expect(kinds([multi('120106001001003', sq(117, 39, d), sq(117 + d, 39 + d, d))])).toEqual([]);
    expect(kinds([multi('120106001001003', sq(117, 39, d), sq(117 + d, 39, d))])).toEqual([
      'self_intersection:120106001001003',
    ]);
  });
});
