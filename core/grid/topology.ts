/**
 * Topology validation of a grid set (a draft version, or an import) before it is published:
 *
 * | kind                | what                                                                          |
 * |---------------------|-------------------------------------------------------------------------------|
 * | `bad_geometry`      | not a Polygon/MultiPolygon, a ring of fewer than 4 positions, a non-finite coordinate |
 * | `ring_not_closed`   | a ring whose last position differs from its first                              |
 * | `self_intersection` | a ring crosses or touches itself, or two rings of one grid cross               |
 * | `hole_outside`      | a hole not inside its outer ring                                               |
 * | `parts_overlap`     | two parts (polygons) of one MultiPolygon overlap by more than `tolerance` m²    |
 * | `duplicate_code`    | two features with one code                                                     |
 * | `bad_code`          | a code that is not valid in the profile, or a `level` property that disagrees with it |
 * | `parent_mismatch`   | a `parent` property that is not the code's prefix                              |
 * | `missing_parent`    | the set has features of the parent level but not this feature's parent         |
 * | `overlap`           | two features of one level overlap by more than `tolerance` m²                  |
 * | `outside_parent`    | a child reaches outside its parent by more than `tolerance` m²                 |
 * | `gap`               | part of a parent (more than `tolerance` m²) covered by none of its children    |
 *
 * Each problem names the codes involved and a location [lng, lat] to show on a map. Areas are
 * computed on a local equirectangular projection (metres), fine at grid scale.
 *
 * Cost: the area checks run polyclip-ts (exact boolean operations, but ~0.5 ms a pair) only where a
 * cheap exact pre-test says the pair may be wrong: for two neighbours, some edge crossing properly, or
 * a vertex or edge midpoint of one strictly inside the other, or one's boundary lying wholly on the
 * other's; for a child, some vertex or edge midpoint strictly outside its parent, or a crossing; for a
 * parent, the children's areas not adding up to the parent's. A valid 992-grid set never reaches
 * polyclip except for nothing; a broken one reaches it only at the defects.
 */
import Flatbush from 'flatbush';
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { difference, intersection } from 'polyclip-ts';
import { type CodeProfile, DEFAULT_PROFILE, levelOf } from './codes.ts';
import { orient } from './orient.ts';

export type TopologyProblemKind =
  | 'bad_geometry'
  | 'ring_not_closed'
  | 'self_intersection'
  | 'hole_outside'
  | 'parts_overlap'
  | 'duplicate_code'
  | 'bad_code'
  | 'parent_mismatch'
  | 'missing_parent'
  | 'overlap'
  | 'outside_parent'
  | 'gap';

/** The order problems are reported in (then by first code): what breaks a grid on its own first. */
export const PROBLEM_ORDER: readonly TopologyProblemKind[] = [
  'bad_geometry',
  'ring_not_closed',
  'self_intersection',
  'hole_outside',
  'parts_overlap',
  'duplicate_code',
  'bad_code',
  'parent_mismatch',
  'missing_parent',
  'overlap',
  'outside_parent',
  'gap',
];

export interface TopologyProblem {
  kind: TopologyProblemKind;
  codes: string[];
  /** [lng, lat] of the defect. */
  location: [number, number];
  message: string;
  /** Area of the defect in m², for the area kinds. */
  areaM2?: number;
}

export interface TopologyReport {
  ok: boolean;
  problems: TopologyProblem[];
  /** Features checked, by level (1..4; 0 for an unreadable code). */
  counts: Record<number, number>;
}

export interface TopologyFeature {
  type?: 'Feature';
  properties: { code?: unknown; level?: unknown; parent?: unknown; [k: string]: unknown } | null;
  geometry: Polygon | MultiPolygon | { type: string } | null;
}

export interface TopologyOptions {
  /** Overlaps, overhangs and gaps up to this many square metres are tolerated (default 1 m²). */
  tolerance?: number;
  profile?: CodeProfile;
  /** Most problems of one kind reported per feature (default 5); the rest are counted in the message. */
  maxPerFeature?: number;
  /**
   * Latitude (degrees) of the equirectangular projection used for areas; default
   * {@link projectionLatitude} of the features. The studio pins it per draft so that a report made on
   * part of a set (core/grid/studio.ts revalidate) has the same areas as one made on all of it.
   */
  latitude?: number;
}

