/**
 * Embedded mode end to end, with real parts: aedes on TCP, the ingest hooks, PGlite, mqtt.js clients.
 * Authentication at CONNECT, the topic ACL, rejects, idempotent redelivery, PUBACK after commit,
 * status and Last Will, Frigate events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import mqtt from 'mqtt';
import type { Db } from '../../ingest/store/db.ts';
import { listRejects } from '../../ingest/store/ingest.ts';
import {
  SECRETS,
  connect,
  count,
  faultyDb,
  metricValue,
  seededPglite,
  startRig,
  waitFor,
  type Rig,
} from './helpers.ts';

let base: Db;
let fault: ReturnType<typeof faultyDb>;
let rig: Rig;
const statuses: [string, boolean][] = [];
const eventsSeen: string[] = [];

beforeAll(async () => {
  base = await seededPglite();
  fault = faultyDb(base);
  rig = await startRig(fault.db, {
    onDeviceStatus: (id, online) => statuses.push([id, online]),
    onEvents: (rows) => eventsSeen.push(...rows.map((r) => `${r.deviceId}:${r.type}:${r.deviceKind}`)),
  });
});
afterAll(async () => {
  await rig?.close();
  await base?.close();
});

const tel = (seq: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ts: 1_764_000_000_000 + seq, seq, metrics: { temp_c: 20 + (seq % 10) }, ...extra });

function refusal(url: string, username: string, password: string): Promise<string> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: username, username, password, reconnectPeriod: 0, protocolVersion: 4 });
    c.once('connect', () => {
      c.end(true);
      resolve('connected');
    });
    c.once('error', (e) => {
      c.end(true);
      resolve(String((e as Error & { code?: number }).code ?? e.message));
    });
  });
}

describe('authentication at CONNECT', () => {
  it('refuses a wrong secret, an unknown id and a missing password with CONNACK 5 (not authorized)', async () => {
    expect(await refusal(rig.url, 'd1', 'wrong-secret')).toBe('5');
    expect(await refusal(rig.url, 'nobody', 'whatever')).toBe('5');
    expect(await refusal(rig.url, 'd1', '')).toBe('5');
    // …and still refuses after the failure was cached, and accepts the right secret.
    expect(await refusal(rig.url, 'd1', 'wrong-secret')).toBe('5');
    expect(await refusal(rig.url, 'd1', SECRETS.d1)).toBe('connected');
  });
});

describe('topic ACL', () => {
  it('refuses a device publishing under another device, drops it, keeps the connection', async () => {
    const d1 = await connect(rig.url, 'd1');
    const before = await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' });
    await d1.publishAsync('dev/d2/telemetry', tel(1), { qos: 1 });
    expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' })).toBe(before + 1);
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd2'`)).toBe(0);
    // The connection goes on: its own message is stored.
    await d1.publishAsync('dev/d1/telemetry', tel(1), { qos: 1 });
    expect(d1.connected).toBe(true);
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd1' AND seq = 1`)).toBe(1);
    await rig.ingest.flushRejects();
    const rejects = await listRejects(base, { limit: 10 });
    expect(rejects.find((r) => r.topic === 'dev/d2/telemetry')).toMatchObject({
      reason: 'acl',
      clientId: d1.options.clientId,
    });
    await d1.endAsync();
  });

  it('lets a gateway publish for its children only', async () => {
    const gw = await connect(rig.url, 'gw1');
    await gw.publishAsync('dev/s1/telemetry', tel(7), { qos: 1 });
    await gw.publishAsync('dev/gw1/telemetry', tel(7), { qos: 1 });
    await gw.publishAsync('dev/d3/telemetry', tel(7), { qos: 1 }); // not its child
    await gw.publishAsync('dev/c2/telemetry', tel(7), { qos: 1 }); // another gateway's child
    expect(await count(base, `SELECT count(*) n FROM readings WHERE seq = 7 ORDER BY 1`)).toBe(2);
    expect(await count(base, `SELECT count(*) n FROM readings WHERE seq = 7 AND device_id IN ('s1', 'gw1')`)).toBe(2);
    await gw.endAsync();
  });

  it('does not forward a refused publish to subscribers', async () => {
    const d1 = await connect(rig.url, 'd1');
    const gw = await connect(rig.url, 'gw1');
    const got: string[] = [];
    d1.on('message', (t, p) => got.push(`${t} ${p}`));
    await d1.subscribeAsync('dev/d1/#', { qos: 1 });
    // Another device's namespace: SUBACK failure (0x80), not a disconnect.
    await expect(d1.subscribeAsync('dev/d2/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(d1.connected).toBe(true);
    await gw.publishAsync('dev/d1/telemetry', tel(50), { qos: 1 }); // refused: d1 is not gw1's child
    await d1.publishAsync('dev/d1/telemetry', tel(51), { qos: 1 }); // accepted and forwarded
    await waitFor(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([`dev/d1/telemetry ${tel(51)}`]);
    await Promise.all([d1.endAsync(), gw.endAsync()]);
  });
});

describe('validation', () => {
  it('rejects each kind of bad message with its reason and stores none of them', async () => {
    const d2 = await connect(rig.url, 'd2');
    const cases: [string, string | Buffer, string][] = [
      ['dev/d2/telemetry', '{"ts": 1, "seq": 1, "metrics": {"a": 1}', 'bad_json'],
      ['dev/d2/telemetry', Buffer.from([0xff, 0x00, 0x13]), 'bad_json'],
      ['dev/d2/telemetry', '{"ts": 1, "seq": 1, "metrics": {"a": "NaN"}}', 'schema'],
      ['dev/d2/telemetry', '{"ts": 1, "seq": -1, "metrics": {"a": 1}}', 'schema'],
      ['dev/d2/telemetry', '{"ts": "yesterday", "metrics": {"a": 1}}', 'schema'],
      ['dev/d2/telemetry', '{"ts": 1, "metrics": {"a": 1e999}}', 'schema'],
      ['dev/d2/telemetry', '{"ts": 1, "metrics": {"a\\u0000": 1}}', 'schema'],
      ['dev/d2/telemetry', '{"ts": 1, "metrics": {"a": 1}, "loc": [181, 0]}', 'bad_coordinates'],
      ['dev/d2/event', '{"ts": 1, "type": "fire_alarm", "loc": [0, -90.5]}', 'bad_coordinates'],
      ['dev/d2/event', '{"ts": 1, "type": "fire_alarm", "attrs": {"x": "\\ud800"}}', 'schema'],
      ['dev/d2/event', '{"ts": 1, "type": "fire_alarm", "severity": "apocalyptic"}', 'schema'],
      ['dev/d2/status', 'maybe', 'schema'],
      ['dev/d2/telemetry', Buffer.alloc(256 * 1024 + 1, 32), 'too_large'],
      ['dev/d2/whatever', '{}', 'unknown_topic'],
      ['something/else', '{}', 'unknown_topic'],
    ];
    const before: Record<string, number> = {};
    for (const [, , reason] of cases)
      before[reason] ??= await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason });
    for (const [topic, payload] of cases) await d2.publishAsync(topic, payload, { qos: 1 });
    const want: Record<string, number> = {};
    for (const [, , reason] of cases) want[reason] = (want[reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(want))
      expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason }), reason).toBe(
        before[reason] + n,
      );
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd2'`)).toBe(0);
    expect(await count(base, `SELECT count(*) n FROM events WHERE device_id = 'd2'`)).toBe(0);
    // A good message after all that is stored, on the same connection.
    await d2.publishAsync(
      'dev/d2/telemetry',
      JSON.stringify([
        { ts: '2026-11-24T10:00:00Z', seq: 9, metrics: { a: 1 } },
        { ts: '2026-11-24T10:00:01+08:00', seq: 10, metrics: { a: 2 }, loc: [117.3, 39.2] },
      ]),
      { qos: 1 },
    );
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd2'`)).toBe(2);
    const r = await base.query<{ grid: string; lng: number }>(
      `SELECT grid, lng FROM readings WHERE device_id = 'd2' AND seq = 10`,
    );
    expect(r.rows[0]).toMatchObject({ grid: '120106001001002', lng: 117.3 });
    await rig.ingest.flushRejects();
    const rows = await listRejects(base, { limit: 100, reason: 'too_large' });
    expect(rows[0].detail).toContain('262145 bytes');
    await d2.endAsync();
  });
});

describe('MQTT over WebSocket', () => {
  it('applies the same authentication and ACL', async () => {
    const http = createServer();
    http.on('upgrade', (req, socket, head) => rig.broker.handleUpgrade(req, socket, head));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const port = (http.address() as { port: number }).port;
    const wsUrl = `ws://127.0.0.1:${port}/mqtt`;
    try {
      expect(await refusal(wsUrl, 'd1', 'wrong-secret')).toBe('5');
      const d1 = await connect(wsUrl, 'd1');
      const before = await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' });
      await d1.publishAsync('dev/d1/telemetry', tel(300), { qos: 1 });
      await d1.publishAsync('dev/d3/telemetry', tel(300), { qos: 1 });
      expect(await count(base, `SELECT count(*) n FROM readings WHERE seq = 300`)).toBe(1);
      expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' })).toBe(
        before + 1,
      );
      await d1.endAsync();
    } finally {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});

describe('packet size', () => {
  it('closes a connection that sends a packet over the hard limit; others go on', async () => {
    const d3 = await connect(rig.url, 'd3');
    const d1 = await connect(rig.url, 'd1');
    const closed = new Promise<void>((r) => d3.once('close', () => r()));
    d3.publish('dev/d3/telemetry', Buffer.alloc(2 * 1024 * 1024, 32), { qos: 1 });
    await closed;
    await d1.publishAsync('dev/d1/telemetry', tel(77), { qos: 1 });
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd1' AND seq = 77`)).toBe(1);
    d3.end(true);
    await d1.endAsync();
  });
});

describe('delivery', () => {
  it('stores a redelivered (device, seq) once', async () => {
    const d3 = await connect(rig.url, 'd3');
    const p = tel(100);
    await d3.publishAsync('dev/d3/telemetry', p, { qos: 1 });
    await d3.publishAsync('dev/d3/telemetry', p, { qos: 1, dup: true });
    await d3.endAsync();
    const again = await connect(rig.url, 'd3');
    await again.publishAsync('dev/d3/telemetry', p, { qos: 1, dup: true });
    expect(await count(base, `SELECT count(*) n FROM readings WHERE device_id = 'd3' AND seq = 100`)).toBe(1);
    await again.endAsync();
  });

  it('sends the QoS 1 PUBACK only after the batch committed', async () => {
    const d4 = await connect(rig.url, 'd4');
    fault.hold();
    let acked = 0;
    const t0 = Date.now();
    const done = d4
      .publishAsync('dev/d4/event', JSON.stringify({ ts: t0, seq: 1, type: 'fire_alarm', severity: 'critical' }), {
        qos: 1,
      })
      .then(() => {
        acked = Date.now();
      });
    await new Promise((r) => setTimeout(r, 400));
    expect(acked).toBe(0); // commit held: no PUBACK
    expect(await count(base, `SELECT count(*) n FROM events WHERE device_id = 'd4'`)).toBe(0);
    const releasedAt = Date.now();
    fault.release();
    await done;
    expect(acked).toBeGreaterThanOrEqual(releasedAt);
    const commitAt = fault.committed.find((t) => t >= releasedAt)!;
    expect(acked).toBeGreaterThanOrEqual(commitAt);
    expect(await count(base, `SELECT count(*) n FROM events WHERE device_id = 'd4'`)).toBe(1);
    expect(eventsSeen).toContain('d4:fire_alarm:sensor');
    await d4.endAsync();
  });

  it('keeps the order of a device’s messages', async () => {
    const d1 = await connect(rig.url, 'd1');
    const n = 500;
    await Promise.all(
      Array.from({ length: n }, (_, i) => d1.publishAsync('dev/d1/telemetry', tel(1000 + i), { qos: 1 })),
    );
    const r = await base.query<{ seq: string }>(
      `SELECT seq FROM readings WHERE device_id = 'd1' AND seq >= 1000 ORDER BY received_at, ctid`,
    );
    expect(r.rows.map((x) => Number(x.seq))).toEqual(Array.from({ length: n }, (_, i) => 1000 + i));
    await d1.endAsync();
  });
});

describe('status and Last Will', () => {
  it('marks a device online from dev/{id}/status and offline from its Last Will', async () => {
    const d2 = await connect(rig.url, 'd2', SECRETS.d2, {
      will: { topic: 'dev/d2/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await d2.publishAsync('dev/d2/status', 'online', { qos: 1, retain: true });
    expect((await base.query<{ online: boolean }>(`SELECT online FROM devices WHERE id = 'd2'`)).rows[0].online).toBe(
      true,
    );
    d2.stream.destroy(); // ungraceful: the broker publishes the will
    await waitFor(
      async () => !(await base.query<{ online: boolean }>(`SELECT online FROM devices WHERE id = 'd2'`)).rows[0].online,
    );
    expect(statuses).toContainEqual(['d2', true]);
    expect(statuses).toContainEqual(['d2', false]);
    const ls = await base.query<{ last_seen: Date | null }>(`SELECT last_seen FROM devices WHERE id = 'd2'`);
    expect(ls.rows[0].last_seen).not.toBeNull();
  });
});

describe('Frigate', () => {
  const frigate = (type: string, camera: string, score: number, end: number | null = null) =>
    JSON.stringify({
      type,
      before: {},
      after: {
        id: '1700000000.5-abc',
        camera,
        label: 'fire',
        score,
        top_score: score,
        start_time: 1_700_000_000.5,
        end_time: end,
      },
    });

  it('folds new/update/end of one Frigate event into one ai_detection of the camera', async () => {
    const gw = await connect(rig.url, 'gw1');
    await gw.publishAsync('frigate/events', frigate('new', 'c1', 0.61), { qos: 1 });
    await gw.publishAsync('frigate/events', frigate('update', 'c1', 0.83), { qos: 1 });
    await gw.publishAsync('frigate/events', frigate('end', 'c1', 0.83, 1_700_000_030), { qos: 1 });
    const r = await base.query<{ n: string; attrs: Record<string, unknown>; ts: Date; type: string }>(
      `SELECT count(*) OVER () n, attrs, ts, type FROM events WHERE device_id = 'c1'`,
    );
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].type).toBe('ai_detection');
    expect(r.rows[0].attrs).toMatchObject({
      label: 'fire',
      score: 0.83,
      camera: 'c1',
      frigateId: '1700000000.5-abc',
      phase: 'end',
    });
    expect(new Date(r.rows[0].ts).getTime()).toBe(1_700_000_000_500);
    await gw.endAsync();
  });

  it('refuses Frigate events for cameras that are not the gateway’s children, or from devices', async () => {
    const before = await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' });
    const gw = await connect(rig.url, 'gw1');
    const d1 = await connect(rig.url, 'd1');
    await gw.publishAsync('frigate/events', frigate('new', 'c2', 0.9), { qos: 1 }); // gw2's camera
    await gw.publishAsync('frigate/events', frigate('new', 'ghost', 0.9), { qos: 1 }); // not registered
    await d1.publishAsync('frigate/events', frigate('new', 'c1', 0.9), { qos: 1 }); // not a gateway
    expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason: 'acl' })).toBe(before + 3);
    expect(await count(base, `SELECT count(*) n FROM events WHERE device_id IN ('c2', 'ghost')`)).toBe(0);
    await Promise.all([gw.endAsync(), d1.endAsync()]);
  });
});

describe('metrics', () => {
  it('exposes the ingest metrics in Prometheus text', async () => {
    const text = await rig.registry.metrics();
    for (const name of [
      'onegrid_mqtt_messages_in_total',
      'onegrid_mqtt_messages_stored_total',
      'onegrid_mqtt_messages_rejected_total{reason="acl"}',
      'onegrid_ingest_batch_size_bucket',
      'onegrid_ingest_queue_depth',
      'onegrid_ingest_ack_latency_seconds_bucket',
    ])
      expect(text).toContain(name);
    expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_stored_total')).toBeGreaterThan(500);
  });
});
