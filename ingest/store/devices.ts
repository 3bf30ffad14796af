/** The device registry. Secrets are stored hashed (scrypt); the plain secret is returned once, at creation. */
import type { Queryable } from './db.ts';

export interface DeviceRow {
  id: string;
  kind: string;
  name: string | null;
  source: string | null;
  gateway: string | null;
  rtsp: string | null;
  /** Registered reporting interval, s (meaningful when intervalSet). */
  intervalS: number;
  /** intervalS was given at registration; otherwise the kind's liveness applies (core livenessOf). */
  intervalSet: boolean;
  location: [number, number] | null;
  grid: string | null;
  simulated: boolean;
  online: boolean;
  lastSeen: string | null;
  createdAt: string;
  /** Last observed clock skew: device time − receipt, ms (positive: the clock runs ahead). */
  clockSkewMs: number | null;
  clockSkewAt: string | null;
  /** IANA zone of the device's clock (null = the platform's TZ). */
  tz: string | null;
  /** Camera: its name inside its Frigate NVR (null = its id). */
  frigateName: string | null;
  /** Gateway (Frigate NVR): its MQTT topic_prefix (null = frigate) and HTTP API address. */
  topicPrefix: string | null;
  apiUrl: string | null;
  /** Camera alarm pushes (ISAPI/Dahua): the address and channel it names itself by. */
  ipAddress: string | null;
  channelId: number | null;
  /** What an NVR reports about itself (frigate/available, frigate/stats). */
  health: Record<string, unknown> | null;
}

export interface DeviceInsert {
  id: string;
  kind: string;
  name?: string | null;
  source?: string | null;
  gateway?: string | null;
  rtsp?: string | null;
  intervalS?: number;
  location: [number, number] | null;
  grid: string | null;
  secretHash: string | null;
  simulated?: boolean;
  tz?: string | null;
  frigateName?: string | null;
  topicPrefix?: string | null;
  apiUrl?: string | null;
  ipAddress?: string | null;
  channelId?: number | null;
}

const COLUMNS = `id, kind, name, source, gateway, rtsp, interval_s AS "intervalS", interval_set AS "intervalSet",
  lng, lat, grid, simulated, online, last_seen AS "lastSeen", created_at AS "createdAt",
  clock_skew_ms AS "clockSkewMs", clock_skew_at AS "clockSkewAt", tz, frigate_name AS "frigateName",
  topic_prefix AS "topicPrefix", api_url AS "apiUrl", ip_address AS "ipAddress", channel_id AS "channelId", health`;

type Raw = Omit<DeviceRow, 'location'> & { lng: number | null; lat: number | null };

function toRow(r: Raw): DeviceRow {
  const { lng, lat, ...rest } = r;
  return {
    ...rest,
    location: lng === null || lat === null ? null : [lng, lat],
    lastSeen: r.lastSeen ? new Date(r.lastSeen).toISOString() : null,
    createdAt: new Date(r.createdAt).toISOString(),
    clockSkewMs: r.clockSkewMs === null || r.clockSkewMs === undefined ? null : Number(r.clockSkewMs),
    clockSkewAt: r.clockSkewAt ? new Date(r.clockSkewAt).toISOString() : null,
  };
}