/** The default projection latitude: the mean latitude of the features' first positions (0 when none). */
export function projectionLatitude(features: readonly TopologyFeature[]): number {
  let latSum = 0,
    latN = 0;
  for (const f of features) {
    const [, lat] = firstPosition(f?.geometry);
    if (lat !== 0 && Math.abs(lat) < 90) {
      latSum += lat;
      latN++;
    }
  }
  return latN ? latSum / latN : 0;
}

type Rings = Position[][];
type Polys = Rings[];

interface Prepared {
  i: number;
  code: string;
  level: number;
  parent: string | null;
  polys: Polys; // rings closed
  bbox: [number, number, number, number];
  area: number; // m²
  usable: boolean;
}

const R = 6371008.8;
const RAD = Math.PI / 180;

/**
 * Metres per degree of the projection used for areas. One projection for the whole set, so that a
 * parent's area and the sum of its children's are comparable to the square metre.
 */
let KX = R * RAD,
  KY = R * RAD;

/** Shoelace area of rings (outer minus holes) in m². */
function areaM2(polys: Polys): number {
  let a = 0;
  const kx = KX,
    ky = KY;
  for (const rings of polys) {
    for (let r = 0; r < rings.length; r++) {
      const ring = rings[r];
      if (ring.length < 3) continue;
      const x0 = ring[0][0],
        y0 = ring[0][1];
      let s = 0;
      for (let i = 0; i + 1 < ring.length; i++) {
        s += (ring[i][0] - x0) * (ring[i + 1][1] - y0) - (ring[i + 1][0] - x0) * (ring[i][1] - y0);
      }
      a += (r === 0 ? 1 : -1) * Math.abs(s / 2) * kx * ky;
    }
  }
  return a;
}

/** Centroid of the largest piece (by area) of a polyclip result; null when empty. */
function largestPiece(mp: Polys): { area: number; total: number; at: [number, number] } | null {
  let best: Rings | null = null,
    bestArea = 0,
    total = 0;
  for (const poly of mp) {
    const a = areaM2([poly]);
    total += a;
    if (a > bestArea) {
      bestArea = a;
      best = poly;
    }
  }
  if (!best) return null;
  return { area: bestArea, total, at: interiorPoint(best) };
}

/** A point for a polygon piece: its centroid when inside it, else the middle of a chord at the centroid's latitude. */
function interiorPoint(rings: Rings): [number, number] {
  const ring = rings[0];
  let a = 0,
    cx = 0,
    cy = 0;
  const x0 = ring[0][0],
    y0 = ring[0][1];
  for (let i = 0; i + 1 < ring.length; i++) {
    const u1 = ring[i][0] - x0,
      v1 = ring[i][1] - y0,
      u2 = ring[i + 1][0] - x0,
      v2 = ring[i + 1][1] - y0;
    const c = u1 * v2 - u2 * v1;
    a += c;
    cx += (u1 + u2) * c;
    cy += (v1 + v2) * c;
  }
  if (a === 0) return [ring[0][0], ring[0][1]];
  const px = x0 + cx / (3 * a),
    py = y0 + cy / (3 * a);
  if (locate(px, py, [rings]) > 0) return [px, py];
  // Crossings of the horizontal line y = py; the middle of the first inside stretch.
  const xs: number[] = [];
  for (const r of rings) {
    for (let i = 0; i + 1 < r.length; i++) {
      const [ax, ay] = r[i],
        [bx, by] = r[i + 1];
      if (ay <= py !== by <= py) xs.push(ax + ((py - ay) * (bx - ax)) / (by - ay));
    }
  }
  xs.sort((p, q) => p - q);
  return xs.length >= 2 ? [(xs[0] + xs[1]) / 2, py] : [px, py];
}

function onSegment(ax: number, ay: number, bx: number, by: number, px: number, py: number): boolean {
  return (
    px >= Math.min(ax, bx) &&
    px <= Math.max(ax, bx) &&
    py >= Math.min(ay, by) &&
    py <= Math.max(ay, by) &&
    orient(ax, ay, bx, by, px, py) === 0
  );
}

