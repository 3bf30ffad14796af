import { CATEGORIES } from '../core/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { area as turfArea, centerOfMass } from '@turf/turf';
import fc from 'fast-check';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import Flatbush from 'flatbush';
import { intersection } from 'polyclip-ts';
import type { Feature, Polygon } from 'geojson';
import {
  generateDistrict,
  loadDepartments,
  loadSampleFleet,
  loadSampleGrids,
  loadSampleUsers,
  SAMPLE_DIR,
  sampleFiles,
  type GridFeatureProps,
} from './index.ts';

type GridFeature = Feature<Polygon, GridFeatureProps>;

const grids = loadSampleGrids().features as GridFeature[];
const fleet = loadSampleFleet();
const byLevel = (l: number) => grids.filter((f) => f.properties.level === l);
const district = byLevel(1)[0];
const streets = byLevel(2);
const communities = byLevel(3);
const baseGrids = byLevel(4);
const ringOf = (f: GridFeature) => f.geometry.coordinates[0];

function signedArea(ring: number[][]): number {
  let s = 0;
  for (let k = 0; k + 1 < ring.length; k++) s += ring[k][0] * ring[k + 1][1] - ring[k + 1][0] * ring[k][1];
  return s / 2;
}

function orient(a: number[], b: number[], c: number[]): number {
  return Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
}

function onSegment(a: number[], b: number[], p: number[]): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] &&
    p[1] <= Math.max(a[1], b[1])
  );
}

/** Whether segments ab and cd share any point (touching counts). */
function segmentsMeet(a: number[], b: number[], c: number[], d: number[]): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a, b, c)) ||
    (o2 === 0 && onSegment(a, b, d)) ||
    (o3 === 0 && onSegment(c, d, a)) ||
    (o4 === 0 && onSegment(c, d, b))
  );
}

/** A closed ring is simple when no vertex repeats and only consecutive edges meet (at their shared vertex). */
function isSimpleRing(ring: number[][]): boolean {
  const n = ring.length - 1;
  const seen = new Set(ring.slice(0, n).map((p) => p.join(',')));
  if (seen.size !== n) return false;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // the closing edge is adjacent to the first
      if (segmentsMeet(ring[i], ring[i + 1], ring[j], ring[j + 1])) return false;
    }
  }
  return true;
}

function directedEdges(ring: number[][]): string[] {
  const out: string[] = [];
  for (let k = 0; k + 1 < ring.length; k++) out.push(`${ring[k].join(',')}>${ring[k + 1].join(',')}`);
  return out;
}

/**
 * Exact planar partition: the children's directed edges, with every edge that appears in both directions
 * (a shared border) removed, are exactly the parent's directed edges. Any gap, overlap or T-junction (a
 * vertex on one side of a border but not the other) breaks the equality.
 */
function outerEdgesOfChildren(children: GridFeature[]): string[] {
  const count = new Map<string, number>();
  for (const c of children) for (const e of directedEdges(ringOf(c))) count.set(e, (count.get(e) ?? 0) + 1);
  const out: string[] = [];
  for (const [e, n] of count) {
    expect(n).toBe(1);
    const [a, b] = e.split('>');
    if (!count.has(`${b}>${a}`)) out.push(e);
  }
  return out.sort();
}

function bbox(ring: number[][]): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of ring) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [x0, y0, x1, y1];
}

