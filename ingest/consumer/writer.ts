/**
 * Batched writers for readings and events: multi-row `unnest` inserts; `(device, seq, ts)` conflicts are
 * ignored so a redelivered message is stored once. `flush()` resolves when everything queued so far committed.
 */
import type { Queryable } from '../store/db.ts';

export interface ReadingRow {
  deviceId: string;
  seq: number | null;
  /** Device time (occurredAt), as the device claims it. */
  ts: Date;
  /** Receipt time (receivedAt), the platform's clock. */
  receivedAt: Date;
  /** null, 'clock_skew' (ts ahead of receipt) or 'late' (ts far behind receipt). */
  timeFlag: string | null;
  metrics: Record<string, number>;
  lng: number | null;
  lat: number | null;
  grid: string | null;
}

export interface EventRow {
  deviceId: string;
  seq: number | null;
  externalId: string | null;
  /** Device time (occurredAt). */
  ts: Date;
  receivedAt: Date;
  timeFlag: string | null;
  type: string;
  severity: string | null;
  lng: number | null;
  lat: number | null;
  grid: string | null;
  attrs: Record<string, unknown>;
}

export async function insertReadings(q: Queryable, rows: ReadingRow[]): Promise<number> {
  if (!rows.length) return 0;
  // Times travel as epoch ms (float8) and are converted in SQL: parsing 2 × N timestamp strings costs
  // PGlite (PostgreSQL in WASM, in this thread) more than the rest of the insert (bench ingest).
  const r = await q.query(
    `INSERT INTO readings (device_id, seq, ts, metrics, lng, lat, grid, received_at, time_flag)
     SELECT d, s, to_timestamp(t / 1000.0), m, x, y, g, to_timestamp(r / 1000.0), f
       FROM unnest($1::text[], $2::int8[], $3::float8[], $4::jsonb[], $5::float8[], $6::float8[], $7::text[],
                   $8::float8[], $9::text[]) AS u(d, s, t, m, x, y, g, r, f)
     ON CONFLICT (device_id, seq, ts) DO NOTHING`,
    [
      rows.map((x) => x.deviceId),
      rows.map((x) => x.seq),
      rows.map((x) => x.ts.getTime()),
      rows.map((x) => JSON.stringify(x.metrics)),
      rows.map((x) => x.lng),
      rows.map((x) => x.lat),
      rows.map((x) => x.grid),
      rows.map((x) => x.receivedAt.getTime()),
      rows.map((x) => x.timeFlag),
    ],
  );
  return r.rowCount;
}

/** Identity of a stored event as the writer returns it: `device \n seq \n ts(ms) \n type`. */
export const eventKey = (deviceId: string, seq: number | null, tsMs: number, type: string): string =>
  `${deviceId}\n${seq ?? ''}\n${tsMs}\n${type}`;

/**
 * Insert events; a redelivered `(device, seq, ts)` — or, without seq, `(device, type, ts)` (migration 008) —
 * is not stored again. Returns the ids of the rows actually stored, by eventKey: rules act only on these.
 */
export async function insertEvents(q: Queryable, rows: EventRow[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!rows.length) return out;
  const r = await q.query<{
    id: string | number;
    device_id: string;
    seq: string | number | null;
    ms: string | number;
    type: string;
  }>(
    `INSERT INTO events (device_id, seq, external_id, ts, type, severity, lng, lat, grid, attrs, received_at, time_flag)
     SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                          $7::float8[], $8::float8[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::text[])
     ON CONFLICT DO NOTHING
     RETURNING id, device_id, seq, (extract(epoch FROM ts) * 1000)::int8 AS ms, type`,
    [
      rows.map((x) => x.deviceId),
      rows.map((x) => x.seq),
      rows.map((x) => x.externalId),
      rows.map((x) => x.ts.toISOString()),
      rows.map((x) => x.type),
      rows.map((x) => x.severity),
      rows.map((x) => x.lng),
      rows.map((x) => x.lat),
      rows.map((x) => x.grid),
      rows.map((x) => JSON.stringify(x.attrs)),
      rows.map((x) => x.receivedAt.toISOString()),
      rows.map((x) => x.timeFlag),
    ],
  );
  for (const x of r.rows)
    out.set(eventKey(x.device_id, x.seq === null ? null : Number(x.seq), Number(x.ms), x.type), Number(x.id));
  return out;
}

export async function insertReject(
  q: Queryable,
  r: { clientId: string | null; topic: string | null; reason: string; detail?: string; payload?: string },
): Promise<void> {
  await q.query(`INSERT INTO ingest_rejects (client_id, topic, reason, detail, payload) VALUES ($1, $2, $3, $4, $5)`, [
    r.clientId,
    r.topic,
    r.reason,
    r.detail ?? null,
    r.payload ?? null,
  ]);
}
