/**
 * Issue 12 through the real embedded broker and PGlite: a QoS 1 resend with DUP and an outbox replay are
 * one stored fact (rules hear it once); a Frigate NVR under its own topic_prefix — events, reviews folded
 * into the events they group, stats and available as its health, chatter handled quietly; device times
 * stored with their receipt and flag; metrics skipped one by one, and a per-client bound on the reject log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { connect, count, seededPglite, startRig, SECRETS, waitFor, type Rig } from './helpers.ts';
import type { CommittedEventRow } from '../../ingest/consumer/index.ts';

let rig: Rig;
const heard: CommittedEventRow[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  const db = await seededPglite();
  rig = await startRig(db, { onEvents: (rows) => heard.push(...rows), options: { rejectsPerClient: 5 } });
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await rig.close();
});

/** A raw MQTT 3.1.1 session, to send the DUP flag as a resending client does (§3.3.1.1). */
async function rawSession(id: string): Promise<{ send(p: object): void; acks: number[]; close(): void }> {
  const port = Number(new URL(rig.url).port);
  const sock = net.connect(port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const acks: number[] = [];
  let connack: () => void;
  const ready = new Promise<void>((r) => (connack = r));
  parser.on('packet', (p) => {
    if (p.cmd === 'connack') connack();
    if (p.cmd === 'puback') acks.push(p.messageId!);
  });
  sock.on('data', (d) => parser.parse(d));
  const send = (p: object) => sock.write(mqttPacket.generate(p as mqttPacket.Packet));
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: `${id}:raw`,
    keepalive: 30,
    username: id,
    password: Buffer.from(SECRETS[id]),
  });
  await ready;
  return { send, acks, close: () => sock.destroy() };
}

describe('stored facts', () => {
  it('a QoS 1 resend with DUP, and a replay without seq, are stored once and heard once', async () => {
    const s = await rawSession('d1');
    const payload = Buffer.from(JSON.stringify({ ts: '2026-11-29T20:15:00+08:00', type: 'smoke_alarm' }));
    const pub = (messageId: number, dup: boolean) =>
      s.send({ cmd: 'publish', topic: 'dev/d1/event', payload, qos: 1, dup, retain: false, messageId });
    pub(7, false);
    pub(7, true); // the resend of a PUBLISH whose PUBACK the device did not see
    pub(8, false); // an outbox replay under a new packet id: same (device, type, ts)
    await waitFor(() => s.acks.length === 3);
    s.close();
    await waitFor(async () => (await count(rig.db, `SELECT count(*) AS n FROM events WHERE device_id = 'd1'`)) === 1);
    await new Promise((r) => setTimeout(r, 200));
    const mine = heard.filter((e) => e.deviceId === 'd1');
    expect(mine).toHaveLength(1);
    expect(mine[0].fresh).toBe(true);
    const row = (
      await rig.db.query<{ ts: Date; received_at: Date; time_flag: string | null }>(
        `SELECT ts, received_at, time_flag FROM events WHERE device_id = 'd1'`,
      )
    ).rows[0];
    expect(new Date(row.ts).toISOString()).toBe('2026-11-29T12:15:00.000Z');
    expect(row.received_at).toBeTruthy();
  });

  it('metrics: booleans as 0/1, a string skipped with its reason in the reject log, the rest stored', async () => {
    const c = await connect(rig.url, 'd2');
    clients.push(c);
    await c.publishAsync(
      'dev/d2/telemetry',
      JSON.stringify({ ts: Date.now(), seq: 1, metrics: { on: true, mode: 'eco', t: 1.5 } }),
      { qos: 1 },
    );
    const r = await rig.db.query<{ metrics: Record<string, number> }>(
      `SELECT metrics FROM readings WHERE device_id = 'd2'`,
    );
    expect(r.rows[0].metrics).toEqual({ on: 1, t: 1.5 });
    await rig.ingest.flushRejects();
    const rej = await rig.db.query<{ reason: string; detail: string }>(
      `SELECT reason, detail FROM ingest_rejects WHERE client_id LIKE 'd2:%'`,
    );
    expect(rej.rows).toEqual([
      { reason: 'metric_skipped', detail: '/metrics/mode: a string is not a number or boolean' },
    ]);
  });

  it('the reject log keeps at most rejectsPerClient rows of one noisy client', async () => {
    const c = await connect(rig.url, 'd3');
    clients.push(c);
    for (let i = 0; i < 50; i++) await c.publishAsync('dev/d3/telemetry', 'junk', { qos: 1 });
    await rig.ingest.flushRejects();
    expect(
      await count(rig.db, `SELECT count(*) AS n FROM ingest_rejects WHERE client_id LIKE 'd3:%'`),
    ).toBeLessThanOrEqual(5);
    expect(await count(rig.db, `SELECT count(*) AS n FROM ingest_rejects WHERE client_id LIKE 'd2:%'`)).toBe(1);
  });
});

