/**
 * Cases end to end through the real platform process (`node bin/onegrid.js start`): devices registered over
 * the API publish over real MQTT; cases appear in the API and on `/live`; the HTTP contract of the case
 * endpoints (201, 409, 422, 403/404, trail, stats, scope) as a client sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { userToken } from '../harness/accounts.ts';

interface ApiCase {
  id: string;
  code: string;
  state: string;
  priority: number;
  version: number;
  category: string;
  eventCount: number;
  linkedCameras: string[];
  assignee: { kind: string; id: string } | null;
  grid: { street: string | null; grid: string | null };
  attributes?: { deviceId?: string };
  actions?: string[];
}

let p: PlatformHandle;
let admin: string;
const clients: MqttClient[] = [];
const sockets: WebSocket[] = [];

type FleetDevice = { id: string; kind: string; location: [number, number]; grid: string };
const fleet = JSON.parse(readFileSync('geo-data/sample/fleet.json', 'utf8')) as FleetDevice[];
/** A sample camera in a given street, and a point ~10 m east of it. */
function nearCamera(street: string, skip = 0): { camera: FleetDevice; at: [number, number] } {
  const camera = fleet.filter((d) => d.kind === 'camera' && d.grid.startsWith(street))[skip];
  return { camera, at: [camera.location[0] + 0.0001, camera.location[1]] };
}

