/**
 * SIMULATED grid-worker patrol tracks (网格员巡查轨迹) for the wall's TripsLayer.
 *
 * One simulated worker per community walks, forever, round the boundary of one base grid of that community
 * at walking pace. Where a worker is is a pure function of the absolute time, so every request (and every
 * web instance) draws the same tracks; `now` is passed in (no clock here). Nothing of this is real: the
 * response is marked `simulated: true` and the wall labels it.
 */
import type { Polygon, MultiPolygon, Position } from 'geojson';

export interface PatrolGrid {
  code: string;
  level: number;
  name: string;
  geometry: Polygon | MultiPolygon;
}

export interface PatrolTrip {
  /** Stable id of the simulated worker. */
  worker: string;
  /** Base grid walked round. */
  grid: string;
  gridName: string;
  /** [lng, lat] vertices (WGS-84). */
  path: [number, number][];
  /** Seconds since `t0` at each vertex (same length as `path`). */
  timestamps: number[];
}

export interface PatrolTracks {
  simulated: true;
  /** Epoch ms the timestamps count from. */
  t0: number;
  /** Seconds of track before t0 and after it. */
  beforeS: number;
  afterS: number;
  trips: PatrolTrip[];
}

/** Walking pace, m/s (the wall redraws walkers by it: web/lib/wall/motion.ts WALKING_PACE_MPS). */
export const WALK_MPS = 1.3;
const EARTH_M = 6_371_008.8;

function metres(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const x = (b[0] - a[0]) * rad * Math.cos(((a[1] + b[1]) / 2) * rad);
  const y = (b[1] - a[1]) * rad;
  return Math.hypot(x, y) * EARTH_M;
}

/** Small deterministic hash (FNV-1a) to pick a grid and a phase per community. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function outerRing(g: Polygon | MultiPolygon): Position[] {
  return g.type === 'Polygon' ? g.coordinates[0] : (g.coordinates[0]?.[0] ?? []);
}

/**
 * Tracks of the workers whose grids start with `scope` (null = all), covering [now − beforeS, now + afterS].
 * `grids` are the base grids (level 4) of the published version.
 */
export function patrolTracks(
  grids: readonly PatrolGrid[],
  opts: { now: number; scope: string | null; beforeS?: number; afterS?: number; maxWorkers?: number },
): PatrolTracks {
  const beforeS = opts.beforeS ?? 600;
  const afterS = opts.afterS ?? 1800;
  const byCommunity = new Map<string, PatrolGrid[]>();
  for (const g of grids) {
    if (g.level !== 4) continue;
    if (opts.scope && !g.code.startsWith(opts.scope) && !opts.scope.startsWith(g.code)) continue;
    const c = g.code.slice(0, 12);
    let list = byCommunity.get(c);
    if (!list) byCommunity.set(c, (list = []));
    list.push(g);
  }
  const t0 = opts.now;
  const trips: PatrolTrip[] = [];
  for (const [community, list] of [...byCommunity].sort(([a], [b]) => a.localeCompare(b))) {
    if (opts.maxWorkers !== undefined && trips.length >= opts.maxWorkers) break;
    list.sort((a, b) => a.code.localeCompare(b.code));
    const h = hash(community);
    const grid = list[h % list.length];
    const ring = outerRing(grid.geometry);
    if (ring.length < 4) continue;
    // Cumulative distance along the closed ring.
    const cum = [0];
    for (let i = 1; i < ring.length; i++) cum.push(cum[i - 1] + metres(ring[i - 1], ring[i]));
    const perimeter = cum[cum.length - 1];
    if (!(perimeter > 1)) continue;
    const lapS = perimeter / WALK_MPS;
    const phaseS = (h / 0xffffffff) * lapS;
    // Absolute seconds (epoch) of the window; position along the ring = (t + phase) mod lap.
    const startAbs = t0 / 1000 - beforeS;
    const endAbs = t0 / 1000 + afterS;
    const path: [number, number][] = [];
    const timestamps: number[] = [];
    const pointAt = (tAbs: number): [number, number] => {
      const d = (((tAbs + phaseS) % lapS) / lapS) * perimeter;
      let i = 1;
      while (i < cum.length - 1 && cum[i] < d) i++;
      const seg = cum[i] - cum[i - 1] || 1;
      const f = (d - cum[i - 1]) / seg;
      const a = ring[i - 1];
      const b = ring[i];
      return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    };
    path.push(pointAt(startAbs));
    timestamps.push(startAbs - t0 / 1000);
    // Every ring vertex crossed inside the window, in order.
    const lapStart = Math.floor((startAbs + phaseS) / lapS);
    for (let lap = lapStart; ; lap++) {
      let done = false;
      for (let i = 1; i < cum.length; i++) {
        const tAbs = lap * lapS + (cum[i] / perimeter) * lapS - phaseS;
        if (tAbs <= startAbs) continue;
        if (tAbs >= endAbs) {
          done = true;
          break;
        }
        path.push([ring[i][0], ring[i][1]]);
        timestamps.push(tAbs - t0 / 1000);
      }
      if (done) break;
    }
    path.push(pointAt(endAbs));
    timestamps.push(endAbs - t0 / 1000);
    trips.push({
      worker: `sim-gridworker-${community.slice(6)}`,
      grid: grid.code,
      gridName: grid.name,
      path,
      timestamps: timestamps.map((t) => Math.round(t * 10) / 10),
    });
  }
  return { simulated: true, t0, beforeS, afterS, trips };
}