/**
 * Edges of one feature bucketed into horizontal bands, for point location in large polygons
 * (a street or a district has thousands of vertices).
 */
class EdgeBands {
  private readonly E: Float64Array;
  private readonly start: Int32Array;
  private readonly idx: Int32Array;
  private readonly y0: number;
  private readonly y1: number;
  private readonly invH: number;
  private readonly k: number;
  constructor(polys: Polys) {
    const list: number[] = [];
    let y0 = Infinity,
      y1 = -Infinity;
    for (const rings of polys)
      for (const ring of rings) {
        for (let i = 0; i + 1 < ring.length; i++) {
          list.push(ring[i][0], ring[i][1], ring[i + 1][0], ring[i + 1][1]);
          y0 = Math.min(y0, ring[i][1]);
          y1 = Math.max(y1, ring[i][1]);
        }
      }
    this.E = Float64Array.from(list);
    const n = list.length / 4;
    const k = (this.k = Math.max(1, Math.ceil(n / 3)));
    this.y0 = y0;
    this.y1 = y1;
    this.invH = y1 > y0 ? k / (y1 - y0) : 0;
    const band = (y: number) => Math.min(k - 1, Math.max(0, Math.floor((y - y0) * this.invH)));
    const count = new Int32Array(k + 1);
    const E = this.E;
    for (let e = 0; e < n; e++) {
      const a = band(Math.min(E[e * 4 + 1], E[e * 4 + 3])),
        b = band(Math.max(E[e * 4 + 1], E[e * 4 + 3]));
      for (let j = a; j <= b; j++) count[j + 1]++;
    }
    for (let j = 0; j < k; j++) count[j + 1] += count[j];
    const fill = count.slice(0, k);
    this.idx = new Int32Array(count[k]);
    for (let e = 0; e < n; e++) {
      const a = band(Math.min(E[e * 4 + 1], E[e * 4 + 3])),
        b = band(Math.max(E[e * 4 + 1], E[e * 4 + 3]));
      for (let j = a; j <= b; j++) this.idx[fill[j]++] = e * 4;
    }
    this.start = count;
  }
  /** 1 strictly inside, 0 on the boundary, -1 outside (even-odd over all rings). */
  locate(px: number, py: number): number {
    if (!(py >= this.y0 && py <= this.y1)) return -1;
    const j = Math.min(this.k - 1, Math.max(0, Math.floor((py - this.y0) * this.invH)));
    const E = this.E;
    let inside = false;
    for (let q = this.start[j]; q < this.start[j + 1]; q++) {
      const e = this.idx[q];
      const ax = E[e],
        ay = E[e + 1],
        bx = E[e + 2],
        by = E[e + 3];
      if (onSegment(ax, ay, bx, by, px, py)) return 0;
      if (ay > py !== by > py) {
        const o = orient(ax, ay, bx, by, px, py);
        if (by > ay ? o > 0 : o < 0) inside = !inside;
      }
    }
    return inside ? 1 : -1;
  }
}

const bandsCache = new WeakMap<Polys, EdgeBands>();
function bandsOf(polys: Polys): EdgeBands {
  let b = bandsCache.get(polys);
  if (!b) bandsCache.set(polys, (b = new EdgeBands(polys)));
  return b;
}

/** 1 strictly inside, 0 on the boundary, -1 outside (even-odd over all rings). */
function locate(px: number, py: number, polys: Polys): number {
  let n = 0;
  for (const rings of polys) for (const ring of rings) n += ring.length;
  if (n > 64) return bandsOf(polys).locate(px, py);
  let inside = false;
  for (const rings of polys) {
    for (const ring of rings) {
      for (let i = 0; i + 1 < ring.length; i++) {
        const ax = ring[i][0],
          ay = ring[i][1],
          bx = ring[i + 1][0],
          by = ring[i + 1][1];
        if (onSegment(ax, ay, bx, by, px, py)) return 0;
        if (ay > py !== by > py) {
          const o = orient(ax, ay, bx, by, px, py);
          if (by > ay ? o > 0 : o < 0) inside = !inside;
        }
      }
    }
  }
  return inside ? 1 : -1;
}

