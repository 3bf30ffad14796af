/**
 * 100,000 random and malformed payloads interleaved with valid traffic, published at QoS 1 over several
 * connections to the embedded broker (issue 4, "Faults and bad input"): no crash, every bad one rejected
 * with a reason, every valid one stored, every connection still up.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import type { Db } from '../../ingest/store/db.ts';
import { connect, count, metricValue, seededPglite, startRig, type Rig } from './helpers.ts';

const BAD = Number(process.env.FUZZ_BAD ?? 100_000);
const GOOD = Number(process.env.FUZZ_GOOD ?? 20_000);

let db: Db;
let rig: Rig;
beforeAll(async () => {
  db = await seededPglite();
  rig = await startRig(db);
});
afterAll(async () => {
  await rig?.close();
  await db?.close();
});

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Expect = 'acl' | 'too_large' | 'bad_coordinates' | 'unknown_topic' | 'bad_json' | 'schema' | 'json_or_schema';
interface Msg {
  client: number; // index into clients
  topic: string;
  payload: string | Buffer;
  expect: Expect | 'stored';
  rows?: number;
  table?: 'readings' | 'events';
}

const CLIENTS = ['d1', 'd2', 'd3', 'gw1'] as const;
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

function generate(): Msg[] {
  const rnd = prng(SEED);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (n: number) => Math.floor(rnd() * n);
  const seqs: Record<string, number> = { d1: 0, d2: 0, d3: 0, s1: 0 };
  const fcJson = fc.sample(
    fc.jsonValue().filter((v) => !(v && typeof v === 'object' && !Array.isArray(v) && 'metrics' in v)),
    { seed: SEED, numRuns: 2000 },
  );
  const T0 = 1_764_000_000_000;
  const good = (): Msg => {
    const c = int(4);
    const id = c === 3 ? 's1' : CLIENTS[c];
    const seq = ++seqs[id];
    const kind = rnd();
    if (kind < 0.7)
      return {
        client: c,
        topic: `dev/${id}/telemetry`,
        payload: JSON.stringify({
          ts: T0 + seq,
          seq,
          metrics: { temp_c: rnd() * 40, rh: rnd() * 100 },
          ...(rnd() < 0.3 ? { loc: [117 + rnd(), 39 + rnd()] } : {}),
        }),
        expect: 'stored',
        rows: 1,
        table: 'readings',
      };
    if (kind < 0.85) {
      // An array of three readings: seq, seq+1, seq+2.
      seqs[id] += 2;
      return {
        client: c,
        topic: `dev/${id}/telemetry`,
        payload: JSON.stringify(
          [0, 1, 2].map((k) => ({ ts: new Date(T0 + seq + k).toISOString(), seq: seq + k, metrics: { v: k } })),
        ),
        expect: 'stored',
        rows: 3,
        table: 'readings',
      };
    }
    return {
      client: c,
      topic: `dev/${id}/event`,
      payload: JSON.stringify({
        ts: T0 + seq,
        seq,
        type: pick(['smoke_alarm', 'fault', 'tamper', 'water_level']),
        severity: pick(['info', 'minor', 'major', 'critical']),
        attrs: { n: seq, note: 'ok' },
      }),
      expect: 'stored',
      rows: 1,
      table: 'events',
    };
  };
  const validText = () =>
    JSON.stringify({ ts: T0, seq: int(1000), metrics: { temp_c: 21.5, rh: 40 }, loc: [117.2, 39.1] });
  const bad = (): Msg => {
    const c = int(4);
    const own = c === 3 ? pick(['s1', 'gw1']) : CLIENTS[c];
    const r = rnd();
    const t = `dev/${own}/telemetry`;
    if (r < 0.15) {
      const n = int(200);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return { client: c, topic: t, payload: b, expect: 'json_or_schema' };
    }
    if (r < 0.3) {
      const s = validText();
      return { client: c, topic: t, payload: s.slice(0, 1 + int(s.length - 1)), expect: 'bad_json' };
    }
    if (r < 0.36) {
      const depth = 10 + int(5000);
      return { client: c, topic: t, payload: '['.repeat(depth) + ']'.repeat(depth), expect: 'schema' };
    }
    if (r < 0.4) {
      let attrs: unknown = 1;
      for (let i = 0; i < 9 + int(50); i++) attrs = { a: attrs };
      return {
        client: c,
        topic: `dev/${own}/event`,
        payload: JSON.stringify({ ts: T0, type: 'fault', attrs }),
        expect: 'schema',
      };
    }
    if (r < 0.41) {
      const n = 1001 + int(500);
      return {
        client: c,
        topic: t,
        payload: JSON.stringify(Array.from({ length: n }, (_, i) => ({ ts: T0, seq: i, metrics: { a: 1 } }))),
        expect: 'schema',
      };
    }
    if (r < 0.47) {
      if (r < 0.44)
        return {
          client: c,
          topic: t,
          payload: JSON.stringify(Array.from({ length: 2 + int(2000) }, () => rnd())),
          expect: 'schema',
        };
      return {
        client: c,
        topic: t,
        payload: JSON.stringify({
          ts: T0,
          metrics: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, i])),
        }),
        expect: 'schema',
      };
    }
    if (r < 0.55) {
      const variants = [
        `{"ts": ${T0}, "metrics": {"a": NaN}}`,
        `{"ts": ${T0}, "metrics": {"a": Infinity}}`,
        `{"ts": NaN, "metrics": {"a": 1}}`,
      ];
      return { client: c, topic: t, payload: pick(variants), expect: 'bad_json' };
    }
    if (r < 0.65) {
      const variants = [
        { ts: T0, metrics: { a: '12' } },
        { ts: T0, metrics: { a: 'NaN' } },
        { ts: 'NaN', metrics: { a: 1 } },
        { ts: T0, seq: '5', metrics: { a: 1 } },
        { ts: T0, seq: 1.5, metrics: { a: 1 } },
        { ts: T0, seq: -3, metrics: { a: 1 } },
        { ts: T0, metrics: { a: null } },
        { ts: T0, metrics: [1, 2] },
        { ts: T0, metrics: { a: 1 }, loc: ['117', 39] },
        { ts: T0, metrics: { a: 1 }, loc: [117] },
        { metrics: { a: 1 } },
        { ts: T0, metrics: { a: 1e308 * 10 } },
        { ts: '2026-13-45T99:99:99Z', metrics: { a: 1 } },
        { ts: T0, metrics: { ['k\u0000']: 1 } },
      ];
      return { client: c, topic: t, payload: JSON.stringify(pick(variants)), expect: 'schema' };
    }
    if (r < 0.72) {
      const loc = pick([
        [180.0001, 0],
        [-181, 10],
        [10, 90.5],
        [10, -91],
        [1e9, -1e9],
      ]);
      return {
        client: c,
        topic: pick([t, `dev/${own}/event`]),
        payload: JSON.stringify({ ts: T0, type: 'fault', metrics: { a: 1 }, loc }),
        expect: 'bad_coordinates',
      };
    }
    if (r < 0.85) {
      const other = pick(
        ['d4', 'c2', 'gw2', 'nobody', ...CLIENTS.filter((x) => x !== CLIENTS[c])].filter(
          (x) => x !== own && !(c === 3 && x === 's1'),
        ),
      );
      return {
        client: c,
        topic: `dev/${other}/${pick(['telemetry', 'event', 'status'])}`,
        payload: validText(),
        expect: 'acl',
      };
    }
    if (r < 0.88) {
      return {
        client: c,
        topic: pick([`dev/${own}/cmd`, 'foo/bar', `dev/${own}`, 'frigate', `dev/${own}/telemetry/x`]),
        payload: validText(),
        expect: 'unknown_topic',
      };
    }
    if (r < 0.8805) {
      return { client: c, topic: t, payload: Buffer.alloc(256 * 1024 + 1 + int(64 * 1024), 0x20), expect: 'too_large' };
    }
    const v = pick(fcJson);
    return { client: c, topic: t, payload: JSON.stringify(v) ?? 'null', expect: 'schema' };
  };
  const out: Msg[] = [];
  let g = 0;
  let b = 0;
  while (g < GOOD || b < BAD) {
    if (b < BAD && (g >= GOOD || rnd() < BAD / (BAD + GOOD))) {
      out.push(bad());
      b++;
    } else {
      out.push(good());
      g++;
    }
  }
  return out;
}

it(`${BAD} malformed payloads interleaved with ${GOOD} valid ones: all bad rejected with a reason, all valid stored`, async () => {
  const msgs = generate();
  const clients: MqttClient[] = await Promise.all(CLIENTS.map((id) => connect(rig.url, id)));
  let closed = 0;
  for (const c of clients) c.on('close', () => closed++);
  // Each connection publishes its own share in order, with up to WINDOW unacknowledged QoS 1 messages.
  const WINDOW = 500;
  await Promise.all(
    clients.map(async (c, i) => {
      const mine = msgs.filter((m) => m.client === i);
      let next = 0;
      const worker = async () => {
        while (next < mine.length) {
          const m = mine[next++];
          await c.publishAsync(m.topic, m.payload, { qos: 1 });
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, worker));
    }),
  );
  expect(closed).toBe(0);
  expect(clients.every((c) => c.connected)).toBe(true);

  const want: Record<string, number> = {};
  for (const m of msgs) want[m.expect] = (want[m.expect] ?? 0) + 1;
  const got = async (reason: string) => metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total', { reason });
  for (const reason of ['acl', 'too_large', 'bad_coordinates', 'unknown_topic'] as const)
    expect(await got(reason), reason).toBe(want[reason] ?? 0);
  expect((await got('bad_json')) + (await got('schema'))).toBe(
    (want.bad_json ?? 0) + (want.schema ?? 0) + (want.json_or_schema ?? 0),
  );
  expect(await got('bad_json')).toBeGreaterThanOrEqual(want.bad_json ?? 0);
  expect(await got('schema')).toBeGreaterThanOrEqual(want.schema ?? 0);
  expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total')).toBe(BAD);

  const readings = msgs.filter((m) => m.table === 'readings').reduce((s, m) => s + m.rows!, 0);
  const events = msgs.filter((m) => m.table === 'events').length;
  expect(await count(db, `SELECT count(*) n FROM readings`)).toBe(readings);
  expect(await count(db, `SELECT count(*) n FROM events`)).toBe(events);
  expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_stored_total')).toBe(GOOD);
  expect(await metricValue(rig.registry, 'onegrid_mqtt_messages_in_total')).toBe(BAD + GOOD);
  expect(rig.ingest.queueDepth).toBe(0);

  // The reject log has the reasons, and its retention bound holds.
  await rig.ingest.flushRejects();
  const n = await count(db, `SELECT count(*) n FROM ingest_rejects`);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(10_000 + 1000);
  const reasons = await db.query<{ reason: string }>(`SELECT DISTINCT reason FROM ingest_rejects`);
  expect(reasons.rows.map((r) => r.reason).sort()).toEqual(
    expect.arrayContaining(['acl', 'bad_coordinates', 'bad_json', 'schema', 'unknown_topic']),
  );
  await Promise.all(clients.map((c) => c.endAsync()));
}, 180_000);
