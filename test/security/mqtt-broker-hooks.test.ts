/**
 * Issue 11 finding 9 — scaled mode broker security. The external broker's HTTP hooks (`POST /api/mqtt/auth`,
 * `POST /api/mqtt/acl`, EMQX 5 request/response format) on a real platform process in external-broker mode
 * (Mosquitto as MQTT_URL), checked against the embedded broker's own decisions on the same registry: every
 * case of ACL_CASES is asked over HTTP and tried with a real mqtt.js client on the embedded broker, and the
 * answers must agree. Also: both hooks refuse callers without the broker key, the auth hook applies the
 * client-id rule and the failed-CONNECT limits. (docker/compose.yml: mqtt-compose.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { CONNECT_LIMITS } from '../../ingest/broker/auth.ts';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { startMosquitto, type MosquittoHandle } from '../ingest/mosquitto.ts';
import { FLEET, connect, metricValue, seededPglite, startRig, type Rig } from '../ingest/helpers.ts';
import type { Db } from '../../ingest/store/db.ts';

const KEY = 'broker-key-for-tests-0123456789abcdef';

type Action = 'publish' | 'subscribe';
/** [principal, action, topic, allowed] — the contract's ACL, for devices and gateways of FLEET. */
const ACL_CASES: [string, Action, string, boolean][] = [
  ['d1', 'publish', 'dev/d1/telemetry', true],
  ['d1', 'publish', 'dev/d1/event', true],
  ['d1', 'publish', 'dev/d2/telemetry', false],
  ['gw1', 'publish', 'dev/gw1/telemetry', true],
  ['gw1', 'publish', 'dev/s1/event', true], // its child
  ['gw1', 'publish', 'dev/c1/telemetry', true], // its child camera
  ['gw1', 'publish', 'dev/c2/event', false], // gw2's child
  ['gw1', 'publish', 'dev/d1/telemetry', false], // not its child
  ['gw1', 'publish', 'frigate/events', true], // an NVR gateway
  ['d1', 'publish', 'frigate/events', false], // not a gateway
  ['d1', 'publish', 'onegrid/bus/case', false], // the web tiers' bus
  ['d1', 'subscribe', 'dev/d1/#', true],
  ['gw1', 'subscribe', 'dev/c1/status', true],
  ['gw1', 'subscribe', 'dev/c2/status', false],
  ['d1', 'subscribe', 'dev/d2/telemetry', false],
  ['d1', 'subscribe', 'dev/+/telemetry', false],
  ['d1', 'subscribe', '#', false],
  ['d1', 'subscribe', 'frigate/events', false],
  ['d1', 'subscribe', '$share/g/dev/d1/telemetry', false],
];

const frigateEvent = (camera: string) =>
  JSON.stringify({
    type: 'new',
    before: {},
    after: { id: `17000.5-${camera}`, camera, label: 'fire', score: 0.9, top_score: 0.9, start_time: 1_700_000_000.5 },
  });
const payloadFor = (topic: string) =>
  topic === 'frigate/events'
    ? frigateEvent('c1')
    : topic.endsWith('/event')
      ? JSON.stringify({ ts: Date.now(), seq: 1, type: 'fault' })
      : JSON.stringify({ ts: Date.now(), seq: 1, metrics: { t: 1 } });

let mosq: MosquittoHandle;
let p: PlatformHandle;
let dataDir: string;
const secrets: Record<string, string> = {};
let db: Db;
let rig: Rig;