interface Seg {
  ax: number;
  ay: number;
  bx: number;
  by: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  ring: number; // ring id inside the feature
  part: number; // polygon (part) index inside the feature
  idx: number; // edge index in its ring
  n: number; // edges in its ring
}

function segmentsOf(polys: Polys): Seg[] {
  const segs: Seg[] = [];
  let ringId = 0;
  for (let part = 0; part < polys.length; part++) {
    for (const ring of polys[part]) {
      const n = ring.length - 1;
      for (let i = 0; i < n; i++) {
        const ax = ring[i][0],
          ay = ring[i][1],
          bx = ring[i + 1][0],
          by = ring[i + 1][1];
        segs.push({
          ax,
          ay,
          bx,
          by,
          minX: Math.min(ax, bx),
          maxX: Math.max(ax, bx),
          minY: Math.min(ay, by),
          maxY: Math.max(ay, by),
          ring: ringId,
          part,
          idx: i,
          n,
        });
      }
      ringId++;
    }
  }
  return segs;
}

/**
 * How two segments meet: null (not at all), 'proper' (cross at one interior point of both),
 * 'touch' (meet at a point that is an endpoint of one), 'overlap' (collinear, sharing more than a point).
 */
function meet(s: Seg, t: Seg): { how: 'proper' | 'touch' | 'overlap'; at: [number, number] } | null {
  const o1 = orient(s.ax, s.ay, s.bx, s.by, t.ax, t.ay);
  const o2 = orient(s.ax, s.ay, s.bx, s.by, t.bx, t.by);
  if ((o1 > 0 && o2 > 0) || (o1 < 0 && o2 < 0)) return null;
  const o3 = orient(t.ax, t.ay, t.bx, t.by, s.ax, s.ay);
  const o4 = orient(t.ax, t.ay, t.bx, t.by, s.bx, s.by);
  if ((o3 > 0 && o4 > 0) || (o3 < 0 && o4 < 0)) return null;
  if (o1 === 0 && o2 === 0) {
    // Collinear: compare projections on the longer axis.
    const useX = s.maxX - s.minX >= s.maxY - s.minY;
    const s0 = useX ? s.minX : s.minY,
      s1 = useX ? s.maxX : s.maxY;
    const t0 = useX ? t.minX : t.minY,
      t1 = useX ? t.maxX : t.maxY;
    const lo = Math.max(s0, t0),
      hi = Math.min(s1, t1);
    if (lo > hi) return null;
    const at: [number, number] = onSegment(s.ax, s.ay, s.bx, s.by, t.ax, t.ay) ? [t.ax, t.ay] : [s.ax, s.ay];
    return { how: lo < hi ? 'overlap' : 'touch', at };
  }
  if (o1 !== 0 && o2 !== 0 && o3 !== 0 && o4 !== 0) {
    const d = (s.bx - s.ax) * (t.by - t.ay) - (s.by - s.ay) * (t.bx - t.ax);
    const u = ((t.ax - s.ax) * (t.by - t.ay) - (t.ay - s.ay) * (t.bx - t.ax)) / d;
    return { how: 'proper', at: [s.ax + u * (s.bx - s.ax), s.ay + u * (s.by - s.ay)] };
  }
  const at: [number, number] =
    o1 === 0 ? [t.ax, t.ay] : o2 === 0 ? [t.bx, t.by] : o3 === 0 ? [s.ax, s.ay] : [s.bx, s.by];
  return { how: 'touch', at };
}

/** Pairs of segments (from `a` and `b`, or within `a` when b is null) whose bboxes meet, by a sweep over x. */
function sweepPairs(a: Seg[], b: Seg[] | null, fn: (s: Seg, t: Seg) => boolean | void): void {
  type Tagged = { s: Seg; side: number };
  const all: Tagged[] = a.map((s) => ({ s, side: 0 }));
  if (b) for (const s of b) all.push({ s, side: 1 });
  all.sort((p, q) => p.s.minX - q.s.minX);
  for (let i = 0; i < all.length; i++) {
    const p = all[i];
    for (let j = i + 1; j < all.length && all[j].s.minX <= p.s.maxX; j++) {
      const q = all[j];
      if (b && p.side === q.side) continue;
      if (q.s.minY > p.s.maxY || q.s.maxY < p.s.minY) continue;
      const [s, t] = p.side <= q.side ? [p.s, q.s] : [q.s, p.s];
      if (fn(s, t) === true) return;
    }
  }
}

