/**
 * Store queries of the ingest consumer: the reject log (bounded retention), Frigate detections (one event
 * per Frigate id, upserted), coalesced last-seen and online updates, and the registry view the consumer
 * caches. Each function is one named query.
 */
import type { Queryable } from './db.ts';
import type { EventRow } from '../consumer/writer.ts';

export interface RejectInsert {
  at: Date;
  clientId: string | null;
  topic: string | null;
  reason: string;
  detail: string | null;
  payload: string | null;
}

export interface RejectRow {
  id: number;
  at: string;
  clientId: string | null;
  topic: string | null;
  reason: string;
  detail: string | null;
  payload: string | null;
}

/** Many reject-log rows in one statement. */
export async function insertRejects(q: Queryable, rows: RejectInsert[]): Promise<number> {
  if (!rows.length) return 0;
  const r = await q.query(
    `INSERT INTO ingest_rejects (at, client_id, topic, reason, detail, payload)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
    [
      rows.map((x) => x.at.toISOString()),
      rows.map((x) => x.clientId),
      rows.map((x) => x.topic),
      rows.map((x) => x.reason),
      rows.map((x) => x.detail),
      rows.map((x) => x.payload),
    ],
  );
  return r.rowCount;
}

/** The reject log, newest first; `before` is an id from a previous page (keyset pagination). */
export async function listRejects(
  q: Queryable,
  opts: {
    limit?: number;
    before?: number | null;
    reason?: string | null;
    /** Only rejects whose client id is a device matching this condition on `devices d` (numbered from $4). */
    deviceScope?: { sql: string; params: unknown[] };
  } = {},
): Promise<RejectRow[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
  const scoped = opts.deviceScope ? `AND client_id IN (SELECT d.id FROM devices d WHERE ${opts.deviceScope.sql})` : '';
  const r = await q.query<RejectRow & { id: string | number; at: Date | string }>(
    `SELECT id, at, client_id AS "clientId", topic, reason, detail, payload
       FROM ingest_rejects
      WHERE ($1::int8 IS NULL OR id < $1) AND ($2::text IS NULL OR reason = $2) ${scoped}
      ORDER BY id DESC LIMIT $3`,
    [opts.before ?? null, opts.reason ?? null, limit, ...(opts.deviceScope?.params ?? [])],
  );
  return r.rows.map((x) => ({ ...x, id: Number(x.id), at: new Date(x.at).toISOString() }));
}

/**
 * Bounded retention: keep at most `keep` rows, at most `perClient` rows of any one client (so one noisy
 * client cannot flush everyone else's), and nothing older than `maxAgeMs`. Returns rows deleted.
 */
export async function pruneRejects(
  q: Queryable,
  keep: number,
  maxAgeMs: number,
  now: Date,
  perClient = keep,
): Promise<number> {
  const r = await q.query(
    `DELETE FROM ingest_rejects
      WHERE at < $1::timestamptz
         OR id <= (SELECT id FROM ingest_rejects ORDER BY id DESC OFFSET $2 LIMIT 1)
         OR id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY client_id ORDER BY id DESC) AS n
                                     FROM ingest_rejects) x WHERE x.n > $3)`,
    [new Date(now.getTime() - maxAgeMs).toISOString(), keep, perClient],
  );
  return r.rowCount;
}

/**
 * Frigate detections: one row per (camera, Frigate id, start time); a later phase (update, end) replaces the
 * attributes of the earlier one. Callers fold a batch to one row per key first (an upsert may not touch a
 * row twice in one statement).
 */
export interface StoredDetection {
  id: number;
  /** First phase of this Frigate object stored now (false: a later phase folded into the stored event). */
  inserted: boolean;
  /** The case the stored event already belongs to (possibly rejected), null when none. */
  caseId: string | null;
}

export async function upsertDetections(q: Queryable, rows: EventRow[]): Promise<Map<string, StoredDetection>> {
  const out = new Map<string, StoredDetection>();
  if (!rows.length) return out;
  const r = await q.query<{
    id: string | number;
    device_id: string;
    external_id: string;
    inserted: boolean;
    case_id: string | null;
  }>(
    `INSERT INTO events (device_id, seq, external_id, ts, type, severity, lng, lat, grid, attrs, received_at, time_flag)
     SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                          $7::float8[], $8::float8[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::text[])
     ON CONFLICT (device_id, external_id, ts) DO UPDATE
       SET attrs = events.attrs || EXCLUDED.attrs, severity = EXCLUDED.severity
     RETURNING id, device_id, external_id, (xmax = 0) AS inserted, case_id`,
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
    out.set(`${x.device_id}\n${x.external_id}`, { id: Number(x.id), inserted: !!x.inserted, caseId: x.case_id });
  return out;
}

/**
 * `frigate/reviews`: fold a review item (its id and severity, alert or detection) into the stored events
 * of the tracked objects it groups.
 */
export async function foldReview(
  q: Queryable,
  r: { deviceId: string; reviewId: string; severity: string | null; detections: string[] },
): Promise<number> {
  if (!r.detections.length) return 0;
  const res = await q.query(
    `UPDATE events SET attrs = attrs || jsonb_build_object('review', jsonb_build_object('id', $2::text, 'severity', $3::text))
      WHERE device_id = $1 AND external_id = ANY($4::text[])`,
    [r.deviceId, r.reviewId, r.severity, r.detections],
  );
  return res.rowCount;
}

/** Link stored events to the case that now holds them (a rejected case keeps its Frigate object). */
export async function linkEventsToCase(q: Queryable, ids: number[], caseId: string): Promise<void> {
  if (!ids.length) return;
  await q.query(`UPDATE events SET case_id = $2 WHERE id = ANY($1::int8[]) AND case_id IS NULL`, [ids, caseId]);
}

/** An NVR's own health (frigate/available, frigate/stats), merged into devices.health. */
export async function mergeHealth(q: Queryable, id: string, health: Record<string, unknown>): Promise<void> {
  await q.query(`UPDATE devices SET health = COALESCE(health, '{}'::jsonb) || $2::jsonb WHERE id = $1`, [
    id,
    JSON.stringify(health),
  ]);
}

/**
 * Coalesced last-seen: one statement for many devices; never moves a last-seen time backwards. `skew`
 * carries each device's latest clock skew (device time − receipt, ms) where it sent a time.
 */
export async function touchLastSeen(
  q: Queryable,
  seen: Map<string, number>,
  skew: Map<string, number> = new Map(),
): Promise<void> {
  if (!seen.size) return;
  const ids = [...seen.keys()];
  await q.query(
    `UPDATE devices d SET last_seen = GREATEST(d.last_seen, s.at),
            clock_skew_ms = COALESCE(s.skew, d.clock_skew_ms),
            clock_skew_at = CASE WHEN s.skew IS NULL THEN d.clock_skew_at ELSE s.at END
       FROM unnest($1::text[], $2::timestamptz[], $3::int8[]) AS s(id, at, skew)
      WHERE d.id = s.id`,
    [ids, ids.map((id) => new Date(seen.get(id)!).toISOString()), ids.map((id) => skew.get(id) ?? null)],
  );
}

/** Online/offline of many devices (the last status of each), one statement. */
export async function setOnlineMany(q: Queryable, rows: { id: string; online: boolean; at: Date }[]): Promise<void> {
  if (!rows.length) return;
  await q.query(
    `UPDATE devices d SET online = s.online, last_seen = GREATEST(d.last_seen, s.at)
       FROM unnest($1::text[], $2::bool[], $3::timestamptz[]) AS s(id, online, at)
      WHERE d.id = s.id`,
    [rows.map((r) => r.id), rows.map((r) => r.online), rows.map((r) => r.at.toISOString())],
  );
}

/** What the consumer needs of a device, cached in memory. */
export interface IngestDevice {
  id: string;
  kind: string;
  gateway: string | null;
  location: [number, number] | null;
  grid: string | null;
  /** IANA zone of the device's clock (local times without offset); null = the platform's. */
  tz: string | null;
  /** A camera's name inside its Frigate NVR (null = its id). */
  frigateName: string | null;
  /** A gateway's Frigate topic_prefix (null = `frigate`). */
  topicPrefix: string | null;
}

const INGEST_COLS = `id, kind, gateway, lng, lat, grid, tz, frigate_name AS "frigateName", topic_prefix AS "topicPrefix"`;

type RawDevice = Omit<IngestDevice, 'location'> & { lng: number | null; lat: number | null };

const toIngestDevice = ({ lng, lat, ...d }: RawDevice): IngestDevice => ({
  ...d,
  location: lng === null || lat === null ? null : [lng, lat],
});

/** A device and, for a gateway, its registered children. */
export async function ingestDevicesOf(q: Queryable, id: string): Promise<IngestDevice[]> {
  const r = await q.query<RawDevice>(`SELECT ${INGEST_COLS} FROM devices WHERE id = $1 OR gateway = $1`, [id]);
  return r.rows.map(toIngestDevice);
}

/** Many devices by id (registry refresh). */
export async function ingestDevicesById(q: Queryable, ids: string[]): Promise<IngestDevice[]> {
  if (!ids.length) return [];
  const r = await q.query<RawDevice>(`SELECT ${INGEST_COLS} FROM devices WHERE id = ANY($1::text[])`, [ids]);
  return r.rows.map(toIngestDevice);
}
