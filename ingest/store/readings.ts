/** Reading queries for charts. Bucketing is plain SQL so it runs on PGlite and PostgreSQL alike. */
import type { Queryable } from './db.ts';

export interface SeriesPoint {
  t: string;
  avg: number;
  min: number;
  max: number;
  n: number;
}

export async function readingSeries(
  q: Queryable,
  deviceId: string,
  metric: string,
  from: Date,
  to: Date,
  bucketS: number,
): Promise<SeriesPoint[]> {
  const r = await q.query<{ b: number; avg: number; min: number; max: number; n: number }>(
    `SELECT floor(extract(epoch FROM ts) / $5) * $5 AS b,
            avg((metrics ->> $2)::float8) AS avg, min((metrics ->> $2)::float8) AS min,
            max((metrics ->> $2)::float8) AS max, count(*)::int AS n
       FROM readings
      WHERE device_id = $1 AND ts >= $3 AND ts < $4 AND metrics ? $2
      GROUP BY b ORDER BY b`,
    [deviceId, metric, from, to, bucketS],
  );
  return r.rows.map((x) => ({
    t: new Date(Number(x.b) * 1000).toISOString(),
    avg: Number(x.avg),
    min: Number(x.min),
    max: Number(x.max),
    n: Number(x.n),
  }));
}

/**
 * The metric names a device has reported, from its latest `sample` readings (newest first by count), so that
 * a page offers what the device sends instead of a hard-coded list per kind.
 */
export async function readingMetrics(q: Queryable, deviceId: string, sample = 500): Promise<string[]> {
  const r = await q.query<{ k: string; n: number }>(
    `SELECT k, count(*)::int AS n
       FROM (SELECT metrics FROM readings WHERE device_id = $1 ORDER BY ts DESC LIMIT $2) latest,
            jsonb_object_keys(latest.metrics) AS k
      GROUP BY k ORDER BY n DESC, k`,
    [deviceId, sample],
  );
  return r.rows.map((x) => x.k);
}

export interface RawReading {
  ts: string;
  receivedAt: string;
  seq: number | null;
  metrics: Record<string, unknown>;
}

/** A device's readings in [from, to), oldest first, at most `limit` (for the CSV download). */
export async function rawReadings(
  q: Queryable,
  deviceId: string,
  from: Date,
  to: Date,
  limit: number,
): Promise<RawReading[]> {
  const r = await q.query<{
    ts: Date | string;
    received_at: Date | string;
    seq: string | number | null;
    metrics: Record<string, unknown>;
  }>(
    `SELECT ts, received_at, seq, metrics FROM readings
      WHERE device_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts LIMIT $4`,
    [deviceId, from, to, limit],
  );
  return r.rows.map((x) => ({
    ts: new Date(x.ts).toISOString(),
    receivedAt: new Date(x.received_at).toISOString(),
    seq: x.seq === null ? null : Number(x.seq),
    metrics: x.metrics,
  }));
}