export function validateTopology(features: readonly TopologyFeature[], options: TopologyOptions = {}): TopologyReport {
  const tol = options.tolerance ?? 1;
  const profile = options.profile ?? DEFAULT_PROFILE;
  const maxPer = options.maxPerFeature ?? 5;
  const problems: TopologyProblem[] = [];
  const counts: Record<number, number> = {};
  const add = (
    kind: TopologyProblemKind,
    codes: string[],
    location: [number, number],
    message: string,
    area?: number,
  ) => {
    const p: TopologyProblem = { kind, codes, location, message };
    if (area !== undefined) p.areaM2 = Math.round(area * 100) / 100;
    problems.push(p);
  };

  // The area projection: equirectangular at the mean latitude of the first positions (or the one given).
  KX = R * RAD * Math.cos((options.latitude ?? projectionLatitude(features)) * RAD);
  KY = R * RAD;

  // 1. Codes and geometry of each feature.
  const prepared: Prepared[] = [];
  const byCode = new Map<string, Prepared>();
  features.forEach((f, i) => {
    const props = f?.properties ?? {};
    const code = typeof props.code === 'string' ? props.code : typeof props.code === 'number' ? String(props.code) : '';
    const name = code || `#${i}`;
    const geom = f?.geometry as Polygon | MultiPolygon | null;
    let polys: Polys = [];
    let usable = true;
    let first: [number, number] = [NaN, NaN];
    if (!geom || (geom.type !== 'Polygon' && geom.type !== 'MultiPolygon') || !Array.isArray(geom.coordinates)) {
      usable = false;
    } else {
      const raw = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
      polys = raw.map((rings) =>
        rings.map((ring) => {
          if (!Array.isArray(ring) || ring.length === 0) return [];
          const fin = ring.every((p) => Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]));
          if (!fin) return [];
          if (Number.isNaN(first[0])) first = [ring[0][0], ring[0][1]];
          const a = ring[0],
            z = ring[ring.length - 1];
          if (a[0] !== z[0] || a[1] !== z[1]) {
            add('ring_not_closed', [name], [a[0], a[1]], `${name}: a ring does not end where it starts`);
            return [...ring.map((p) => [p[0], p[1]]), [a[0], a[1]]];
          }
          return ring.map((p) => [p[0], p[1]]);
        }),
      );
      for (const rings of polys) for (const ring of rings) if (ring.length < 4) usable = false;
      if (polys.length === 0 || polys.some((r) => r.length === 0)) usable = false;
    }
    const loc = (): [number, number] => (Number.isNaN(first[0]) ? firstPosition(geom) : first);
    if (!usable)
      add(
        'bad_geometry',
        [name],
        loc(),
        `${name}: geometry is not a valid Polygon or MultiPolygon (rings need ≥ 4 finite positions)`,
      );

    const level = levelOf(code, profile);
    counts[level] = (counts[level] ?? 0) + 1;
    if (level === 0) add('bad_code', [name], loc(), `${name}: not a ${profile.id} grid code`);
    else if (props.level !== undefined && props.level !== null && Number(props.level) !== level) {
      add('bad_code', [code], loc(), `${code}: level ${String(props.level)} but the code is of level ${level}`);
    }
    const parent = level > 1 ? code.slice(0, profile.lengths[level - 2]) : null;
    if (
      level > 0 &&
      props.parent !== undefined &&
      props.parent !== null &&
      props.parent !== '' &&
      String(props.parent) !== (parent ?? '')
    ) {
      add(
        'parent_mismatch',
        [code, String(props.parent)],
        loc(),
        `${code}: parent ${String(props.parent)} is not its prefix ${parent ?? '(none)'}`,
      );
    }
    let bbox: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const rings of polys)
      for (const p of rings[0] ?? []) {
        bbox = [Math.min(bbox[0], p[0]), Math.min(bbox[1], p[1]), Math.max(bbox[2], p[0]), Math.max(bbox[3], p[1])];
      }
    const prep: Prepared = { i, code: name, level, parent, polys, bbox, area: usable ? areaM2(polys) : 0, usable };
    if (byCode.has(name) && code) {
      add('duplicate_code', [code], loc(), `${code} is used by more than one feature`);
    } else byCode.set(name, prep);
    prepared.push(prep);
  });

  // 2. Simple rings, holes inside.
  const segsOf = new Map<Prepared, Seg[]>();
  for (const f of prepared) {
    if (!f.usable) continue;
    const segs = segmentsOf(f.polys);
    segsOf.set(f, segs);
    let found = 0;
    // Parts of a MultiPolygon that meet: decided by area below (parts_overlap), not reported as crossings.
    const partPairs = new Map<string, [number, number]>();
    sweepPairs(segs, null, (s, t) => {
      if (s.part !== t.part) {
        const m = meet(s, t);
        if (m && m.how !== 'touch') {
          const [a, b] = s.part < t.part ? [s.part, t.part] : [t.part, s.part];
          if (!partPairs.has(`${a},${b}`)) partPairs.set(`${a},${b}`, [a, b]);
        }
        return;
      }
      const sameRing = s.ring === t.ring;
      const adjacent = sameRing && (Math.abs(s.idx - t.idx) === 1 || Math.abs(s.idx - t.idx) === s.n - 1);
      const m = meet(s, t);
      if (!m) return;
      let bad: boolean;
      if (adjacent)
        bad = m.how === 'overlap' || (s.n === 2 && m.how !== 'touch'); // a spike folds back on itself
      else if (sameRing)
        bad = true; // a ring may not touch itself
      else bad = m.how !== 'touch'; // rings of one grid may touch at a point, not cross
      if (!bad) return;
      found++;
      if (found <= maxPer) {
        const what = sameRing
          ? m.how === 'overlap'
            ? 'a ring runs back over itself'
            : 'a ring crosses or touches itself'
          : 'two rings cross';
        add('self_intersection', [f.code], m.at, `${f.code}: ${what} at ${m.at[0].toFixed(7)}, ${m.at[1].toFixed(7)}`);
      }
      return found > maxPer * 4;
    });
    // A part wholly inside another crosses nothing: look for a vertex strictly inside.
    for (let a = 0; a < f.polys.length; a++)
      for (let b = 0; b < f.polys.length; b++) {
        if (a === b || partPairs.has(`${Math.min(a, b)},${Math.max(a, b)}`)) continue;
        if (f.polys[a][0]?.some((p) => locate(p[0], p[1], [f.polys[b]]) > 0))
          partPairs.set(`${Math.min(a, b)},${Math.max(a, b)}`, [Math.min(a, b), Math.max(a, b)]);
      }
    for (const [a, b] of partPairs.values()) {
      let piece: ReturnType<typeof largestPiece> = null;
      try {
        piece = largestPiece(intersection([f.polys[a]] as never, [f.polys[b]] as never) as Polys);
      } catch {
        piece = { area: Infinity, total: Infinity, at: interiorPoint(f.polys[a]) };
      }
      if (piece && piece.total > tol) {
        add(
          'parts_overlap',
          [f.code],
          piece.at,
          `${f.code}: parts ${a + 1} and ${b + 1} of its MultiPolygon overlap by ${fmtArea(piece.total)} near ` +
            `${piece.at[0].toFixed(5)}, ${piece.at[1].toFixed(5)} (make them one polygon, or cut one back)`,
          piece.total,
        );
      } else {
        // Parts that only share an edge stretch: not a valid MultiPolygon either (OGC), but no area.
        add(
          'self_intersection',
          [f.code],
          interiorPoint(f.polys[a]),
          `${f.code}: parts ${a + 1} and ${b + 1} of its MultiPolygon share an edge (make them one polygon)`,
        );
      }
    }
    for (const rings of f.polys) {
      for (let h = 1; h < rings.length; h++) {
        const hole = rings[h];
        const pt = hole.find((p) => locate(p[0], p[1], [[rings[0]]]) !== 0);
        if (pt && locate(pt[0], pt[1], [[rings[0]]]) < 0) {
          add('hole_outside', [f.code], [pt[0], pt[1]], `${f.code}: a hole lies outside its outer ring`);
        }
      }
    }
  }

  // 3. Hierarchy: parents present?
  const levelsPresent = new Set(prepared.map((f) => f.level));
  for (const f of prepared) {
    if (f.level > 1 && levelsPresent.has(f.level - 1) && f.parent && !byCode.has(f.parent)) {
      add(
        'missing_parent',
        [f.code, f.parent],
        interiorOrFirst(f),
        `${f.code}: its parent ${f.parent} is not in the set`,
      );
    }
  }

  // 4. Overlaps between features of one level (bbox neighbours).
  const usable = prepared.filter((f) => f.usable && f.level > 0 && byCode.get(f.code) === f);
  const flagged = new Set<Prepared>(); // features in an area problem, so their parent is checked in full
  for (const level of [1, 2, 3, 4]) {
    const group = usable.filter((f) => f.level === level);
    if (group.length < 2) continue;
    const tree = new Flatbush(group.length);
    for (const f of group) tree.add(f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3]);
    tree.finish();
    group.forEach((a, ia) => {
      for (const ib of tree.search(a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3])) {
        if (ib <= ia) continue;
        const b = group[ib];
        if (!mayOverlap(a, b, segsOf)) continue;
        let piece: ReturnType<typeof largestPiece> = null;
        try {
          piece = largestPiece(intersection(a.polys as never, b.polys as never) as Polys);
        } catch {
          piece = { area: Infinity, total: Infinity, at: interiorOrFirst(a) };
        }
        if (piece && piece.total > tol) {
          flagged.add(a);
          flagged.add(b);
          add(
            'overlap',
            [a.code, b.code],
            piece.at,
            `${a.code} and ${b.code} overlap by ${fmtArea(piece.total)}`,
            piece.total,
          );
        }
      }
    });
  }

  // 5. Children inside their parents; parents covered by their children.
  const children = new Map<Prepared, Prepared[]>();
  for (const f of usable) {
    const p = f.parent ? byCode.get(f.parent) : undefined;
    if (!p || !p.usable) continue;
    if (!children.has(p)) children.set(p, []);
    children.get(p)!.push(f);
    if (!mayReachOutside(f, p, segsOf)) continue;
    let piece: ReturnType<typeof largestPiece> = null;
    try {
      piece = largestPiece(difference(f.polys as never, p.polys as never) as Polys);
    } catch {
      piece = { area: Infinity, total: Infinity, at: interiorOrFirst(f) };
    }
    if (piece && piece.total > tol) {
      flagged.add(f);
      add(
        'outside_parent',
        [f.code, p.code],
        piece.at,
        `${f.code} reaches outside its parent ${p.code} by ${fmtArea(piece.total)}`,
        piece.total,
      );
    }
  }
  for (const [p, kids] of children) {
    const sum = kids.reduce((s, k) => s + k.area, 0);
    if (p.area - sum <= tol && !kids.some((k) => flagged.has(k))) continue;
    let rest: Polys = [];
    try {
      rest = difference(p.polys as never, ...(kids.map((k) => k.polys) as never[])) as Polys;
    } catch {
      add(
        'gap',
        [p.code],
        interiorOrFirst(p),
        `${p.code}: its children do not add up to it (${fmtArea(p.area - sum)} missing); the gap could not be located`,
        p.area - sum,
      );
      continue;
    }
    for (const poly of rest) {
      const a = areaM2([poly]);
      if (a <= tol) continue;
      add('gap', [p.code], interiorPoint(poly), `${p.code}: ${fmtArea(a)} not covered by any of its children`, a);
    }
  }

  problems.sort(
    (a, b) =>
      PROBLEM_ORDER.indexOf(a.kind) - PROBLEM_ORDER.indexOf(b.kind) ||
      (a.codes[0] ?? '').localeCompare(b.codes[0] ?? ''),
  );
  return { ok: problems.length === 0, problems, counts };
}