/** Many devices in one statement per 1,000 rows; existing ids are left as they are. */
export async function insertDevices(q: Queryable, devices: DeviceInsert[]): Promise<number> {
  let n = 0;
  // Gateways first so that children's foreign keys resolve.
  const sorted = [...devices].sort((a, b) => Number(b.kind === 'gateway') - Number(a.kind === 'gateway'));
  for (let i = 0; i < sorted.length; i += 1000) {
    const part = sorted.slice(i, i + 1000);
    const r = await q.query(
      `INSERT INTO devices (id, kind, name, source, gateway, rtsp, interval_s, lng, lat, grid, secret_hash, simulated,
                           interval_set, tz, frigate_name, topic_prefix, api_url, ip_address, channel_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                            $8::float8[], $9::float8[], $10::text[], $11::text[], $12::bool[],
                            $13::bool[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::int[])
       ON CONFLICT (id) DO NOTHING`,
      [
        part.map((d) => d.id),
        part.map((d) => d.kind),
        part.map((d) => d.name ?? null),
        part.map((d) => d.source ?? null),
        part.map((d) => d.gateway ?? null),
        part.map((d) => d.rtsp ?? null),
        part.map((d) => d.intervalS ?? 60),
        part.map((d) => d.location?.[0] ?? null),
        part.map((d) => d.location?.[1] ?? null),
        part.map((d) => d.grid),
        part.map((d) => d.secretHash),
        part.map((d) => d.simulated ?? false),
        part.map((d) => d.intervalS !== undefined),
        part.map((d) => d.tz ?? null),
        part.map((d) => d.frigateName ?? null),
        part.map((d) => d.topicPrefix ?? null),
        part.map((d) => d.apiUrl ?? null),
        part.map((d) => d.ipAddress ?? null),
        part.map((d) => d.channelId ?? null),
      ],
    );
    n += r.rowCount;
  }
  return n;
}

export async function getDevice(q: Queryable, id: string): Promise<DeviceRow | null> {
  const r = await q.query<Raw>(`SELECT ${COLUMNS} FROM devices WHERE id = $1`, [id]);
  return r.rows[0] ? toRow(r.rows[0]) : null;
}

export async function deviceSecretHash(
  q: Queryable,
  id: string,
): Promise<{ hash: string | null; kind: string } | null> {
  const r = await q.query<{ hash: string | null; kind: string }>(
    `SELECT secret_hash AS hash, kind FROM devices WHERE id = $1`,
    [id],
  );
  return r.rows[0] ?? null;
}

export async function setDeviceSecretHash(q: Queryable, id: string, hash: string): Promise<boolean> {
  const r = await q.query(`UPDATE devices SET secret_hash = $2 WHERE id = $1`, [id, hash]);
  return r.rowCount > 0;
}

export async function listDevices(
  q: Queryable,
  f: {
    kind?: string;
    gridPrefix?: string;
    gateway?: string;
    limit?: number;
    after?: string;
    /** A read-scope condition (ingest/auth/scope.ts `deviceCondition`, numbered from $6). */
    scope?: { sql: string; params: unknown[] };
  } = {},
): Promise<DeviceRow[]> {
  const r = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM devices
      WHERE ($1::text IS NULL OR kind = $1)
        AND ($2::text IS NULL OR grid LIKE $2 || '%')
        AND ($3::text IS NULL OR gateway = $3)
        AND ($4::text IS NULL OR id > $4)
        AND ${f.scope?.sql ?? 'TRUE'}
      ORDER BY id LIMIT $5`,
    [
      f.kind ?? null,
      f.gridPrefix ?? null,
      f.gateway ?? null,
      f.after ?? null,
      f.limit ?? 10000,
      ...(f.scope?.params ?? []),
    ],
  );
  return r.rows.map(toRow);
}

export async function setOnline(q: Queryable, id: string, online: boolean, at: Date): Promise<void> {
  await q.query(`UPDATE devices SET online = $2, last_seen = GREATEST(last_seen, $3) WHERE id = $1`, [id, online, at]);
}

/** Devices registered for camera alarm pushes at (ipAddress, channelId). */
export async function devicesByAddress(q: Queryable, ip: string, channel: number | null): Promise<DeviceRow[]> {
  const r = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM devices WHERE ip_address = $1 AND ($2::int IS NULL OR channel_id IS NULL OR channel_id = $2)
      ORDER BY (channel_id = $2) DESC NULLS LAST, id LIMIT 10`,
    [ip, channel],
  );
  return r.rows.map(toRow);
}

/** A Frigate NVR's camera by its Frigate name (a child registered with that frigateName, or that id). */
export async function frigateCameraOf(q: Queryable, gateway: string, name: string): Promise<DeviceRow | null> {
  const r = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM devices WHERE gateway = $1 AND COALESCE(frigate_name, id) = $2`,
    [gateway, name],
  );
  return r.rows[0] ? toRow(r.rows[0]) : null;
}
