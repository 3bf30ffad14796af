/**
 * The grid studio's editing core (issue 14): pure functions, no DOM and no Node-only imports, so the
 * browser page and the server use the same code.
 *
 * Model. A grid set is a list of {@link GridSnapshot}s (GeoJSON Polygon/MultiPolygon in WGS-84, positions
 * [lng, lat]). Neighbouring grids share their boundary by sharing exact stored coordinates (the TopoJSON
 * model: topojson-server finds arcs by exact coordinate equality). Every operation keeps that: a shared
 * vertex is moved, inserted or removed in every grid that has it (parents included), snapping copies a
 * neighbour's stored coordinate, a split inserts its cut points into the neighbours that share the cut
 * edge, and unions (merge, new parent, a parent's new outline) are made with topojson-client `merge` on
 * arcs, so no sliver and no near-miss vertex is ever created.
 *
 * Result. Every operation takes the current grids and returns `EditInput[]`, the change-set format of
 * `POST /api/grids/drafts/:id/changes` (create {after}, update {code, after: partial}, delete {code}):
 * one operation is one change set, i.e. one undo step. {@link applyEdits} applies one in memory.
 *
 * Errors (DomainError): `not_found` (a code or a vertex that is not there), `invalid_grid` (the edit would
 * make a broken grid or cannot be done: a line that does not cut a grid in two, grids that are not
 * neighbours, a ring below 4 positions), `invalid_code`, `conflict` (a code already taken).
 *
 * Distances and tolerances are plain degrees (Euclidean on [lng, lat]); the page converts pixels to degrees.
 *
 * Validation limited to an edit's neighbourhood: {@link revalidate} re-runs core/grid/topology.ts
 * `validateTopology` on the changed grids and the grids whose checks depend on them, and keeps the rest of
 * the previous report (equal to a full check run with the same projection latitude: test/grid/studio.*).
 */
import type { MultiPolygon, Polygon, Position } from 'geojson';
import { topology } from 'topojson-server';
import { merge, neighbors } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { difference, intersection, union } from 'polyclip-ts';
import { DomainError } from '../errors.ts';
import { DEFAULT_PROFILE, GB15, LEVEL_KINDS, codeProfile, levelOf, numberBaseGrids } from './codes.ts';
import {
  type TopologyFeature,
  type TopologyOptions,
  type TopologyProblem,
  type TopologyReport,
  PROBLEM_ORDER,
  projectionLatitude,
  validateTopology,
} from './topology.ts';

export type { Position };

/** One grid as the studio and the drafts API hold it (a change set stores these as `before`/`after`). */
export interface GridSnapshot {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  households: number | null;
  geometry: Polygon | MultiPolygon;
}

/** One edit of a change set: create {after}, update {code, after (partial)}, delete {code}. */
export interface EditInput {
  op: 'create' | 'update' | 'delete';
  code?: string;
  after?: Partial<GridSnapshot> & { code?: string };
}

/** A fix the issues panel offers for problem `issueIndex` of a report: one change set. */
export interface QuickFix {
  issueIndex: number;
  label: { zh: string; en: string };
  edits: EditInput[];
}

/** What {@link snapTarget} found near a point. */
export interface SnapTarget {
  kind: 'vertex' | 'edge' | 'none';
  /** The exact stored coordinate (vertex), the nearest point on the edge (edge), or the point itself. */
  position: Position;
  /** Grids that have the vertex, or the edge. */
  codes: string[];
  /** The edge's end points (kind `edge`). */
  edge?: [Position, Position];
}

type Rings = Position[][];
type Polys = Rings[];
type Geom = Polygon | MultiPolygon;

// ---------------------------------------------------------------------------------------------------------
// Geometry helpers

const same = (p: Position, q: Position) => p[0] === q[0] && p[1] === q[1];
const dist = (p: Position, q: Position) => Math.hypot(p[0] - q[0], p[1] - q[1]);
const pos = (p: Position): Position => [p[0], p[1]];

function polysOf(g: Geom): Polys {
  return g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
}

/** A geometry of the same kind as `like` when it has one part (Polygon stays Polygon). */
function geomOf(polys: Polys): Geom {
  return polys.length === 1 ? { type: 'Polygon', coordinates: polys[0] } : { type: 'MultiPolygon', coordinates: polys };
}

function mapRings(g: Geom, fn: (ring: Position[]) => Position[]): Geom {
  return geomOf(polysOf(g).map((rings) => rings.map(fn)));
}

function hasPosition(g: Geom, p: Position): boolean {
  for (const rings of polysOf(g)) for (const ring of rings) for (const q of ring) if (same(p, q)) return true;
  return false;
}

/** Distinct positions of a closed ring (the closing position dropped). */
const open = (ring: Position[]) => (ring.length > 1 && same(ring[0], ring[ring.length - 1]) ? ring.slice(0, -1) : ring);
const close = (pts: Position[]) => [...pts, pos(pts[0])];

function ringArea(ring: Position[]): number {
  if (!ring.length) return 0;
  const x0 = ring[0][0],
    y0 = ring[0][1];
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++)
    s += (ring[i][0] - x0) * (ring[i + 1][1] - y0) - (ring[i + 1][0] - x0) * (ring[i][1] - y0);
  return s / 2;
}

function polysArea(polys: Polys): number {
  let a = 0;
  for (const rings of polys) rings.forEach((r, i) => (a += (i === 0 ? 1 : -1) * Math.abs(ringArea(r))));
  return a;
}