/** The first finite [x, y] pair anywhere in a geometry, for locating a broken one; [0, 0] when none. */
function firstPosition(g: unknown): [number, number] {
  const walk = (v: unknown): [number, number] | null => {
    if (!Array.isArray(v)) return null;
    if (v.length >= 2 && Number.isFinite(v[0]) && Number.isFinite(v[1])) return [v[0] as number, v[1] as number];
    for (const w of v) {
      const r = walk(w);
      if (r) return r;
    }
    return null;
  };
  return walk((g as { coordinates?: unknown } | null)?.coordinates) ?? [0, 0];
}

function fmtArea(m2: number): string {
  return Number.isFinite(m2) ? `${m2 < 10 ? m2.toFixed(2) : Math.round(m2)} m²` : 'an unknown area';
}

function interiorOrFirst(f: Prepared): [number, number] {
  const r = f.polys[0]?.[0];
  if (!r || r.length < 4) return r?.[0] ? [r[0][0], r[0][1]] : [0, 0];
  return interiorPoint(f.polys[0]);
}

const edgeKey = (ax: number, ay: number, bx: number, by: number): string =>
  ax < bx || (ax === bx && ay < by) ? `${ax},${ay},${bx},${by}` : `${bx},${by},${ax},${ay}`;

const edgeSetCache = new WeakMap<Polys, Set<string>>();
function edgeSetOf(polys: Polys): Set<string> {
  let set = edgeSetCache.get(polys);
  if (!set) {
    set = new Set();
    for (const rings of polys)
      for (const ring of rings) {
        for (let i = 0; i + 1 < ring.length; i++)
          set.add(edgeKey(ring[i][0], ring[i][1], ring[i + 1][0], ring[i + 1][1]));
      }
    edgeSetCache.set(polys, set);
  }
  return set;
}

