/**
 * Patrol tracks (巡查轨迹) from the grid worker's app: batches of GPS fixes in, thinned and stored once per
 * (worker, fix time); per worker and day the distance, duration, gaps, share of the assigned grid covered and
 * reports made; and today's real tracks for the wall's patrol layer, labelled with the worker.
 *
 * Each fix keeps three times: its own (the GPS fix's time from the phone), the phone's clock when the batch was
 * sent, and the server's receipt; a phone clock more than two minutes off is flagged on every fix of the batch.
 * A web app gets fixes only while it is on screen: what is missing is a gap, shown as one, never filled in.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import { clockSkew, patrolDay, splitAtGaps, thinFixes, type Fix, type PatrolDay } from '../../core/field/patrol.ts';
import type { Db, Queryable } from '../store/db.ts';
import { parseBody } from '../../core/schemas/api.ts';
import { FieldTrackBatch } from '../../core/schemas/field.ts';

export { MAX_FIXES_PER_BATCH } from '../../core/schemas/field.ts';

export interface TrackDeps {
  db: Db;
  /** Base grid code of a point ([lng, lat]), null outside every grid. */
  gridAt(lng: number, lat: number): string | null;
  /** A grid's polygon by code (any level), null when unknown. */
  gridGeometry(code: string): Polygon | MultiPolygon | null;
}

export interface TrackBatch {
  patrol: string;
  fixes: Fix[];
}

/**
 * `{patrol: UUID of this patrol, fixes: [{t (epoch ms), lng, lat, accuracyM?}]}` (core/schemas/field.ts
 * FieldTrackBatch: the same schema the OpenAPI document shows); 400 validation_failed naming the field.
 */
export function parseTrackBatch(a: unknown): TrackBatch {
  const b = parseBody(FieldTrackBatch, a);
  return {
    patrol: b.patrol.toLowerCase(),
    fixes: b.fixes.map((f) => ({ t: f.t, lng: f.lng, lat: f.lat, accuracyM: f.accuracyM ?? null })),
  };
}

/** The calendar day (YYYY-MM-DD) of an instant in the platform's time zone (TZ, CONTRACT.md). */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** [start, end) epoch ms of a local day. */
function dayBounds(day: string): [number, number] {
  const start = new Date(`${day}T00:00:00`).getTime();
  const end = new Date(start + 36 * 3600_000);
  end.setHours(0, 0, 0, 0);
  return [start, end.getTime()];
}

/** Store a batch (thinned against the worker's last stored fix). Answers `{accepted, dropped, clockSkewMs, clockFlagged}`. */
export async function storeTrackBatch(
  q: Queryable,
  deps: TrackDeps,
  username: string,
  batch: TrackBatch,
  times: { sentAt: number; receivedAt: number },
): Promise<Record<string, unknown>> {
  const { skewMs, flagged } = clockSkew(times.sentAt, times.receivedAt);
  const lastRow = (
    await q.query<{ fix_time: Date | string; lng: number; lat: number }>(
      `SELECT fix_time, lng, lat FROM field_fixes WHERE username = $1 AND fix_time <= $2 ORDER BY fix_time DESC LIMIT 1`,
      [username, new Date(Math.min(...batch.fixes.map((f) => f.t)))],
    )
  ).rows[0];
  const last: Fix | null = lastRow
    ? { t: new Date(lastRow.fix_time).getTime(), lng: Number(lastRow.lng), lat: Number(lastRow.lat), accuracyM: null }
    : null;
  const kept = thinFixes(batch.fixes, last);
  let accepted = 0;
  if (kept.length) {
    // One statement per batch: arrays unnested (PGlite and PostgreSQL alike).
    const ins = await q.query(
      `INSERT INTO field_fixes (username, fix_time, day, patrol, lng, lat, accuracy_m, phone_time, received_at,
                                clock_skew_ms, clock_flagged, grid)
       SELECT $1, to_timestamp(t / 1000.0), d::date, $2, lng, lat, acc, $3, $4, $5, $6, g
       FROM unnest($7::double precision[], $8::text[], $9::double precision[], $10::double precision[],
                   $11::real[], $12::text[]) AS x(t, d, lng, lat, acc, g)
       ON CONFLICT (username, fix_time) DO NOTHING RETURNING 1`,
      [
        username,
        batch.patrol,
        new Date(times.sentAt),
        new Date(times.receivedAt),
        skewMs,
        flagged,
        kept.map((f) => f.t),
        kept.map((f) => localDay(f.t)),
        kept.map((f) => f.lng),
        kept.map((f) => f.lat),
        kept.map((f) => f.accuracyM),
        kept.map((f) => deps.gridAt(f.lng, f.lat)),
      ],
    );
    accepted = ins.rows.length;
  }
  return {
    /** Fixes stored now (thinned out and already stored ones are not). */
    accepted,
    /** Thinned out (standing still, poor accuracy, repeats within the batch). */
    dropped: batch.fixes.length - kept.length,
    clockSkewMs: skewMs,
    clockFlagged: flagged,
  };
}