function pointInRing(p: Position, ring: Position[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i],
      [xj, yj] = ring[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

type BBox = [number, number, number, number];
const bboxCache = new WeakMap<object, BBox>();
function bboxOf(g: Geom): BBox {
  let b = bboxCache.get(g);
  if (b) return b;
  b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const rings of polysOf(g))
    for (const p of rings[0] ?? []) {
      if (p[0] < b[0]) b[0] = p[0];
      if (p[1] < b[1]) b[1] = p[1];
      if (p[0] > b[2]) b[2] = p[0];
      if (p[1] > b[3]) b[3] = p[1];
    }
  bboxCache.set(g, b);
  return b;
}
const boxesMeet = (a: BBox, b: BBox) => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

/** Nearest point to p on segment ab, with its parameter t in [0, 1]. */
function project(p: Position, a: Position, b: Position): { t: number; at: Position } {
  const dx = b[0] - a[0],
    dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
  return { t, at: t === 0 ? pos(a) : t === 1 ? pos(b) : [a[0] + t * dx, a[1] + t * dy] };
}

/** Insert `pts` (ordered from a to b) between every consecutive a,b (either direction) of every ring. */
function insertOnEdge(g: Geom, a: Position, b: Position, pts: Position[]): Geom {
  return mapRings(g, (ring) => {
    const out: Position[] = [];
    for (let i = 0; i < ring.length; i++) {
      out.push(ring[i]);
      if (i + 1 < ring.length) {
        if (same(ring[i], a) && same(ring[i + 1], b)) out.push(...pts.map(pos));
        else if (same(ring[i], b) && same(ring[i + 1], a)) out.push(...[...pts].reverse().map(pos));
      }
    }
    return out;
  });
}

function hasEdge(g: Geom, a: Position, b: Position): boolean {
  for (const rings of polysOf(g))
    for (const ring of rings)
      for (let i = 0; i + 1 < ring.length; i++)
        if ((same(ring[i], a) && same(ring[i + 1], b)) || (same(ring[i], b) && same(ring[i + 1], a))) return true;
  return false;
}

const edgeKey = (a: Position, b: Position) =>
  a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? `${a[0]},${a[1]},${b[0]},${b[1]}` : `${b[0]},${b[1]},${a[0]},${a[1]}`;
const posKey = (p: Position) => `${p[0]},${p[1]}`;

function edgeSet(g: Geom): Map<string, [Position, Position]> {
  const m = new Map<string, [Position, Position]>();
  for (const rings of polysOf(g))
    for (const ring of rings)
      for (let i = 0; i + 1 < ring.length; i++) m.set(edgeKey(ring[i], ring[i + 1]), [ring[i], ring[i + 1]]);
  return m;
}

/** Union of geometries that share exact boundaries, made on TopoJSON arcs (no slivers, exact coordinates). */
export function unionOnArcs(geoms: readonly Geom[]): Geom {
  if (geoms.length === 1) return geoms[0];
  const topo = topology({
    o: { type: 'GeometryCollection', geometries: geoms.map((g) => ({ ...g })) },
  } as never) as unknown as Topology<{ o: GeometryCollection }>;
  const merged = merge(topo, topo.objects.o.geometries as never) as MultiPolygon;
  return geomOf(merged.coordinates);
}

// ---------------------------------------------------------------------------------------------------------
// Codes

/**
 * The level of a code by its length: 6 district, 9 street, 12 community, longer a base grid. The three
 * profiles (gb15, gb14, stat20) share the first three segments (6 + 3 + 3), so no profile is needed.
 */
export function levelByLength(code: string): 1 | 2 | 3 | 4 {
  return code.length <= 6 ? 1 : code.length <= 9 ? 2 : code.length <= 12 ? 3 : 4;
}
const PARENT_LENGTH = [0, 0, 6, 9, 12];
const parentCode = (code: string): string | null => {
  const l = levelByLength(code);
  return l === 1 ? null : code.slice(0, PARENT_LENGTH[l]);
};

function snapshotFor(code: string, from: Partial<GridSnapshot> & { geometry: Geom }): GridSnapshot {
  const level = levelByLength(code);
  return {
    code,
    level,
    name: from.name ?? code,
    parent: parentCode(code),
    kind: LEVEL_KINDS[level - 1],
    households: from.households ?? null,
    geometry: from.geometry,
  };
}

/**
 * Apply a change set in memory (what the server's editDraft does, without its checks): update {code,
 * after} replaces the named fields (a new `code` renames; level, parent and kind follow the code), create
 * adds, delete removes. All `before`s are taken first, so codes may be swapped. Returns a new list.
 */
export function applyEdits(grids: readonly GridSnapshot[], edits: readonly EditInput[]): GridSnapshot[] {
  const by = new Map(grids.map((g) => [g.code, g]));
  const removed = new Set<string>();
  const added: GridSnapshot[] = [];
  for (const e of edits) {
    if (e.op === 'create') {
      const a = e.after as GridSnapshot;
      added.push(snapshotFor(a.code, a));
      continue;
    }
    const before = by.get(String(e.code));
    if (!before) throw new DomainError('not_found', `grid ${String(e.code)} is not in the set`);
    removed.add(before.code);
    if (e.op === 'update') {
      const code = e.after?.code ?? before.code;
      added.push(snapshotFor(code, { ...before, ...e.after, geometry: e.after?.geometry ?? before.geometry }));
    }
  }
  const out = grids.filter((g) => !removed.has(g.code));
  const codes = new Set(out.map((g) => g.code));
  for (const a of added) {
    if (codes.has(a.code)) throw new DomainError('conflict', `grid ${a.code} already exists`);
    codes.add(a.code);
    out.push(a);
  }
  return out;
}

/** A change set under construction: the current state by code and where each grid came from. */
class Work {
  readonly orig = new Map<string, GridSnapshot>();
  readonly cur = new Map<string, GridSnapshot>();
  /** current code → original code (null: created). */
  private readonly from = new Map<string, string | null>();
  constructor(grids: readonly GridSnapshot[]) {
    for (const g of grids) {
      this.orig.set(g.code, g);
      this.cur.set(g.code, g);
      this.from.set(g.code, g.code);
    }
  }
  get(code: string): GridSnapshot {
    const g = this.cur.get(code);
    if (!g) throw new DomainError('not_found', `grid ${code} is not in the set`);
    return g;
  }
  all(): GridSnapshot[] {
    return [...this.cur.values()];
  }
  update(code: string, patch: Partial<GridSnapshot>): void {
    const g = this.get(code);
    const next: GridSnapshot = { ...g, ...patch };
    if (patch.code !== undefined && patch.code !== code) {
      if (this.cur.has(patch.code)) throw new DomainError('conflict', `grid ${patch.code} already exists`);
      Object.assign(next, snapshotFor(patch.code, next), { name: next.name, households: next.households });
      this.cur.delete(code);
      this.from.set(patch.code, this.from.get(code)!);
      this.from.delete(code);
    }
    this.cur.set(next.code, next);
  }
  create(g: GridSnapshot): void {
    if (this.cur.has(g.code)) throw new DomainError('conflict', `grid ${g.code} already exists`);
    this.cur.set(g.code, g);
    this.from.set(g.code, null);
  }
  delete(code: string): void {
    this.get(code);
    this.cur.delete(code);
    this.from.delete(code);
  }
  childrenOf(code: string): GridSnapshot[] {
    return this.all().filter((g) => g.parent === code);
  }
  edits(): EditInput[] {
    const kept = new Set<string>();
    const updates: EditInput[] = [];
    const creates: EditInput[] = [];
    for (const [code, g] of this.cur) {
      const o = this.from.get(code)!;
      if (o === null) {
        creates.push({ op: 'create', after: { ...g } });
        continue;
      }
      kept.add(o);
      const before = this.orig.get(o)!;
      if (before === g) continue;
      const after: EditInput['after'] = {};
      if (g.code !== before.code) after.code = g.code;
      if (g.name !== before.name) after.name = g.name;
      if (g.households !== before.households) after.households = g.households;
      if (g.geometry !== before.geometry) after.geometry = g.geometry;
      if (Object.keys(after).length) updates.push({ op: 'update', code: o, after });
    }
    const deletes: EditInput[] = [...this.orig.keys()]
      .filter((c) => !kept.has(c))
      .map((code) => ({ op: 'delete', code }));
    return [...deletes, ...updates, ...creates];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Vertices

/**
 * The exact stored vertex nearest `at` within `tolerance` degrees, and every grid that has exactly that
 * position (any ring, any part, any level); null when none is that near.
 */
export function sharedVertexAt(
  grids: readonly GridSnapshot[],
  at: Position,
  tolerance: number,
): { position: Position; codes: string[] } | null {
  let best: Position | null = null;
  let bd = tolerance;
  for (const g of grids) {
    const b = bboxOf(g.geometry);
    if (at[0] < b[0] - bd || at[0] > b[2] + bd || at[1] < b[1] - bd || at[1] > b[3] + bd) continue;
    for (const rings of polysOf(g.geometry))
      for (const ring of rings)
        for (const p of ring) {
          const d = dist(p, at);
          if (d <= bd) {
            bd = d;
            best = p;
          }
        }
  }
  if (!best) return null;
  const position = pos(best);
  return { position, codes: grids.filter((g) => hasPosition(g.geometry, position)).map((g) => g.code) };
}

/**
 * Move the exact position `from` to `to` in every grid that has it (all rings, all parts, all levels):
 * one change set. `not_found` when no grid has `from`; [] when from equals to.
 */
export function moveSharedVertex(grids: readonly GridSnapshot[], from: Position, to: Position): EditInput[] {
  if (same(from, to)) return [];
  const w = new Work(grids);
  moveIn(w, from, to);
  return w.edits();
}

function moveIn(w: Work, from: Position, to: Position): string[] {
  const moved: string[] = [];
  for (const g of w.all()) {
    if (!hasPosition(g.geometry, from)) continue;
    w.update(g.code, { geometry: mapRings(g.geometry, (r) => r.map((p) => (same(p, from) ? pos(to) : p))) });
    moved.push(g.code);
  }
  if (!moved.length) throw new DomainError('not_found', `no grid has a vertex at ${from[0]}, ${from[1]}`);
  return moved;
}

/**
 * What lies near `at` within `tolerance` degrees among the grids not in `exclude`: the nearest stored
 * vertex first (its exact coordinate), else the nearest point on an edge, else nothing (`at` itself).
 * `excludePosition` skips one vertex and the edges that end at it (the vertex being dragged).
 */
export function snapTarget(
  grids: readonly GridSnapshot[],
  at: Position,
  tolerance: number,
  exclude: readonly string[] = [],
  excludePosition?: Position,
): SnapTarget {
  const skip = new Set(exclude);
  const near = grids.filter((g) => {
    if (skip.has(g.code)) return false;
    const b = bboxOf(g.geometry);
    return !(
      at[0] < b[0] - tolerance ||
      at[0] > b[2] + tolerance ||
      at[1] < b[1] - tolerance ||
      at[1] > b[3] + tolerance
    );
  });
  const v = sharedVertexAt(
    near.map((g) =>
      excludePosition && hasPosition(g.geometry, excludePosition)
        ? { ...g, geometry: mapRings(g.geometry, (r) => r.filter((p) => !same(p, excludePosition))) }
        : g,
    ),
    at,
    tolerance,
  );
  if (v) {
    return {
      kind: 'vertex',
      position: v.position,
      codes: near.filter((g) => hasPosition(g.geometry, v.position)).map((g) => g.code),
    };
  }
  let best: { d: number; at: Position; a: Position; b: Position } | null = null;
  for (const g of near)
    for (const rings of polysOf(g.geometry))
      for (const ring of rings)
        for (let i = 0; i + 1 < ring.length; i++) {
          const a = ring[i],
            b = ring[i + 1];
          if (excludePosition && (same(a, excludePosition) || same(b, excludePosition))) continue;
          const pr = project(at, a, b);
          const d = dist(pr.at, at);
          if (d <= tolerance && (!best || d < best.d)) best = { d, at: pr.at, a, b };
        }
  if (best) {
    const { a, b } = best;
    return {
      kind: 'edge',
      position: best.at,
      codes: near.filter((g) => hasEdge(g.geometry, a, b)).map((g) => g.code),
      edge: [pos(a), pos(b)],
    };
  }
  return { kind: 'none', position: pos(at), codes: [] };
}

/**
 * A neighbour's exact stored coordinate near `at` (vertex first, else the nearest point on an edge)
 * within `tolerance` degrees, among grids not in `exclude`; else `at`. To make a point on an edge a
 * shared vertex use {@link dragVertex} (or {@link insertVertex}), which inserts it into the edge's grids.
 */
export function snapPosition(
  grids: readonly GridSnapshot[],
  at: Position,
  tolerance: number,
  exclude?: string[],
): Position {
  return snapTarget(grids, at, tolerance, exclude).position;
}

/**
 * A drag of the shared vertex `from` released at `to`: snapped (within `tolerance`) to another stored
 * vertex or onto an edge — then the point is inserted into every grid with that edge, so it is shared,
 * not a near miss — and moved in every grid that has `from`. One change set.
 */
export function dragVertex(
  grids: readonly GridSnapshot[],
  from: Position,
  to: Position,
  tolerance: number,
): EditInput[] {
  const t = snapTarget(grids, to, tolerance, [], from);
  const w = new Work(grids);
  if (t.kind === 'edge') {
    const [a, b] = t.edge!;
    for (const code of t.codes) w.update(code, { geometry: insertOnEdge(w.get(code).geometry, a, b, [t.position]) });
  }
  if (same(from, t.position)) return w.edits();
  moveIn(w, from, t.position);
  return w.edits();
}

/**
 * Insert a vertex on the edge nearest `at` (within `tolerance` degrees) in every grid that has that edge:
 * one change set; [] when no edge is that near or the nearest point is already a vertex.
 */
export function insertVertex(grids: readonly GridSnapshot[], at: Position, tolerance: number): EditInput[] {
  let best: { d: number; at: Position; a: Position; b: Position; t: number } | null = null;
  for (const g of grids) {
    const bb = bboxOf(g.geometry);
    if (
      at[0] < bb[0] - tolerance ||
      at[0] > bb[2] + tolerance ||
      at[1] < bb[1] - tolerance ||
      at[1] > bb[3] + tolerance
    )
      continue;
    for (const rings of polysOf(g.geometry))
      for (const ring of rings)
        for (let i = 0; i + 1 < ring.length; i++) {
          const pr = project(at, ring[i], ring[i + 1]);
          const d = dist(pr.at, at);
          if (d <= tolerance && (!best || d < best.d)) best = { d, at: pr.at, a: ring[i], b: ring[i + 1], t: pr.t };
        }
  }
  if (!best || best.t === 0 || best.t === 1 || same(best.at, best.a) || same(best.at, best.b)) return [];
  const w = new Work(grids);
  for (const g of grids)
    if (hasEdge(g.geometry, best.a, best.b))
      w.update(g.code, { geometry: insertOnEdge(g.geometry, best.a, best.b, [best.at]) });
  return w.edits();
}

/**
 * Remove the exact vertex `at` from every grid that has it. `not_found` when none has it; `invalid_grid`
 * when a ring would keep fewer than 4 positions (3 distinct).
 */
export function removeVertex(grids: readonly GridSnapshot[], at: Position): EditInput[] {
  const w = new Work(grids);
  let found = false;
  for (const g of grids) {
    if (!hasPosition(g.geometry, at)) continue;
    found = true;
    w.update(g.code, {
      geometry: mapRings(g.geometry, (ring) => {
        const pts = open(ring).filter((p) => !same(p, at));
        if (pts.length === open(ring).length) return ring;
        if (pts.length < 3)
          throw new DomainError(
            'invalid_grid',
            `removing the vertex would leave a ring of ${g.code} with fewer than 4 positions`,
          );
        return close(pts);
      }),
    });
  }
  if (!found) throw new DomainError('not_found', `no grid has a vertex at ${at[0]}, ${at[1]}`);
  return w.edits();
}

// ---------------------------------------------------------------------------------------------------------
// Split, merge, reshape

interface Crossing {
  part: number;
  ring: number;
  edge: number; // index of the edge's first vertex in the ring
  u: number; // along the edge
  li: number; // line segment
  t: number; // along the line segment
  at: Position;
  vertex: number | null; // the ring vertex it falls on, if any
}

const EPS = 1e-12;

function crossings(polys: Polys, line: Position[]): Crossing[] {
  const out: Crossing[] = [];
  polys.forEach((rings, part) =>
    rings.forEach((ring, ri) => {
      const n = ring.length - 1;
      for (let e = 0; e < n; e++) {
        const a = ring[e],
          b = ring[e + 1];
        for (let li = 0; li + 1 < line.length; li++) {
          const p = line[li],
            q = line[li + 1];
          const rx = q[0] - p[0],
            ry = q[1] - p[1],
            sx = b[0] - a[0],
            sy = b[1] - a[1];
          const d = rx * sy - ry * sx;
          if (d === 0) continue;
          const wx = a[0] - p[0],
            wy = a[1] - p[1];
          const t = (wx * sy - wy * sx) / d;
          const u = (wx * ry - wy * rx) / d;
          if (t < 0 || t > 1 || u < -EPS || u > 1 + EPS) continue;
          let vertex: number | null = null;
          let at: Position = [a[0] + u * sx, a[1] + u * sy];
          if (u <= EPS) {
            vertex = e;
            at = pos(a);
          } else if (u >= 1 - EPS) {
            vertex = (e + 1) % n;
            at = pos(b);
          }
          out.push({ part, ring: ri, edge: e, u, li, t, at, vertex });
        }
      }
    }),
  );
  // A crossing at a vertex is found on both of its edges: keep one.
  const seen = new Set<string>();
  return out.filter((c) => {
    if (c.vertex === null) return true;
    const k = `${c.part}/${c.ring}/${c.vertex}/${c.li}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Split grid `code` by a drawn `line` ([lng, lat] positions) that enters and leaves it once, crossing
 * one part's outer ring exactly twice and no hole. The larger piece keeps `code`, the other becomes
 * `newCode` (a free code of the same level under the same parent), both with households unknown (null).
 * Existing vertices are kept exactly; a cut point that falls inside an edge is inserted into every grid
 * sharing that edge (neighbours, parents), so the boundary stays shared. Refuses (`invalid_grid`) when
 * the line does not cut the grid into two, and when the grid has children in the set.
 */
export function splitGrid(
  grids: readonly GridSnapshot[],
  code: string,
  line: Position[],
  newCode: string,
): EditInput[] {
  const w = new Work(grids);
  const g = w.get(code);
  if (!Array.isArray(line) || line.length < 2)
    throw new DomainError('invalid_grid', 'a split line needs at least two positions');
  if (newCode.length !== code.length || parentCode(newCode) !== parentCode(code) || !/^[0-9]+$/.test(newCode))
    throw new DomainError(
      'invalid_code',
      `${newCode} is not a code of the same level under the same parent as ${code}`,
    );
  if (w.cur.has(newCode)) throw new DomainError('conflict', `grid ${newCode} already exists`);
  if (w.childrenOf(code).length)
    throw new DomainError('invalid_grid', `${code} has grids under it: split those, then re-draw it from them`);
  const polys = polysOf(g.geometry);
  const cs = crossings(polys, line);
  if (cs.some((c) => c.ring > 0)) throw new DomainError('invalid_grid', `the line crosses a hole of ${code}`);
  const parts = new Set(cs.map((c) => c.part));
  if (parts.size !== 1 || cs.length !== 2)
    throw new DomainError(
      'invalid_grid',
      `the line must cross the boundary of ${code} exactly twice (enter and leave once); it crosses it ${cs.length} time(s)`,
    );
  const part = cs[0].part;
  const [c1, c2] = cs.sort((a, b) => a.li - b.li || a.t - b.t);
  if (same(c1.at, c2.at)) throw new DomainError('invalid_grid', `the line does not cut ${code} in two`);
  const outer = polys[part][0];
  const L0 = open(outer);
  // The ring with the cut points in it.
  const L: Position[] = [];
  const idx = new Map<Crossing, number>();
  for (let i = 0; i < L0.length; i++) {
    L.push(L0[i]);
    for (const c of [c1, c2].filter((c) => c.vertex === i)) idx.set(c, L.length - 1);
    const onEdge = [c1, c2].filter((c) => c.vertex === null && c.edge === i).sort((a, b) => a.u - b.u);
    for (const c of onEdge) {
      L.push(c.at);
      idx.set(c, L.length - 1);
    }
  }
  const i1 = idx.get(c1)!,
    i2 = idx.get(c2)!;
  const inner = line.slice(c1.li + 1, c2.li + 1).map(pos);
  const walk = (i: number, j: number) => {
    const out: Position[] = [];
    for (let k = i; ; k = (k + 1) % L.length) {
      out.push(L[k]);
      if (k === j) return out;
    }
  };
  const ringA = close([...walk(i1, i2), ...[...inner].reverse()]);
  const ringB = close([...walk(i2, i1), ...inner]);
  const areaA = Math.abs(ringArea(ringA)),
    areaB = Math.abs(ringArea(ringB)),
    whole = Math.abs(ringArea(outer));
  if (!(areaA > 0 && areaB > 0) || Math.abs(areaA + areaB - whole) > 1e-7 * whole)
    throw new DomainError('invalid_grid', `the line does not cut ${code} into two pieces`);
  const holes = polys[part].slice(1);
  const polyA: Rings = [ringA, ...holes.filter((h) => pointInRing(h[0], ringA))];
  const polyB: Rings = [ringB, ...holes.filter((h) => !pointInRing(h[0], ringA))];
  const [keep, give] = polysArea([polyA]) >= polysArea([polyB]) ? [polyA, polyB] : [polyB, polyA];
  const others = polys.filter((_, i) => i !== part);
  // Cut points inside an edge go into every other grid with that edge.
  const byEdge = new Map<string, { a: Position; b: Position; pts: Crossing[] }>();
  for (const c of [c1, c2]) {
    if (c.vertex !== null) continue;
    const a = outer[c.edge],
      b = outer[c.edge + 1];
    const k = edgeKey(a, b);
    if (!byEdge.has(k)) byEdge.set(k, { a, b, pts: [] });
    byEdge.get(k)!.pts.push(c);
  }
  for (const { a, b, pts } of byEdge.values()) {
    const ordered = pts.sort((x, y) => x.u - y.u).map((c) => c.at);
    for (const o of w.all())
      if (o.code !== code && hasEdge(o.geometry, a, b))
        w.update(o.code, { geometry: insertOnEdge(o.geometry, a, b, ordered) });
  }
  ownCheck(code, geomOf([keep]), 'a piece of the split');
  ownCheck(code, geomOf([give]), 'a piece of the split');
  w.update(code, { geometry: geomOf([keep, ...others]), households: null });
  w.create({ ...snapshotFor(newCode, { geometry: geomOf([give]) }), name: newCode });
  return w.edits();
}

/** Refuse (`invalid_grid`) a geometry that fails the validator's own checks (rings, self-touching). */
function ownCheck(code: string, geometry: Geom, what: string): void {
  const r = validateTopology([{ type: 'Feature', properties: { code }, geometry }], { profile: GB15 });
  const bad = r.problems.find((p) => p.kind !== 'bad_code' && p.kind !== 'missing_parent');
  if (bad)
    throw new DomainError(
      'invalid_grid',
      `${what} would not be a valid grid (${bad.kind}: ${bad.message}); choose other grids or another line`,
    );
}

/** Codes of parents (present in the set) to redraw after children moved, nearest first. */
function ancestorsOf(w: Work, codes: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const c of codes) for (let p = parentCode(c); p; p = parentCode(p)) out.add(p);
  return [...out].sort((a, b) => b.length - a.length);
}

/** Redraw each parent (present in the set) as the union of its children; a parent left empty is deleted. */
function redrawParents(w: Work, parents: string[]): void {
  for (const p of parents) {
    if (!w.cur.has(p)) continue;
    const kids = w.childrenOf(p);
    if (!kids.length) w.delete(p);
    else w.update(p, { geometry: unionOnArcs(kids.map((k) => k.geometry)) });
  }
}

/** Rename `code` to `next` and its descendants' prefixes with it. */
function renameTree(w: Work, code: string, next: string): void {
  const desc = w.all().filter((g) => g.code !== code && g.code.startsWith(code) && g.code.length > code.length);
  w.update(code, { code: next });
  for (const d of desc.sort((a, b) => a.code.length - b.code.length))
    w.update(d.code, { code: next + d.code.slice(code.length) });
}

/** The next free code under `parent` with a `width`-digit segment. */
function nextFree(w: Work, parent: string, width: number, taken: Set<string> = new Set()): string {
  let max = 0;
  for (const c of [...w.cur.keys(), ...taken])
    if (c.length === parent.length + width && c.startsWith(parent)) max = Math.max(max, Number(c.slice(parent.length)));
  const next = parent + String(max + 1).padStart(width, '0');
  if (String(max + 1).length > width)
    throw new DomainError('invalid_code', `no free ${width}-digit code left under ${parent}`);
  return next;
}

/**
 * Merge adjacent grids (one level, one parent, connected through shared edges) into `codes[0]`: its
 * geometry becomes their union made on TopoJSON arcs (exact, no slivers), households the sum (null if
 * any is unknown), the others are deleted and their children (if any) move under codes[0] with the next
 * free codes. Refuses (`invalid_grid`) grids that do not share an edge, or differ in level or parent.
 */
export function mergeGrids(grids: readonly GridSnapshot[], codes: string[]): EditInput[] {
  const list = [...new Set(codes)];
  if (list.length < 2) throw new DomainError('invalid_grid', 'merge needs at least two grids');
  const w = new Work(grids);
  const gs = list.map((c) => w.get(c));
  if (gs.some((g) => g.code.length !== gs[0].code.length || g.parent !== gs[0].parent))
    throw new DomainError('invalid_grid', 'only grids of one level under one parent are merged');
  const topo = topology({
    o: { type: 'GeometryCollection', geometries: gs.map((g) => ({ ...g.geometry })) },
  } as never) as unknown as Topology<{ o: GeometryCollection }>;
  const geoms = topo.objects.o.geometries;
  const nb = neighbors(geoms as never);
  const reached = new Set([0]);
  for (let stack = [0]; stack.length;)
    for (const j of nb[stack.pop()!])
      if (!reached.has(j)) {
        reached.add(j);
        stack.push(j);
      }
  if (reached.size !== gs.length) {
    const apart = gs.filter((_, i) => !reached.has(i)).map((g) => g.code);
    throw new DomainError(
      'invalid_grid',
      `${apart.join(', ')} share(s) no edge with ${gs[0].code}: only neighbours merge`,
    );
  }
  const merged = geomOf((merge(topo, geoms as never) as MultiPolygon).coordinates);
  ownCheck(gs[0].code, merged, 'the merged grid');
  const households = gs.every((g) => g.households !== null) ? gs.reduce((s, g) => s + g.households!, 0) : null;
  for (const g of gs.slice(1)) {
    for (const kid of w.childrenOf(g.code))
      renameTree(w, kid.code, nextFree(w, gs[0].code, kid.code.length - g.code.length));
    w.delete(g.code);
  }
  w.update(gs[0].code, { geometry: merged, households });
  return w.edits();
}

/** The shared boundary of a and b as one ordered chain of positions, or a clear refusal. */
function sharedChain(a: GridSnapshot, b: GridSnapshot): Position[] {
  const ea = edgeSet(a.geometry),
    eb = edgeSet(b.geometry);
  const shared = [...ea].filter(([k]) => eb.has(k)).map(([, e]) => e);
  if (!shared.length) throw new DomainError('invalid_grid', `${a.code} and ${b.code} share no edge`);
  const adj = new Map<string, Position[]>();
  const at = new Map<string, Position>();
  for (const [p, q] of shared) {
    for (const [x, y] of [
      [p, q],
      [q, p],
    ]) {
      const k = posKey(x);
      at.set(k, x);
      if (!adj.has(k)) adj.set(k, []);
      adj.get(k)!.push(y);
    }
  }
  const ends = [...adj].filter(([, n]) => n.length === 1).map(([k]) => at.get(k)!);
  if (ends.length !== 2 || [...adj.values()].some((n) => n.length > 2))
    throw new DomainError(
      'invalid_grid',
      ends.length === 0
        ? `${a.code} and ${b.code} share a whole ring (an island): reshape it by moving its vertices`
        : `${a.code} and ${b.code} share more than one stretch of boundary: reshape one stretch at a time by moving vertices`,
    );
  const chain: Position[] = [ends[0]];
  let prev: Position | null = null;
  for (let cur = ends[0]; !same(cur, ends[1]);) {
    const next: Position = adj.get(posKey(cur))!.find((p) => !prev || !same(p, prev))!;
    prev = cur;
    cur = next;
    chain.push(cur);
  }
  if (chain.length - 1 !== shared.length)
    throw new DomainError('invalid_grid', `${a.code} and ${b.code} share more than one stretch of boundary`);
  return chain;
}

/** Replace run X (in ring order) of a ring with X[0], interior, X[last]; null when the ring lacks the run. */
function replaceRun(ring: Position[], chain: Position[], interior: Position[]): Position[] | null {
  const D = open(ring);
  const n = D.length,
    m = chain.length;
  for (const [X, I] of [
    [chain, interior],
    [[...chain].reverse(), [...interior].reverse()],
  ] as const) {
    for (let k = 0; k < n; k++) {
      let ok = true;
      for (let j = 0; j < m && ok; j++) ok = same(D[(k + j) % n], X[j]);
      if (!ok) continue;
      const rest: Position[] = [];
      for (let j = m; j < n; j++) rest.push(D[(k + j) % n]);
      return close([X[0], ...I.map(pos), X[m - 1], ...rest]);
    }
  }
  return null;
}

/**
 * Replace the shared boundary of neighbours `a` and `b` (one stretch of shared edges) by `path`, drawn
 * from one end of that stretch to the other ([lng, lat]; its end points may be given or left out — they
 * stay where they are; a path drawn from the other end is reversed). Every grid whose ring runs along the
 * whole stretch (a and b, and parents on a community border) gets the new path. Refuses (`invalid_grid`)
 * when a and b share no edge or several stretches, or when another grid touches the stretch in between.
 */
export function reshapeBoundary(grids: readonly GridSnapshot[], a: string, b: string, path: Position[]): EditInput[] {
  const w = new Work(grids);
  const chain = sharedChain(w.get(a), w.get(b));
  const s = chain[0],
    e = chain[chain.length - 1];
  let inner = (path ?? []).map(pos);
  if (inner.length && dist(inner[0], e) < dist(inner[0], s)) inner.reverse();
  if (inner.length && same(inner[0], s)) inner = inner.slice(1);
  if (inner.length && same(inner[inner.length - 1], e)) inner = inner.slice(0, -1);
  const middle = chain.slice(1, -1);
  for (const g of w.all()) {
    let changed = false;
    const geometry = mapRings(g.geometry, (ring) => {
      const r = replaceRun(ring, chain, inner);
      if (r) {
        changed = true;
        return r;
      }
      if (middle.some((p) => ring.some((q) => same(p, q))))
        throw new DomainError(
          'invalid_grid',
          `${g.code} touches the boundary of ${a} and ${b} between its ends: reshape it by moving vertices`,
        );
      return ring;
    });
    if (changed) w.update(g.code, { geometry });
  }
  return w.edits();
}

// ---------------------------------------------------------------------------------------------------------
// Hierarchy

/**
 * Move grids under another parent (base grids to another community, communities to another street):
 * each gets the next free code under `parent` (its children follow), and the old and new parents
 * present in the set (and their ancestors) are redrawn as the union of their children (on arcs); a
 * parent left without children is deleted. Refuses (`invalid_code`) a parent of the wrong level.
 */
export function moveToParent(grids: readonly GridSnapshot[], codes: string[], parent: string): EditInput[] {
  const w = new Work(grids);
  const touched = new Set<string>([parent]);
  for (const code of new Set(codes)) {
    const g = w.get(code);
    if (levelByLength(code) !== levelByLength(parent) + 1 || parent.length !== PARENT_LENGTH[levelByLength(code)])
      throw new DomainError('invalid_code', `${parent} is not a parent level for ${code}`);
    if (g.parent === parent) continue;
    touched.add(code);
    renameTree(w, code, nextFree(w, parent, code.length - parent.length));
  }
  redrawParents(
    w,
    [...new Set([parent, ...ancestorsOf(w, touched)])].sort((a, b) => b.length - a.length),
  );
  return w.edits();
}

/**
 * Make a new community (level 3) or street (level 2) `code` named `name` from the selected grids (base
 * grids, or communities): they move under it with new codes (base grids numbered west→east,
 * north→south), its geometry is the union of its children (on arcs), households their sum, and the
 * parents they left (and the new one's ancestors) are redrawn. Refuses (`invalid_code`) a code of the
 * wrong level or one taken, (`invalid_grid`) selected grids of the wrong level.
 */
export function newParentFrom(
  grids: readonly GridSnapshot[],
  codes: string[],
  level: 2 | 3,
  code: string,
  name: string,
): EditInput[] {
  const w = new Work(grids);
  if (!/^[0-9]+$/.test(code) || code.length !== PARENT_LENGTH[level + 1])
    throw new DomainError('invalid_code', `a ${LEVEL_KINDS[level - 1]} code has ${PARENT_LENGTH[level + 1]} digits`);
  if (w.cur.has(code)) throw new DomainError('conflict', `grid ${code} already exists`);
  const list = [...new Set(codes)].map((c) => w.get(c));
  if (!list.length) throw new DomainError('invalid_grid', 'select the grids that make the new one');
  if (list.some((g) => levelByLength(g.code) !== level + 1))
    throw new DomainError('invalid_grid', `a ${LEVEL_KINDS[level - 1]} is made of ${LEVEL_KINDS[level]} grids`);
  const oldParents = list.map((g) => g.code);
  const width = list[0].code.length - code.length;
  let newCodes: string[];
  if (level === 3) {
    const p = codeProfile([6, 3, 3, width]);
    newCodes = numberBaseGrids(code, list, p);
  } else newCodes = list.map((_, i) => code + String(i + 1).padStart(width, '0'));
  const households = list.every((g) => g.households !== null) ? list.reduce((s, g) => s + g.households!, 0) : null;
  w.create({ ...snapshotFor(code, { geometry: list[0].geometry }), name, households });
  // Two steps so that new codes may reuse old ones.
  const tmp = list.map((g, i) => {
    const t = `~${i}~${g.code}`;
    renameTreeRaw(w, g.code, t);
    return t;
  });
  tmp.forEach((t, i) => renameTreeRaw(w, t, newCodes[i]));
  redrawParents(
    w,
    [...new Set([code, ...ancestorsOf(w, [...oldParents, code])])].sort((a, b) => b.length - a.length),
  );
  return w.edits();
}

/** renameTree for temporary codes (the level of a temporary code is not read). */
function renameTreeRaw(w: Work, code: string, next: string): void {
  const desc = w.all().filter((g) => g.code !== code && g.code.startsWith(code));
  w.update(code, { code: next });
  for (const d of desc) w.update(d.code, { code: next + d.code.slice(code.length) });
}

// ---------------------------------------------------------------------------------------------------------
// Quick fixes

/** Positions of a ring with consecutive repeats dropped, closed again. */
function dropRepeats(ring: Position[]): Position[] {
  const out: Position[] = [];
  for (const p of ring) if (!out.length || !same(out[out.length - 1], p)) out.push(p);
  return out;
}

function hasRepeats(g: Geom): boolean {
  for (const rings of polysOf(g))
    for (const ring of rings) for (let i = 0; i + 1 < ring.length; i++) if (same(ring[i], ring[i + 1])) return true;
  return false;
}

/** Length (degrees) of the stretch of `piece`'s boundary that lies on `g`'s boundary. */
function sharedLength(piece: Rings, g: Geom, tol: number): number {
  let len = 0;
  const gr = polysOf(g).flat();
  for (const ring of piece)
    for (let i = 0; i + 1 < ring.length; i++) {
      const m: Position = [(ring[i][0] + ring[i + 1][0]) / 2, (ring[i][1] + ring[i + 1][1]) / 2];
      let d = Infinity;
      for (const r of gr)
        for (let j = 0; j + 1 < r.length; j++) d = Math.min(d, dist(project(m, r[j], r[j + 1]).at, m));
      if (d <= tol) len += dist(ring[i], ring[i + 1]);
    }
  return len;
}

function pieceAt(mp: Polys, at: Position): Rings | null {
  let best: Rings | null = null,
    bd = Infinity;
  for (const poly of mp) {
    if (pointInRing(at, poly[0])) return poly;
    for (const p of poly[0])
      if (dist(p, at) < bd) {
        bd = dist(p, at);
        best = poly;
      }
  }
  return best;
}

/**
 * Fixes for the problems of `report` (of these grids) where the fix is clear; each is one change set:
 * - `ring_not_closed`: close the grid's unclosed rings;
 * - a repeated vertex (two equal positions in a row, reported as `self_intersection` or `bad_geometry`):
 *   drop it;
 * - `gap`: give the uncovered piece to the child with the longest shared edge with it;
 * - `overlap`: leave the overlapping piece to the grid with the longest shared edge with it and cut it
 *   out of the other;
 * - `outside_parent`: cut the child back to its parent.
 * Labels are Simplified Chinese and English.
 */
export function quickFixes(grids: readonly GridSnapshot[], report: TopologyReport): QuickFix[] {
  const by = new Map(grids.map((g) => [g.code, g]));
  const fixes: QuickFix[] = [];
  report.problems.forEach((p: TopologyProblem, issueIndex: number) => {
    try {
      const f = fixFor(grids, by, p);
      if (f) fixes.push({ issueIndex, ...f });
    } catch {
      /* no clear fix */
    }
  });
  return fixes;
}

function fixFor(
  grids: readonly GridSnapshot[],
  by: Map<string, GridSnapshot>,
  p: TopologyProblem,
): Omit<QuickFix, 'issueIndex'> | null {
  const g = by.get(p.codes[0]);
  if (!g) return null;
  const w = new Work(grids);
  if (p.kind === 'ring_not_closed') {
    w.update(g.code, {
      geometry: mapRings(g.geometry, (r) => (r.length && !same(r[0], r[r.length - 1]) ? [...r, pos(r[0])] : r)),
    });
    return { label: { zh: '闭合环', en: 'Close the ring' }, edits: w.edits() };
  }
  if ((p.kind === 'self_intersection' || p.kind === 'bad_geometry') && hasRepeats(g.geometry)) {
    const geometry = mapRings(g.geometry, dropRepeats);
    if (polysOf(geometry).some((rings) => rings.some((r) => r.length < 4))) return null;
    w.update(g.code, { geometry });
    return { label: { zh: '删除重复顶点', en: 'Drop the repeated vertex' }, edits: w.edits() };
  }
  if (p.kind === 'gap') {
    const kids = grids.filter((k) => k.parent === g.code);
    if (!kids.length) return null;
    const rest = difference(
      polysOf(g.geometry) as never,
      ...(kids.map((k) => polysOf(k.geometry)) as never[]),
    ) as Polys;
    const piece = pieceAt(rest, p.location);
    if (!piece) return null;
    const tol = 1e-9;
    const target = kids.map((k) => ({ k, len: sharedLength(piece, k.geometry, tol) })).sort((a, b) => b.len - a.len)[0];
    if (!target || target.len === 0) return null;
    const merged = union(polysOf(target.k.geometry) as never, [piece] as never) as Polys;
    w.update(target.k.code, { geometry: geomOf(merged) });
    return {
      label: { zh: `将空隙并入 ${target.k.code}`, en: `Merge the gap into ${target.k.code}` },
      edits: w.edits(),
    };
  }
  if (p.kind === 'overlap') {
    const o = by.get(p.codes[1]);
    if (!o) return null;
    const inter = intersection(polysOf(g.geometry) as never, polysOf(o.geometry) as never) as Polys;
    const piece = pieceAt(inter, p.location);
    if (!piece) return null;
    const tol = 1e-9;
    // The piece stays with the grid whose boundary runs along it the most... measured outside the
    // piece: the other grid's boundary crosses it.
    const la = sharedLength(piece, g.geometry, tol),
      lb = sharedLength(piece, o.geometry, tol);
    const [keep, cut] = la >= lb ? [g, o] : [o, g];
    const cutBack = difference(polysOf(cut.geometry) as never, [piece] as never) as Polys;
    if (!cutBack.length) return null;
    w.update(cut.code, { geometry: geomOf(cutBack) });
    return {
      label: { zh: `重叠部分归 ${keep.code}`, en: `Give the overlap to ${keep.code}` },
      edits: w.edits(),
    };
  }
  if (p.kind === 'outside_parent') {
    const parent = by.get(p.codes[1]);
    if (!parent) return null;
    const inside = intersection(polysOf(g.geometry) as never, polysOf(parent.geometry) as never) as Polys;
    if (!inside.length) return null;
    w.update(g.code, { geometry: geomOf(inside) });
    return {
      label: { zh: `裁回上级 ${parent.code} 内`, en: `Cut back to its parent ${parent.code}` },
      edits: w.edits(),
    };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Neighbourhood and incremental validation

/**
 * Codes of the grids whose bbox touches one of `codes`' (same or any level), the codes themselves and
 * their parents (those present): what an edit of `codes` can change in a topology report.
 */
export function neighbourhood(grids: readonly GridSnapshot[], codes: string[]): string[] {
  const want = new Set(codes);
  const boxes = grids.filter((g) => want.has(g.code)).map((g) => bboxOf(g.geometry));
  const out = new Set<string>(codes.filter((c) => grids.some((g) => g.code === c)));
  for (const g of grids) {
    if (want.has(g.code)) {
      if (g.parent) out.add(g.parent);
      continue;
    }
    const b = bboxOf(g.geometry);
    if (boxes.some((x) => boxesMeet(x, b))) out.add(g.code);
  }
  const present = new Set(grids.map((g) => g.code));
  return [...out].filter((c) => present.has(c));
}

/** Problems in the validator's order (kind, first code), ties broken by the other codes and the location. */
export function sortProblems(problems: TopologyProblem[]): TopologyProblem[] {
  const key = (p: TopologyProblem) => `${p.codes.join(',')}|${p.location.join(',')}|${p.message}`;
  return [...problems].sort(
    (a, b) =>
      PROBLEM_ORDER.indexOf(a.kind) - PROBLEM_ORDER.indexOf(b.kind) ||
      (a.codes[0] ?? '').localeCompare(b.codes[0] ?? '') ||
      (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0),
  );
}

const asFeature = (g: GridSnapshot): TopologyFeature => ({
  type: 'Feature',
  properties: { code: g.code, level: g.level, parent: g.parent },
  geometry: g.geometry,
});

export interface RevalidateOptions extends Omit<TopologyOptions, 'latitude'> {
  /** The area projection's latitude: the one the previous report was made with (see validateGrids). */
  latitude: number;
  /** Above this share of changed grids a full check is cheaper (default 0.25). */
  fullShare?: number;
}

/** A full check of a grid set, and the projection latitude it used (to pass to {@link revalidate}). */
export function validateGrids(
  grids: Iterable<GridSnapshot>,
  options: TopologyOptions = {},
): { report: TopologyReport; latitude: number } {
  const fs = [...grids].map(asFeature);
  const latitude = options.latitude ?? projectionLatitude(fs);
  return { report: validateTopology(fs, { ...options, latitude }), latitude };
}

/**
 * The topology report after one change set, checking only what the change can affect and keeping the
 * rest of `previous` (the report of the set before the change, made with `options.latitude`):
 * - the changed grids' own checks (geometry, rings, codes, parent present);
 * - overlaps of a changed grid with the grids of its level whose bbox touches it;
 * - children of a changed grid inside it; a changed grid inside its parent;
 * - gaps of each changed grid and of each changed grid's parent (before and after), with all their
 *   children and those children's bbox neighbours (an overlap among them decides whether the gap is
 *   looked for).
 * Equal to validateTopology of the whole set with the same latitude, up to the order of problems of one
 * kind and first code ({@link sortProblems} orders both alike). Falls back to a full check when the
 * levels present change or many grids changed.
 */
export function revalidate(
  previous: TopologyReport,
  next: Iterable<GridSnapshot>,
  changes: readonly { before: GridSnapshot | null; after: GridSnapshot | null }[],
  options: RevalidateOptions,
): TopologyReport {
  const all = [...next];
  const profile = options.profile ?? DEFAULT_PROFILE;
  const counts: Record<number, number> = {};
  for (const g of all) {
    const l = levelOf(g.code, profile);
    counts[l] = (counts[l] ?? 0) + 1;
  }
  const levels = (c: Record<number, number>) =>
    Object.keys(c)
      .filter((k) => c[Number(k)] > 0)
      .sort()
      .join(',');
  const C = new Set<string>();
  for (const c of changes) for (const s of [c.before, c.after]) if (s) C.add(s.code);
  if (levels(counts) !== levels(previous.counts) || C.size > (options.fullShare ?? 0.25) * Math.max(all.length, 1)) {
    const full = validateTopology(all.map(asFeature), options);
    return { ...full, problems: sortProblems(full.problems), counts };
  }

  const by = new Map(all.map((g) => [g.code, g]));
  const parentOf = (code: string) => {
    const l = levelOf(code, profile);
    return l > 1 ? code.slice(0, profile.lengths[l - 2]) : null;
  };
  const G = new Set<string>(C);
  for (const c of C) {
    const p = parentOf(c);
    if (p) G.add(p);
  }
  const kids = new Map<string, GridSnapshot[]>();
  for (const g of all) {
    const p = parentOf(g.code);
    // Children matter for the gap of a parent in the set, and for "parent missing" when it changed.
    if (p && G.has(p) && (by.has(p) || C.has(p))) {
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p)!.push(g);
    }
  }
  const S = new Set<string>();
  for (const c of G) if (by.has(c)) S.add(c);
  const needNeighbours = new Set<string>([...C].filter((c) => by.has(c)));
  for (const list of kids.values())
    for (const k of list) {
      S.add(k.code);
      needNeighbours.add(k.code);
    }
  // Same-level bbox neighbours.
  const boxes = new Map<number, BBox[]>();
  for (const c of needNeighbours) {
    const l = levelOf(c, profile);
    if (!boxes.has(l)) boxes.set(l, []);
    boxes.get(l)!.push(bboxOf(by.get(c)!.geometry));
  }
  const firstOfLevel = new Map<number, string>();
  for (const g of all) {
    const l = levelOf(g.code, profile);
    if (!firstOfLevel.has(l)) firstOfLevel.set(l, g.code);
    const bs = boxes.get(l);
    if (!bs || S.has(g.code)) continue;
    const b = bboxOf(g.geometry);
    for (const x of bs)
      if (boxesMeet(x, b)) {
        S.add(g.code);
        break;
      }
  }
  // One grid of each level present, so that "parent missing" is judged as on the whole set.
  for (const c of firstOfLevel.values()) S.add(c);
  const sub = validateTopology(all.filter((g) => S.has(g.code)).map(asFeature), options);
  const affected = (p: TopologyProblem) => p.codes.some((c) => C.has(c)) || (p.kind === 'gap' && G.has(p.codes[0]));
  const problems = sortProblems([...previous.problems.filter((p) => !affected(p)), ...sub.problems.filter(affected)]);
  return { ok: problems.length === 0, problems, counts };
}
