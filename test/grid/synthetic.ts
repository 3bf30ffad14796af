/**
 * Synthetic base-grid sets for the join and topology tests: a jittered lattice that tiles a
 * rectangle exactly (neighbours share vertices), with optional MultiPolygon grids and a grid with a
 * hole (the hole filled by another grid). Deterministic from `seed`.
 */
import type { Feature, MultiPolygon, Polygon, Position } from 'geojson';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LatticeOptions {
  cols: number;
  rows: number;
  /** South-west corner [lng, lat]. */
  origin?: [number, number];
  /** Cell size in degrees. */
  step?: number;
  /** Vertex jitter as a share of the step (0 … 0.3). */
  jitter?: number;
  seed?: number;
  /** Subdivide each lattice edge into this many segments (more vertices per grid). */
  edgeVertices?: number;
  /** Merge pairs of cells two apart in a row into one MultiPolygon grid (and cut a hole). */
  special?: boolean;
  division?: string;
  /** Snap every vertex to a multiple of 2^-14 degree, so points on edges can be written exactly. */
  dyadic?: boolean;
}

export interface SyntheticGrid {
  code: string;
  geometry: Polygon | MultiPolygon;
}

/** Base grids numbered in one community 120106-001-001, codes ascending row-major from the south-west. */
export function latticeGrids(o: LatticeOptions): SyntheticGrid[] {
  const { cols, rows } = o;
  const [ox, oy] = o.origin ?? [117.2, 39.1];
  const step = o.step ?? 0.0015;
  const jitter = o.jitter ?? 0.25;
  const rnd = mulberry32(o.seed ?? 1);
  const quantum = 2 ** 14;
  const snap = (p: Position): Position =>
    o.dyadic ? [Math.round(p[0] * quantum) / quantum, Math.round(p[1] * quantum) / quantum] : p;
  const sub = Math.max(1, o.edgeVertices ?? 1);
  const V: Position[][] = [];
  for (let i = 0; i <= cols; i++) {
    V.push([]);
    for (let j = 0; j <= rows; j++) {
      const onX = i === 0 || i === cols,
        onY = j === 0 || j === rows;
      const jx = onX ? 0 : (rnd() - 0.5) * 2 * jitter * step;
      const jy = onY ? 0 : (rnd() - 0.5) * 2 * jitter * step;
      V[i].push(snap([ox + i * step + jx, oy + j * step + jy]));
    }
  }
  // Intermediate vertices along each lattice edge, shared by both neighbours (with a small bend).
  const edgeCache = new Map<string, Position[]>();
  const path = (a: [number, number], b: [number, number]): Position[] => {
    const key = `${a}|${b}`;
    const rkey = `${b}|${a}`;
    if (edgeCache.has(rkey)) return [...edgeCache.get(rkey)!].reverse();
    if (!edgeCache.has(key)) {
      const p = V[a[0]][a[1]],
        q = V[b[0]][b[1]];
      const pts: Position[] = [p];
      const border =
        (a[0] === b[0] && (a[0] === 0 || a[0] === cols)) || (a[1] === b[1] && (a[1] === 0 || a[1] === rows));
      for (let s = 1; s < sub; s++) {
        const t = s / sub;
        const bend = border ? 0 : (rnd() - 0.5) * 0.1 * step;
        const nx = -(q[1] - p[1]),
          ny = q[0] - p[0];
        const len = Math.hypot(nx, ny) || 1;
        pts.push(snap([p[0] + (q[0] - p[0]) * t + (nx / len) * bend, p[1] + (q[1] - p[1]) * t + (ny / len) * bend]));
      }
      pts.push(q);
      edgeCache.set(key, pts);
    }
    return edgeCache.get(key)!;
  };
  const ring = (i: number, j: number): Position[] => {
    // Counter-clockwise: SW → SE → NE → NW → SW.
    const corners: [number, number][] = [
      [i, j],
      [i + 1, j],
      [i + 1, j + 1],
      [i, j + 1],
    ];
    const out: Position[] = [];
    for (let c = 0; c < 4; c++) out.push(...path(corners[c], corners[(c + 1) % 4]).slice(0, -1));
    out.push(out[0]);
    return out;
  };
  const division = o.division ?? '120106';
  const cells: (Polygon | MultiPolygon | null)[][] = [];
  for (let j = 0; j < rows; j++) {
    cells.push([]);
    for (let i = 0; i < cols; i++) cells[j].push({ type: 'Polygon', coordinates: [ring(i, j)] });
  }
  if (o.special && cols >= 5 && rows >= 5) {
    // MultiPolygon: cells (0,0) and (2,0) form one grid.
    const a = cells[0][0] as Polygon,
      b = cells[0][2] as Polygon;
    cells[0][0] = { type: 'MultiPolygon', coordinates: [a.coordinates, b.coordinates] };
    cells[0][2] = null;
    // A hole: the 3×3 block at (1..3, 1..3) becomes one grid around the middle cell (2,2).
    const outer: Position[] = [];
    const loop: [number, number][] = [
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [4, 2],
      [4, 3],
      [4, 4],
      [3, 4],
      [2, 4],
      [1, 4],
      [1, 3],
      [1, 2],
      [1, 1],
    ];
    for (let k = 0; k + 1 < loop.length; k++) outer.push(...path(loop[k], loop[k + 1]).slice(0, -1));
    outer.push(outer[0]);
    const hole = [...(cells[2][2] as Polygon).coordinates[0]].reverse();
    for (let j = 1; j <= 3; j++) for (let i = 1; i <= 3; i++) if (!(i === 2 && j === 2)) cells[j][i] = null;
    cells[1][1] = { type: 'Polygon', coordinates: [outer, hole] };
  }
  const out: SyntheticGrid[] = [];
  let seq = 1;
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < cols; i++) {
      const g = cells[j][i];
      if (!g) continue;
      const street = String(1 + Math.floor((seq - 1) / 999 / 999)).padStart(3, '0');
      const community = String(1 + (Math.floor((seq - 1) / 999) % 999)).padStart(3, '0');
      const s = String(1 + ((seq - 1) % 999)).padStart(3, '0');
      out.push({ code: `${division}${street}${community}${s}`, geometry: g });
      seq++;
    }
  }
  return out;
}

export function asFeatures(grids: SyntheticGrid[]): Feature<Polygon | MultiPolygon>[] {
  return grids.map((g) => ({ type: 'Feature', properties: { code: g.code }, geometry: g.geometry }));
}