async function http(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const r = await fetch(p.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function device(id: string, kind: string, location: [number, number]): Promise<MqttClient> {
  const r = await http('POST', '/api/devices', admin, { id, kind, location, intervalS: 3600 });
  expect(r.status).toBe(201);
  const c = mqtt.connect(`mqtt://127.0.0.1:${p.mqttPort}`, {
    clientId: id,
    username: id,
    password: r.body.secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  await new Promise<void>((res, rej) => {
    c.once('connect', () => res());
    c.once('error', rej);
  });
  clients.push(c);
  return c;
}

async function waitFor<T>(f: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function caseOfDevice(deviceId: string, token = admin): Promise<ApiCase | undefined> {
  const r = await http('GET', '/api/cases?limit=500', token);
  return (r.body.cases as ApiCase[]).find((c) => c.attributes?.deviceId === deviceId);
}

/** A /live client recording every message. */
async function live(token: string): Promise<{ messages: any[] }> {
  const ws = new WebSocket(`${p.url.replace('http', 'ws')}/live`, { headers: { authorization: `Bearer ${token}` } });
  sockets.push(ws);
  const out = { messages: [] as any[] };
  ws.on('message', (d) => out.messages.push(JSON.parse(String(d))));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  return out;
}

beforeAll(async () => {
  p = await startPlatformProcess({});
  admin = await p.login();
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const s of sockets) s.terminate();
  await p?.stop();
});

describe('sensor-raised cases over MQTT', () => {
  it('a fire_alarm becomes a dispatched priority-1 case with linked cameras, on /live for those in scope only', async () => {
    // the alarm is in street 120106002: the district commander's scope, not street 001's
    const district = await userToken(p, admin, 'commander-district');
    const street1 = await userToken(p, admin, 'commander-street-001');
    const [liveAdmin, liveDistrict, liveStreet1] = await Promise.all([live(admin), live(district), live(street1)]);
    const { camera, at } = nearCamera('120106002');
    const dev = await device('e2e-fire-1', 'smoke', at);
    await dev.publishAsync('dev/e2e-fire-1/event', JSON.stringify({ ts: Date.now(), seq: 1, type: 'fire_alarm' }), {
      qos: 1,
    });

    const c = await waitFor(() => caseOfDevice('e2e-fire-1'));
    expect(c.priority).toBe(1);
    expect(c.state).toBe('dispatched');
    expect(c.assignee).toEqual({ kind: 'department', id: 'fire' });
    expect(c.linkedCameras[0]).toBe(camera.id);
    expect(c.grid.street).toBe('120106002');

    const msg = await waitFor(async () => liveAdmin.messages.find((m) => m.type === 'case' && m.id === c.id));
    expect(msg.case.state).toBe('dispatched');
    await waitFor(async () => liveDistrict.messages.find((m) => m.type === 'case' && m.id === c.id));
    expect((await http('GET', `/api/cases/${c.id}`, district)).status).toBe(200);
    // the other street's commander: not in its list, not readable, not actionable, not counted, not on /live
    await new Promise((r) => setTimeout(r, 300));
    expect(liveStreet1.messages.some((m) => m.type === 'case' && m.id === c.id)).toBe(false);
    expect((await caseOfDevice('e2e-fire-1', street1)) ?? null).toBeNull();
    expect((await http('GET', `/api/cases/${c.id}`, street1)).status).toBe(404);
    expect((await http('GET', `/api/cases/${c.code}`, street1)).status).toBe(404);
    expect((await http('GET', `/api/cases/${c.id}/trail`, street1)).status).toBe(404);
    const act = await http('POST', `/api/cases/${c.id}/actions`, street1, {
      action: 'comment',
      note: 'x',
      version: c.version,
    });
    expect(act.status).toBe(403);
    expect(act.body.error.code).toBe('outside_scope');
    const sD = await http('GET', '/api/stats', district);
    const s1 = await http('GET', '/api/stats', street1);
    expect(sD.status).toBe(200);
    expect(sD.body.byState.dispatched).toBeGreaterThanOrEqual(1);
    expect(s1.body.byState.dispatched ?? 0).toBe(0);
    expect((await http('GET', '/api/stats?scope=120106002', street1)).body.byState).toEqual({});
  });

  it('a smoke alarm and a camera fire detection nearby fuse into one case raised to priority 1', async () => {
    const { at } = nearCamera('120106003');
    const smoke = await device('e2e-smoke-1', 'smoke', at);
    const cam = await device('e2e-cam-1', 'camera', [at[0] + 0.0005, at[1]]);
    await smoke.publishAsync('dev/e2e-smoke-1/event', JSON.stringify({ ts: Date.now(), seq: 1, type: 'smoke_alarm' }), {
      qos: 1,
    });
    const c = await waitFor(() => caseOfDevice('e2e-smoke-1'));
    expect(c.priority).toBe(2);
    expect(c.linkedCameras).toContain('e2e-cam-1');
    await cam.publishAsync(
      'dev/e2e-cam-1/event',
      JSON.stringify({ ts: Date.now(), seq: 1, type: 'ai_detection', attrs: { label: 'fire', score: 0.92 } }),
      { qos: 1 },
    );
    const raised = await waitFor(async () => {
      const x = await caseOfDevice('e2e-smoke-1');
      return x && x.priority === 1 ? x : undefined;
    });
    expect(raised.id).toBe(c.id);
    expect(raised.eventCount).toBe(2);
    expect(await caseOfDevice('e2e-cam-1')).toBeUndefined();
  });

  it('1,000 repeats of one alarm make one case with eventCount 1000', async () => {
    const { at } = nearCamera('120106005');
    const dev = await device('e2e-repeat-1', 'gas', at);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        dev.publishAsync('dev/e2e-repeat-1/event', JSON.stringify({ ts: t0 + i, seq: i + 1, type: 'gas_alarm' }), {
          qos: 1,
        }),
      ),
    );
    const c = await waitFor(async () => {
      const x = await caseOfDevice('e2e-repeat-1');
      return x && x.eventCount === 1000 ? x : undefined;
    }, 60_000);
    const all = (await http('GET', '/api/cases?limit=500&category=fire.gas_alarm', admin)).body.cases as ApiCase[];
    expect(all.filter((x) => x.attributes?.deviceId === 'e2e-repeat-1')).toHaveLength(1);
    expect(c.eventCount).toBe(1000);
  }, 90_000);
});

describe('the case API', () => {
  it('pushes each wall the indicators of its own scope on /live (kpi) soon after cases change', async () => {
    const street1 = await userToken(p, admin, 'commander-street-001');
    const community = await userToken(p, admin, 'commander-community-001001');
    const [a, s1, c1] = await Promise.all([live(admin), live(street1), live(community)]);
    const t0 = Date.now();
    const { at } = nearCamera('120106001', 1);
    const made = await http('POST', '/api/cases', admin, {
      title: '井盖缺失 missing manhole cover',
      category: 'facility_fault.manhole_tilt',
      location: at,
      source: 'hotline',
    });
    expect(made.status).toBe(201);
    // A kpi that counts the new case reaches the district and street 1 (within the feed's 5 s interval).
    const kpiAfter = (w: { messages: any[] }) =>
      waitFor(async () => w.messages.find((m) => m.type === 'kpi' && (m.byState?.reported ?? 0) > 0), 20_000);
    const [ka, k1] = await Promise.all([kpiAfter(a), kpiAfter(s1)]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(ka.scope).toBeNull();
    expect(k1.scope).toBe('120106001');
    expect(k1.seq).toBeUndefined(); // a snapshot outside the numbered stream
    // Each is what /api/stats answers that user.
    const api1 = (await http('GET', '/api/stats', street1)).body;
    expect(k1.byState).toEqual(api1.byState);
    expect(k1.devices.total).toBe(api1.devices.total);
    // A community commander inside that street gets its community's figures, not the street's.
    const kc = await waitFor(async () => c1.messages.find((m) => m.type === 'kpi'), 20_000);
    expect(kc.scope).toBe('120106001001');
    expect(kc.byState).toEqual((await http('GET', '/api/stats', community)).body.byState);
  });

  it('manual intake, actions with versions (409, 422, 403), trail, lookups by code, openapi', async () => {
    const dispatcher = await userToken(p, admin, 'dispatcher');
    const { at } = nearCamera('120106002');
    const bad = await http('POST', '/api/cases', dispatcher, {
      title: '',
      category: 'x',
      location: [1, 2],
      source: 'hotline',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const made = await http('POST', '/api/cases', dispatcher, {
      title: '占道经营 street vending at the market gate',
      category: 'street_order.street_vending',
      location: at,
      source: 'hotline',
    });
    expect(made.status).toBe(201);
    const c = made.body as ApiCase;
    expect(c.code).toMatch(/^HQ-\d{8}-\d{4}$/);
    expect(c.state).toBe('reported');
    expect(c.actions).toContain('register');
    expect((c as ApiCase & { suggestedDepartment?: string }).suggestedDepartment).toBe('urban_management');
    expect((await http('GET', `/api/cases/${c.code}`, dispatcher)).body.id).toBe(c.id);

    const reg = await http('POST', `/api/cases/${c.id}/actions`, dispatcher, {
      action: 'register',
      category: 'street_order.street_vending',
      priority: 3,
      version: 1,
    });
    expect(reg.status).toBe(200);
    expect(reg.body.version).toBe(2);
    const stale = await http('POST', `/api/cases/${c.id}/actions`, dispatcher, {
      action: 'comment',
      note: 'late',
      version: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    // admin may handle, but not a registered (not yet dispatched) case
    const illegal = await http('POST', `/api/cases/${c.id}/actions`, admin, {
      action: 'handle',
      result: 'x',
      version: 2,
    });
    expect(illegal.status).toBe(422);
    expect(illegal.body.error.code).toBe('illegal_transition');
    // a dispatcher may not handle at all
    const role = await http('POST', `/api/cases/${c.id}/actions`, dispatcher, {
      action: 'handle',
      result: 'x',
      version: 2,
    });
    expect(role.status).toBe(403);
    expect(role.body.error.code).toBe('forbidden');
    const dept = await userToken(p, admin, 'dept-fire');
    const outside = await http('POST', `/api/cases/${c.id}/actions`, dept, { action: 'claim', version: 2 });
    expect(outside.status).toBe(403);
    const unknown = await http('POST', `/api/cases/${c.id}/actions`, dispatcher, { action: 'fly', version: 2 });
    expect(unknown.status).toBe(400);

    const trail = await http('GET', `/api/cases/${c.id}/trail`, dispatcher);
    expect(trail.status).toBe(200);
    expect(trail.body.verified).toBe(true);
    expect(trail.body.entries.map((e: { action: string }) => e.action)).toEqual(['intake', 'register']);

    expect((await http('GET', '/api/departments', dispatcher)).body.departments.length).toBeGreaterThan(0);
    const cats = (await http('GET', '/api/categories', dispatcher)).body.categories as {
      id: string;
      department: string;
    }[];
    expect(cats.find((x) => x.id === 'street_order.street_vending')?.department).toBe('urban_management');

    const metrics = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } }).then((r) =>
      r.text(),
    );
    expect(metrics).toMatch(/^onegrid_cases\{state="dispatched"\} [1-9]/m);
    expect(metrics).toMatch(/^onegrid_cases\{state="registered"\} [1-9]/m);

    const doc = await fetch(`${p.url}/api/openapi.json`).then((r) => r.json());
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(doc.paths['/api/cases/{id}/actions'].post).toBeDefined();
  });
});