/**
 * Where `one`'s boundary lies relative to `other`: any vertex strictly inside (1) or outside (-1),
 * and whether it lies wholly on other's boundary. An edge with both ends on other's boundary that
 * is not itself an edge of other is a chord: its midpoint decides. (Midpoints of shared edges are
 * not tested: rounding puts them a hair to either side.)
 */
function sides(one: Prepared, other: Prepared): { inside: boolean; outside: boolean } {
  let inside = false,
    outside = false;
  let otherEdges: Set<string> | null = null;
  for (const rings of one.polys) {
    for (const ring of rings) {
      let prev = NaN;
      for (let i = 0; i < ring.length; i++) {
        const l = locate(ring[i][0], ring[i][1], other.polys);
        if (l > 0) inside = true;
        else if (l < 0) outside = true;
        if (i > 0 && l === 0 && prev === 0) {
          otherEdges ??= edgeSetOf(other.polys);
          const [ax, ay] = ring[i - 1],
            [bx, by] = ring[i];
          if (!otherEdges.has(edgeKey(ax, ay, bx, by))) {
            const m = locate((ax + bx) / 2, (ay + by) / 2, other.polys);
            if (m > 0) inside = true;
            else if (m < 0) outside = true;
          }
        }
        prev = l;
      }
    }
  }
  return { inside, outside };
}