export interface PatrolSummary extends PatrolDay {
  worker: string;
  name: string;
  day: string;
  /** The grid the worker is assigned (scope), whose coverage is measured. */
  grid: string | null;
  reports: number;
  /** Fixes sent from a phone whose clock was more than two minutes off. */
  clockFlagged: number;
}

async function dayFixes(q: Queryable, username: string, day: string): Promise<(Fix & { flagged: boolean })[]> {
  const r = await q.query<{
    fix_time: Date | string;
    lng: number;
    lat: number;
    accuracy_m: number | null;
    clock_flagged: boolean;
  }>(
    `SELECT fix_time, lng, lat, accuracy_m, clock_flagged FROM field_fixes WHERE username = $1 AND day = $2::date ORDER BY fix_time`,
    [username, day],
  );
  return r.rows.map((x) => ({
    t: new Date(x.fix_time).getTime(),
    lng: Number(x.lng),
    lat: Number(x.lat),
    accuracyM: x.accuracy_m === null ? null : Number(x.accuracy_m),
    flagged: !!x.clock_flagged,
  }));
}

/** One worker's day: distance, duration, gaps, coverage of the assigned grid, reports made. */
export async function patrolSummary(
  deps: TrackDeps,
  user: { username: string; name: string; scopeGrid: string | null },
  day: string,
): Promise<PatrolSummary> {
  const fixes = await dayFixes(deps.db, user.username, day);
  const grid = user.scopeGrid?.trim() || null;
  const geom = grid ? deps.gridGeometry(grid) : null;
  const [from, to] = dayBounds(day);
  const reports = await deps.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM field_actions WHERE username = $1 AND kind = 'report' AND status = 201
       AND received_at >= $2 AND received_at < $3`,
    [user.username, new Date(from), new Date(to)],
  );
  return {
    worker: user.username,
    name: user.name,
    day,
    grid,
    ...patrolDay(fixes, geom),
    reports: Number(reports.rows[0]?.n ?? 0),
    clockFlagged: fixes.filter((f) => f.flagged).length,
  };
}

export interface RealTrip {
  worker: string;
  /** The worker's name, the label on the wall. */
  name: string;
  grid: string;
  gridName: string;
  /** [lng, lat] vertices. */
  path: [number, number][];
  /** Seconds since `t0` at each vertex. */
  timestamps: number[];
  simulated: false;
}

/**
 * Today's real tracks for the wall (GET /api/patrols), one trip per part between gaps, for the workers whose
 * fixes lie in `gridPrefix` (the viewer's scope; null = all).
 */
export async function realTrips(
  deps: TrackDeps & { gridName(code: string): string },
  opts: { day: string; t0: number; gridPrefix: string | null },
): Promise<RealTrip[]> {
  const r = await deps.db.query<{
    username: string;
    name: string | null;
    fix_time: Date | string;
    lng: number;
    lat: number;
    grid: string | null;
  }>(
    `SELECT f.username, u.name, f.fix_time, f.lng, f.lat, f.grid
       FROM field_fixes f LEFT JOIN users u ON u.username = f.username
      WHERE f.day = $1::date AND ($2::text IS NULL OR f.grid LIKE $2 || '%')
      ORDER BY f.username, f.fix_time`,
    [opts.day, opts.gridPrefix],
  );
  const byWorker = new Map<string, { name: string; grid: string; fixes: Fix[] }>();
  for (const x of r.rows) {
    let w = byWorker.get(x.username);
    if (!w) byWorker.set(x.username, (w = { name: x.name || x.username, grid: x.grid ?? '', fixes: [] }));
    w.fixes.push({ t: new Date(x.fix_time).getTime(), lng: Number(x.lng), lat: Number(x.lat), accuracyM: null });
    if (x.grid) w.grid = x.grid;
  }
  const trips: RealTrip[] = [];
  for (const [worker, w] of byWorker)
    for (const part of splitAtGaps(w.fixes))
      trips.push({
        worker,
        name: w.name,
        grid: w.grid,
        gridName: w.grid ? deps.gridName(w.grid) : '',
        path: part.map((f) => [f.lng, f.lat]),
        timestamps: part.map((f) => (f.t - opts.t0) / 1000),
        simulated: false,
      });
  return trips;
}