async function hook(
  name: 'auth' | 'acl',
  body: Record<string, unknown>,
  key: string | null = KEY,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['x-onegrid-broker-key'] = key;
  const r = await fetch(`${p.url}/api/mqtt/${name}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  mosq = await startMosquitto();
  dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-hooks-'));
  p = await startPlatformProcess({ dataDir, env: { MQTT_URL: mosq.url, MQTT_SERVICE_SECRET: KEY, DEMO: '0' } });
  const auth = { authorization: `Bearer ${await p.login()}`, 'content-type': 'application/json' };
  // The same registry as the embedded rig (FLEET): gateways first, then their children.
  for (const d of [...FLEET].sort((a, b) => Number(!!a.gateway) - Number(!!b.gateway))) {
    const r = await fetch(`${p.url}/api/devices`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        id: d.id,
        kind: d.kind,
        location: d.location ?? [117.2, 39.1],
        ...(d.gateway ? { gateway: d.gateway } : {}),
      }),
    });
    expect([d.id, r.status]).toEqual([d.id, 201]);
    secrets[d.id] = ((await r.json()) as { secret: string }).secret;
  }
  db = await seededPglite();
  rig = await startRig(db);
}, 180_000);
afterAll(async () => {
  await rig?.close();
  await db?.close();
  await p?.stop();
  await mosq?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('protection', () => {
  it('both hooks refuse a caller without the broker key, or with a wrong one (401)', async () => {
    for (const name of ['auth', 'acl'] as const) {
      for (const key of [null, '', 'wrong-key-wrong-key-wrong-key']) {
        const r = await hook(
          name,
          { username: 'd1', password: secrets.d1, clientid: 'd1', topic: 'dev/d1/x', action: 'publish' },
          key,
        );
        expect([name, key, r.status]).toEqual([name, key, 401]);
        expect((r.body.error as { code: string }).code).toBe('unauthorized');
      }
    }
  });
});

describe('POST /api/mqtt/auth', () => {
  it('allows the registry credential with a client id by the rule, denies a foreign id (no takeover)', async () => {
    const ask = (username: string, password: string, clientid: string) =>
      hook('auth', { username, password, clientid, peerhost: '10.0.0.9' }).then((r) => r.body.result);
    expect(await ask('d1', secrets.d1, 'd1')).toBe('allow');
    expect(await ask('d1', secrets.d1, 'd1:edge')).toBe('allow');
    expect(await ask('d2', secrets.d2, 'd1')).toBe('deny'); // d1's id
    expect(await ask('gw1', secrets.gw1, 's1')).toBe('deny'); // its child's id
    expect(await ask('d1', secrets.d1, 'd1:' + 'x'.repeat(100))).toBe('deny');
    expect(await ask('d1', secrets.d1, '')).toBe('deny');
    expect(await ask('d1', 'wrong', 'd1')).toBe('deny');
    // The OneGrid processes' own login.
    expect(await ask('_onegrid', KEY, '_onegrid:ingest-1')).toBe('allow');
    expect(await ask('_onegrid', 'not-the-key', '_onegrid:ingest-1')).toBe('deny');
  });

  it('limits failed CONNECTs per id: once limited, even the right secret is denied as rate_limited', async () => {
    for (let i = 0; i < CONNECT_LIMITS.perId.points; i++) {
      const r = await hook('auth', { username: 'd3', password: `wrong-${i}`, clientid: 'd3', peerhost: `10.1.0.${i}` });
      expect(r.body).toMatchObject({ result: 'deny', reason: 'bad_credentials' });
    }
    const r = await hook('auth', { username: 'd3', password: secrets.d3, clientid: 'd3', peerhost: '10.2.0.1' });
    expect(r.body).toMatchObject({ result: 'deny', reason: 'rate_limited' });
  });
});

describe('POST /api/mqtt/acl = the embedded broker’s ACL', () => {
  it.each(ACL_CASES)('%s %s %s → allowed: %s (HTTP hook)', async (who, action, topic, allowed) => {
    const r = await hook('acl', { clientid: `${who}:t`, username: who, topic, action });
    expect(r.status).toBe(200);
    expect(r.body.result).toBe(allowed ? 'allow' : 'deny');
  });

  it.each(ACL_CASES)('%s %s %s → allowed: %s (embedded broker)', async (who, action, topic, allowed) => {
    const c: MqttClient = await connect(rig.url, who);
    try {
      if (action === 'subscribe') {
        // mqtt.js rejects on a SUBACK with 0x80 (MQTT 3.1.1 §3.9.3: failure).
        const granted = await c.subscribeAsync(topic, { qos: 1 }).then(
          (g) => g[0].qos !== 128,
          () => false,
        );
        expect(granted).toBe(allowed);
      } else {
        const before = await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total');
        await c.publishAsync(topic, payloadFor(topic), { qos: 1 });
        const after = await metricValue(rig.registry, 'onegrid_mqtt_messages_rejected_total');
        expect(after === before).toBe(allowed);
      }
    } finally {
      await c.endAsync(true);
    }
  });

  it('the service principal subscribes to device topics (also shared) and the bus, never publishes as a device', async () => {
    const ask = (topic: string, action: Action) =>
      hook('acl', { clientid: '_onegrid:ingest-1', username: '_onegrid', topic, action }).then((r) => r.body.result);
    expect(await ask('$share/ingest/dev/+/telemetry', 'subscribe')).toBe('allow');
    expect(await ask('$share/ingest/frigate/events', 'subscribe')).toBe('allow');
    expect(await ask('onegrid/bus/#', 'subscribe')).toBe('allow');
    expect(await ask('onegrid/bus/case', 'publish')).toBe('allow');
    expect(await ask('dev/d1/telemetry', 'publish')).toBe('deny');
    expect(await ask('frigate/events', 'publish')).toBe('deny');
  });

  it('denies a client id that breaks the rule and an unknown principal', async () => {
    expect(
      (await hook('acl', { clientid: 'd2', username: 'd1', topic: 'dev/d1/telemetry', action: 'publish' })).body.result,
    ).toBe('deny');
    expect(
      (await hook('acl', { clientid: 'ghost', username: 'ghost', topic: 'dev/ghost/telemetry', action: 'publish' }))
        .body.result,
    ).toBe('deny');
  });
});