function properCrossing(a: Seg[], b: Seg[]): boolean {
  let found = false;
  sweepPairs(a, b, (s, t) => {
    const m = meet(s, t);
    if (m && m.how === 'proper') found = true;
    return found;
  });
  return found;
}

/** Exact pre-test: false only when the interiors of a and b cannot overlap. */
function mayOverlap(a: Prepared, b: Prepared, segs: Map<Prepared, Seg[]>): boolean {
  if (a.bbox[0] >= b.bbox[2] || b.bbox[0] >= a.bbox[2] || a.bbox[1] >= b.bbox[3] || b.bbox[1] >= a.bbox[3])
    return false;
  for (const [one, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const { inside, outside } = sides(one, other);
    if (inside || !outside) return true; // a vertex inside, or a boundary wholly on the other's
  }
  return properCrossing(segs.get(a)!, segs.get(b)!);
}

/** Exact pre-test: false only when `child` cannot reach outside `parent`. */
function mayReachOutside(child: Prepared, parent: Prepared, segs: Map<Prepared, Seg[]>): boolean {
  const [x0, y0, x1, y1] = parent.bbox;
  if (child.bbox[0] < x0 || child.bbox[1] < y0 || child.bbox[2] > x1 || child.bbox[3] > y1) return true;
  if (sides(child, parent).outside) return true;
  return properCrossing(segs.get(child)!, segs.get(parent)!);
}
