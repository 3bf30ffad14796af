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
