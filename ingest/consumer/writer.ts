/**
 * Batched writers for readings and events: multi-row `unnest` inserts; `(device, seq, ts)` conflicts are
 * ignored so a redelivered message is stored once. `flush()` resolves when everything queued so far committed.
 */
import type { Queryable } from '../store/db.ts';

export interface ReadingRow {
  deviceId: string;
  seq: number | null;
  ts: Date;
  metrics: Record<string, number>;
  lng: number | null;
  lat: number | null;
  grid: string | null;
}

export interface EventRow {
  deviceId: string;
  seq: number | null;
  externalId: string | null;
  ts: Date;
  type: string;
  severity: string | null;
  lng: number | null;
  lat: number | null;
  grid: string | null;
  attrs: Record<string, unknown>;
}

export async function insertReadings(q: Queryable, rows: ReadingRow[]): Promise<number> {
  if (!rows.length) return 0;
  const r = await q.query(
    `INSERT INTO readings (device_id, seq, ts, metrics, lng, lat, grid)
     SELECT * FROM unnest($1::text[], $2::int8[], $3::timestamptz[], $4::jsonb[], $5::float8[], $6::float8[], $7::text[])
     ON CONFLICT (device_id, seq, ts) DO NOTHING`,
    [
      rows.map((x) => x.deviceId),
      rows.map((x) => x.seq),
      rows.map((x) => x.ts.toISOString()),
      rows.map((x) => JSON.stringify(x.metrics)),
      rows.map((x) => x.lng),
      rows.map((x) => x.lat),
      rows.map((x) => x.grid),
    ],
  );
  return r.rowCount;
}

export async function insertEvents(q: Queryable, rows: EventRow[]): Promise<number> {
  if (!rows.length) return 0;
  const r = await q.query(
    `INSERT INTO events (device_id, seq, external_id, ts, type, severity, lng, lat, grid, attrs)
     SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                          $7::float8[], $8::float8[], $9::text[], $10::jsonb[])
     ON CONFLICT DO NOTHING`,
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
    ],
  );
  return r.rowCount;
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