describe('sample district files', () => {
  it('regenerate byte for byte from the seed', () => {
    const files = sampleFiles(generateDistrict());
    for (const [name, text] of Object.entries(files)) {
      expect(readFileSync(join(SAMPLE_DIR, name), 'utf8'), name).toBe(text);
    }
  });

  it('has 1 district, 10 streets, 123 communities and 992 base grids, all marked as sample data', () => {
    expect(byLevel(1)).toHaveLength(1);
    expect(streets).toHaveLength(10);
    expect(communities).toHaveLength(123);
    expect(baseGrids).toHaveLength(992);
    const kinds = { 1: 'district', 2: 'street', 3: 'community', 4: 'grid' } as const;
    for (const f of grids) {
      expect(Object.keys(f.properties)).toEqual(['code', 'level', 'name', 'parent', 'kind', 'households', 'sample']);
      expect(f.properties.sample).toBe(true);
      expect(f.properties.kind).toBe(kinds[f.properties.level]);
      expect(f.geometry.type).toBe('Polygon');
      expect(f.geometry.coordinates).toHaveLength(1);
    }
    expect(district.properties.name).toContain('样例');
  });

  it('codes follow 6+3+3+3 digits, prefixed by the parent, unique, numbered 001.. within each parent', () => {
    const codes = new Set(grids.map((f) => f.properties.code));
    expect(codes.size).toBe(grids.length);
    expect(district.properties.code).toBe('120106');
    expect(district.properties.parent).toBeNull();
    const digits = { 2: 9, 3: 12, 4: 15 } as const;
    const seqs = new Map<string, number[]>();
    for (const f of [...streets, ...communities, ...baseGrids]) {
      const { code, parent, level } = f.properties;
      expect(code).toMatch(new RegExp(`^\\d{${digits[level as 2 | 3 | 4]}}$`));
      expect(parent).not.toBeNull();
      expect(codes.has(parent!)).toBe(true);
      expect(code.slice(0, -3)).toBe(parent);
      seqs.set(parent!, [...(seqs.get(parent!) ?? []), Number(code.slice(-3))]);
    }
    for (const s of seqs.values()) expect(s).toEqual(s.map((_, k) => k + 1));
    for (const f of streets) expect(f.properties.name).toMatch(/街道$/);
    for (const f of communities) expect(f.properties.name).toMatch(/社区$/);
    for (const f of baseGrids) expect(f.properties.name).toMatch(/社区第\d+网格$/);
    expect(new Set(communities.map((f) => f.properties.name)).size).toBe(123);
  });

  it('households: a few hundred per base grid, summed upwards', () => {
    for (const g of baseGrids) {
      expect(g.properties.households).toBeGreaterThanOrEqual(100);
      expect(g.properties.households).toBeLessThan(1000);
    }
    for (const p of [district, ...streets, ...communities]) {
      const sum = grids
        .filter((f) => f.properties.parent === p.properties.code)
        .reduce((s, f) => s + f.properties.households, 0);
      expect(p.properties.households).toBe(sum);
    }
  });

  it('every base grid is closed, simple, counter-clockwise, with 20–80 vertices', () => {
    for (const g of baseGrids) {
      const ring = ringOf(g);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(ring.length - 1).toBeGreaterThanOrEqual(20);
      expect(ring.length - 1).toBeLessThanOrEqual(80);
      expect(signedArea(ring)).toBeGreaterThan(0);
      expect(isSimpleRing(ring), g.properties.code).toBe(true);
    }
  });

  it('districts, streets and communities are closed, simple and counter-clockwise too', () => {
    for (const f of [district, ...streets, ...communities]) {
      const ring = ringOf(f);
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(signedArea(ring)).toBeGreaterThan(0);
      expect(isSimpleRing(ring), f.properties.code).toBe(true);
    }
  });

  it('coordinates have at most 7 decimals and lie around 117.15 E, 39.17 N', () => {
    const bad: string[] = [];
    for (const f of grids) {
      for (const [x, y] of ringOf(f)) {
        const sevenDecimals =
          Math.abs(x * 1e7 - Math.round(x * 1e7)) < 1e-4 && Math.abs(y * 1e7 - Math.round(y * 1e7)) < 1e-4;
        if (!sevenDecimals || Math.abs(x - 117.15) > 0.06 || Math.abs(y - 39.17) > 0.05)
          bad.push(`${f.properties.code} ${x},${y}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('each level is an exact partition of its parent: shared borders, no gaps, no T-junctions', () => {
    for (const parent of [district, ...streets, ...communities]) {
      const children = grids.filter((f) => f.properties.parent === parent.properties.code);
      expect(outerEdgesOfChildren(children)).toEqual(directedEdges(ringOf(parent)).sort());
    }
  });

  it('children lie inside their parents', () => {
    const byCode = new Map(grids.map((f) => [f.properties.code, f]));
    for (const child of [...streets, ...communities, ...baseGrids]) {
      const parent = byCode.get(child.properties.parent!)!;
      // Every vertex of the child is inside or on its parent, and so is an interior point of the child.
      const ring = ringOf(child);
      const outside = ring.filter((p) => !booleanPointInPolygon(p, parent.geometry));
      expect(outside, child.properties.code).toEqual([]);
      // A midpoint of a chord from vertex 0 that lies strictly inside the child.
      const inner = ring
        .slice(2, -2)
        .map((p) => [(ring[0][0] + p[0]) / 2, (ring[0][1] + p[1]) / 2])
        .find((m) => booleanPointInPolygon(m, child.geometry, { ignoreBoundary: true }))!;
      expect(inner).toBeDefined();
      expect(booleanPointInPolygon(inner, parent.geometry, { ignoreBoundary: true })).toBe(true);
    }
  });

  it('areas add up: about 21 km², base grids sum to the district within 1e-9', () => {
    const districtArea = turfArea(district);
    expect(districtArea / 1e6).toBeGreaterThan(18);
    expect(districtArea / 1e6).toBeLessThan(24);
    for (const level of [streets, communities, baseGrids]) {
      const sum = level.reduce((s, f) => s + turfArea(f), 0);
      expect(Math.abs(sum - districtArea) / districtArea).toBeLessThan(1e-9);
    }
    for (const g of baseGrids) expect(turfArea(g)).toBeGreaterThan(3000); // no slivers
  });

  it('no two sibling base grids overlap', () => {
    const index = new Flatbush(baseGrids.length);
    for (const g of baseGrids) index.add(...bbox(ringOf(g)));
    index.finish();
    let pairs = 0;
    baseGrids.forEach((g, k) => {
      for (const m of index.search(...bbox(ringOf(g)))) {
        if (m <= k || baseGrids[m].properties.parent !== g.properties.parent) continue;
        pairs++;
        const shared = intersection(g.geometry.coordinates as never, baseGrids[m].geometry.coordinates as never);
        const overlap = shared.reduce((s, poly) => s + turfArea({ type: 'Polygon', coordinates: poly }), 0);
        expect(overlap, `${g.properties.code} ∩ ${baseGrids[m].properties.code}`).toBeLessThan(1e-3);
      }
    });
    expect(pairs).toBeGreaterThan(1000);
  }, 60_000);
});

describe('sample fleet', () => {
  it('has the device counts of the brief, with readable unique ids', () => {
    const count = (pred: (d: (typeof fleet)[number]) => boolean) => fleet.filter(pred).length;
    expect(count((d) => d.kind === 'camera' && d.source === 'eagle-eye')).toBe(60);
    expect(count((d) => d.kind === 'camera' && d.source === 'skynet')).toBe(400);
    expect(count((d) => d.kind === 'smoke') + count((d) => d.kind === 'heat')).toBe(2000);
    expect(count((d) => d.kind === 'gateway')).toBe(40);
    expect(
      count((d) => d.kind === 'water_level') + count((d) => d.kind === 'gas') + count((d) => d.kind === 'manhole'),
    ).toBe(300);
    expect(new Set(fleet.map((d) => d.id)).size).toBe(fleet.length);
    for (const d of fleet) {
      expect(d.id).toMatch(/^(cam-e|cam-s|smk|heat|gw|wl|gas|mh)-\d{4}$/);
      expect(d.intervalS).toBeGreaterThan(0);
      if (d.kind === 'camera') expect(d.rtsp).toBe(`rtsp://127.0.0.1:8554/${d.id}`);
      else expect(d.rtsp).toBeUndefined();
    }
  });

  it('detectors report through a gateway of their own smart-fire community', () => {
    const gateways = new Map(fleet.filter((d) => d.kind === 'gateway').map((d) => [d.id, d]));
    const perGateway = new Map<string, number>();
    for (const d of fleet.filter((x) => x.kind === 'smoke' || x.kind === 'heat')) {
      const gw = gateways.get(d.gateway!);
      expect(gw).toBeDefined();
      expect(d.grid.slice(0, 12)).toBe(gw!.grid.slice(0, 12));
      perGateway.set(gw!.id, (perGateway.get(gw!.id) ?? 0) + 1);
    }
    expect(perGateway.size).toBe(40);
    expect(new Set([...gateways.values()].map((g) => g.grid.slice(0, 12))).size).toBe(40);
  });

  it("every device's grid is the base grid a point-in-polygon lookup finds", () => {
    const index = new Flatbush(baseGrids.length);
    for (const g of baseGrids) index.add(...bbox(ringOf(g)));
    index.finish();
    for (const d of fleet) {
      const [x, y] = d.location;
      const hits = index.search(x, y, x, y).filter((k) => booleanPointInPolygon(d.location, baseGrids[k].geometry));
      expect(
        hits.map((k) => baseGrids[k].properties.code),
        d.id,
      ).toEqual([d.grid]);
    }
  });
});

describe('departments and users', () => {
  it('departments own known categories, each category exactly once', () => {
    const deps = loadDepartments();
    expect(deps.map((d) => d.id)).toEqual(
      expect.arrayContaining(['fire', 'urban_management', 'police', 'public_works', 'environment', 'housing']),
    );
    const owned = deps.flatMap((d) => d.categories).sort();
    expect(owned).toEqual(
      CATEGORIES.filter((c) => c.parent === null)
        .map((c) => c.id)
        .sort(),
    );
  });

  it('users cover every role, scoped to existing grids and departments, without passwords', () => {
    const users = loadSampleUsers();
    const codes = new Set(grids.map((f) => f.properties.code));
    const deps = new Set(loadDepartments().map((d) => d.id));
    expect(new Set(users.map((u) => u.role))).toEqual(
      new Set(['analyst', 'commander', 'dispatcher', 'department', 'gridworker', 'viewer']),
    );
    expect(new Set(users.filter((u) => u.role === 'commander').map((u) => u.level))).toEqual(
      new Set(['district', 'street', 'community']),
    );
    expect(new Set(users.map((u) => u.username)).size).toBe(users.length);
    for (const u of users) {
      expect(JSON.stringify(u)).not.toMatch(/password|secret/i);
      if (u.scope.grid !== null) expect(codes.has(u.scope.grid)).toBe(true);
      if (u.scope.department !== null) expect(deps.has(u.scope.department)).toBe(true);
      if (u.role === 'department') expect(u.scope.department).not.toBeNull();
      if (u.role === 'gridworker') expect(u.scope.grid).toMatch(/^\d{15}$/);
    }
    for (const d of deps) expect(users.some((u) => u.role === 'department' && u.scope.department === d)).toBe(true);
  });
});

describe('code order', () => {
  it('numbers siblings north→south: the first sibling lies north of the last', () => {
    const lat = (f: GridFeature) => centerOfMass(f).geometry.coordinates[1];
    const parents = new Map<string, GridFeature[]>();
    for (const f of [...streets, ...communities, ...baseGrids]) {
      parents.set(f.properties.parent!, [...(parents.get(f.properties.parent!) ?? []), f]);
    }
    for (const sibs of parents.values()) {
      if (sibs.length < 3) continue;
      expect(lat(sibs[0])).toBeGreaterThan(lat(sibs[sibs.length - 1]));
    }
  });
});

describe('generator on other seeds', () => {
  it('always yields an exact, simple, correctly counted partition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        const fs = generateDistrict({ seed }).grids.features as GridFeature[];
        const lv = (l: number) => fs.filter((f) => f.properties.level === l);
        expect([lv(1).length, lv(2).length, lv(3).length, lv(4).length]).toEqual([1, 10, 123, 992]);
        for (const g of lv(4)) {
          const ring = ringOf(g);
          expect(ring.length - 1).toBeGreaterThanOrEqual(20);
          expect(ring.length - 1).toBeLessThanOrEqual(80);
          expect(signedArea(ring)).toBeGreaterThan(0);
          expect(isSimpleRing(ring)).toBe(true);
        }
        for (const parent of [...lv(1), ...lv(2), ...lv(3)]) {
          const children = fs.filter((f) => f.properties.parent === parent.properties.code);
          expect(outerEdgesOfChildren(children)).toEqual(directedEdges(ringOf(parent)).sort());
        }
      }),
      { numRuns: 2 },
    );
  }, 60_000);
});

describe('dense set for benchmarks', () => {
  it('density 10 keeps 10 streets and 123 communities with 9,920 base grids and the same area', () => {
    const dense = generateDistrict({ density: 10 });
    const fs = dense.grids.features;
    const n = (l: number) => fs.filter((f) => f.properties.level === l).length;
    expect([n(1), n(2), n(3), n(4)]).toEqual([1, 10, 123, 9920]);
    expect(new Set(fs.map((f) => f.properties.code)).size).toBe(fs.length);
    const a = turfArea(fs[0]) / 1e6;
    expect(a).toBeGreaterThan(18);
    expect(a).toBeLessThan(24);
    expect(dense.fleet).toHaveLength(fleet.length);
    for (const f of fs.filter((x) => x.properties.level === 4)) {
      const ring = f.geometry.coordinates[0] as number[][];
      expect(ring.length - 1).toBeGreaterThanOrEqual(20);
      expect(ring.length - 1).toBeLessThanOrEqual(80);
      expect(signedArea(ring)).toBeGreaterThan(0);
    }
  }, 60_000);
});