describe('a Frigate NVR under its own topic_prefix', () => {
  it('events, reviews, stats, available and chatter', async () => {
    await rig.db.query(`UPDATE devices SET topic_prefix = 'nvr1' WHERE id = 'gw1'`);
    await rig.db.query(`UPDATE devices SET frigate_name = 'yard' WHERE id = 'c1'`);
    rig.ingest.invalidate('gw1');
    rig.ingest.invalidate('c1');
    const gw = await connect(rig.url, 'gw1');
    clients.push(gw);
    const obj = {
      id: '1795954540.1-abc',
      camera: 'yard',
      label: 'fire',
      start_time: 1795954540.1,
      top_score: 0.8,
      has_snapshot: true,
    };
    await gw.publishAsync('nvr1/events', JSON.stringify({ type: 'new', after: obj }), { qos: 1 });
    await gw.publishAsync('nvr1/events', JSON.stringify({ type: 'update', after: { ...obj, top_score: 0.9 } }), {
      qos: 1,
    });
    await gw.publishAsync(
      'nvr1/reviews',
      JSON.stringify({
        type: 'new',
        after: { id: 'rev-1', camera: 'yard', severity: 'alert', data: { detections: [obj.id] } },
      }),
      { qos: 1 },
    );
    await gw.publishAsync(
      'nvr1/stats',
      JSON.stringify({ detectors: { cpu1: { inference_speed: 30 } }, service: { uptime: 9 } }),
      { qos: 1 },
    );
    await gw.publishAsync('nvr1/available', 'online', { qos: 1, retain: true });
    await gw.publishAsync('nvr1/yard/motion', 'ON', { qos: 1, retain: true });
    await gw.publishAsync('frigate/events', JSON.stringify({ type: 'new', after: obj }), { qos: 1 });
    const ev = await rig.db.query<{ device_id: string; attrs: Record<string, unknown> }>(
      `SELECT device_id, attrs FROM events WHERE external_id = $1`,
      [obj.id],
    );
    expect(ev.rows).toHaveLength(1);
    expect(ev.rows[0].device_id).toBe('c1');
    expect(ev.rows[0].attrs).toMatchObject({
      score: 0.9,
      nvr: 'gw1',
      camera: 'yard',
      review: { id: 'rev-1', severity: 'alert' },
    });
    const fromC1 = heard.filter((e) => e.deviceId === 'c1');
    expect(fromC1.map((e) => e.fresh)).toEqual([true, false]);
    await waitFor(async () => {
      const h = await rig.db.query<{ health: { online?: boolean; stats?: unknown } | null; online: boolean }>(
        `SELECT health, online FROM devices WHERE id = 'gw1'`,
      );
      return h.rows[0].health?.online === true && !!h.rows[0].health?.stats && h.rows[0].online;
    });
    await rig.ingest.flushRejects();
    const rej = await rig.db.query<{ topic: string; reason: string }>(
      `SELECT topic, reason FROM ingest_rejects WHERE client_id LIKE 'gw1:%'`,
    );
    // Only the topic outside its prefix is refused.
    expect(rej.rows).toEqual([{ topic: 'frigate/events', reason: 'unknown_topic' }]);
  });
});
