/**
 * Every input of `../shared/field-cases/devices/` (issue 12), as its README says to send it, against the
 * real platform process (`node bin/onegrid.js start`: embedded broker, PGlite, the published sample
 * district): devices registered over the API, payloads stamped by the directory's own `restamp.py`,
 * published over real MQTT (QoS 1) or POSTed to the alarm-push intake. Cases are read over the API;
 * stored facts (device time, receipt, metrics) from the database after the platform stopped.
 *
 * Scenarios that lie within the fire-fusion radius of one another (200 m, 5 min) are separated by an
 * operator rejecting the previous scenario's case, as a person would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';
import { launchChromium } from '../harness/browser.ts';
import { openPglite, type Db } from '../../ingest/store/db.ts';

const DIR = path.resolve(import.meta.dirname, '../../../shared/field-cases/devices');
const file = (name: string) => path.join(DIR, name);
const HAVE = existsSync(file('registry.json'));
/** restamp.py's own logic: every time moved by (now − its reference instant), offsets kept. */
const stamp = (name: string, now: string) =>
  execFileSync('python3', [file('restamp.py'), file(name), '--now', now], { encoding: 'utf8' });
const raw = (name: string) => readFileSync(file(name), 'utf8');

type Reg = { id: string; kind: string; name: string; location: [number, number]; gateway?: string; source?: string };
interface ApiCase {
  id: string;
  state: string;
  priority: number;
  version: number;
  title: string;
  category: string;
  eventCount: number;
  linkedCameras: string[];
  createdAt?: string | number;
  grid: { grid: string | null };
  attributes?: Record<string, unknown>;
}

let p: PlatformHandle;
let admin: string;
let dataDir: string;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];
let frigateApi: Server;
let frigateUrl = '';
const snapshotsServed: string[] = [];
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);

async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(p.url + url, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

async function client(id: string, clientId = `${id}:t${clients.length}`): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${p.mqttPort}`, {
    clientId,
    username: id,
    password: secrets.get(id),
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  clients.push(c);
  await new Promise<void>((res, rej) => {
    c.once('connect', () => res());
    c.once('error', rej);
  });
  return c;
}

const pub = (c: MqttClient, topic: string, payload: string | Buffer, retain = false) =>
  c.publishAsync(topic, payload, { qos: 1, retain });

async function eventually<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function casesOf(deviceId: string): Promise<ApiCase[]> {
  const r = await http('GET', '/api/cases?limit=500');
  return (r.body.cases as ApiCase[]).filter((c) => c.attributes?.deviceId === deviceId);
}

async function reject(c: ApiCase): Promise<void> {
  const fresh = (await http('GET', `/api/cases/${c.id}`)).body as ApiCase;
  const r = await http('POST', `/api/cases/${c.id}/actions`, {
    action: 'reject',
    version: fresh.version,
    reason: 'false alarm (test)',
  });
  if (r.status !== 200) console.log(p.output().slice(-4000));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

describe.skipIf(!HAVE)('field cases: devices', () => {
  beforeAll(async () => {
    frigateApi = createServer((req, res) => {
      const m = /^\/api\/events\/([^/]+)\/snapshot\.jpg$/.exec(req.url ?? '');
      if (!m) {
        res.statusCode = 404;
        return res.end();
      }
      snapshotsServed.push(decodeURIComponent(m[1]));
      res.setHeader('content-type', 'image/jpeg');
      res.end(JPEG);
    });
    await new Promise<void>((r) => frigateApi.listen(0, '127.0.0.1', () => r()));
    frigateUrl = `http://127.0.0.1:${(frigateApi.address() as { port: number }).port}`;
    dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-fc-'));
    p = await startPlatformProcess({ dataDir, timeoutMs: 180_000 });
    admin = await p.login();
    const reg = JSON.parse(raw('registry.json')) as Reg[];
    for (const d of reg) {
      const extra: Record<string, unknown> = {};
      if (d.id === 'fc-nvr-a') extra.apiUrl = frigateUrl;
      if (d.id === 'fc-thermal-107') Object.assign(extra, { ipAddress: '192.0.2.57', channelId: 2 });
      let r = await http('POST', '/api/devices', { ...d, ...extra });
      if (d.id === 'front_door' && d.gateway === 'fc-nvr-b') {
        // Ids are global; Frigate names are per NVR: the second front_door is registered under its own id.
        expect(r.status).toBe(409);
        expect(r.body.error.message).toContain('frigateName');
        r = await http('POST', '/api/devices', { ...d, id: 'fc-nvr-b.front_door', frigateName: 'front_door' });
        expect(r.status).toBe(201);
        secrets.set('fc-nvr-b.front_door', r.body.secret);
        continue;
      }
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      secrets.set(d.id, r.body.secret);
    }
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await p?.stop();
    frigateApi?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('registry: liveness per kind (cameras none, NB-IoT detectors a day, children by their gateway)', async () => {
    const get = async (id: string) => (await http('GET', `/api/devices/${id}`)).body;
    expect((await get('fc-thermal-107')).liveness).toEqual({ intervalS: 0, source: 'kind', gateway: null });
    expect((await get('fc-smk-101')).liveness).toEqual({ intervalS: 86_400, source: 'kind', gateway: null });
    expect((await get('fc-cam-101')).liveness).toEqual({ intervalS: 0, source: 'gateway', gateway: 'fc-nvr-a' });
    expect((await get('fc-nvr-a')).liveness.intervalS).toBeGreaterThan(0);
  });

  it('e: Frigate start-up topics are the NVR health, never rejects; the connection stays up', async () => {
    const nvr = await client('fc-nvr-a', 'fc-nvr-a:health');
    // The README's own use: e_publish_startup.sh publishes e_frigate_startup_topics.tsv line by line with
    // mosquitto_pub as fc-nvr-a, client id `fc-nvr-a-startup` (an `{id}-{suffix}` id that names no other device).
    execFileSync('sh', [file('e_publish_startup.sh')], {
      env: { ...process.env, MQTT_PORT: String(p.mqttPort), NVR_SECRET: secrets.get('fc-nvr-a')! },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    await pub(
      nvr,
      'frigate/stats',
      JSON.stringify({
        cpu_usages: { 'frigate.full_system': { cpu: '12.5' } },
        detectors: { coral: { inference_speed: 8.4 } },
        cameras: { 'fc-cam-101': { camera_fps: 5.1, detection_fps: 0.4, process_fps: 5 } },
        service: { uptime: 120, version: '0.14.1' },
      }),
    );
    expect(nvr.connected).toBe(true);
    const d = await eventually(
      async () => (await http('GET', '/api/devices/fc-nvr-a')).body,
      (x) => x.health?.stats?.cpuPct === 12.5 && x.online === true,
    );
    expect(d.health.online).toBe(true);
    expect(d.health.stats.detectors.coral.inferenceMs).toBe(8.4);
    expect(d.health.stats.cameras['fc-cam-101'].cameraFps).toBe(5.1);
    await new Promise((r) => setTimeout(r, 800)); // reject log flushes every 500 ms
    const rejects = (await http('GET', '/api/ingest/rejects?limit=1000')).body.rejects as { clientId: string }[];
    expect(rejects.filter((x) => x.clientId?.startsWith('fc-nvr-a'))).toEqual([]);
  });

  it('a: a smoke alarm 8 h fast and a camera smoke detection 20 m away fuse into one priority-1 case', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await pub(await client('fc-smk-101'), 'dev/fc-smk-101/event', stamp('a1_smoke_alarm_clock_8h_ahead.json', now));
    await pub(await client('fc-nvr-a'), 'frigate/events', stamp('a2_frigate_smoke_20m_away.json', now));
    const cs = await eventually(
      () => casesOf('fc-smk-101'),
      (x) => x.length > 0 && x[0].priority === 1 && x[0].eventCount === 2,
    );
    expect(cs).toHaveLength(1);
    const c = cs[0];
    expect(c.priority).toBe(1);
    expect(c.eventCount).toBe(2);
    expect(c.grid.grid).toBe('120106001001004');
    expect(c.linkedCameras).toContain('fc-cam-101');
    expect(c.attributes?.timeFlag).toBe('clock_skew');
    // The case's occurrence is the arrival, not 8 h ahead; the device's claim is kept beside it.
    const occurred = Date.parse(c.attributes!.occurredAt as string);
    const received = Date.parse(c.attributes!.receivedAt as string);
    expect(occurred - received).toBeGreaterThan(7.9 * 3600_000);
    expect(Math.abs(received - Date.now())).toBeLessThan(120_000);
    // Skew is flushed with last-seen (coalesced every 5 s).
    const dev = await eventually(
      async () => (await http('GET', '/api/devices/fc-smk-101')).body,
      (x) => typeof x.clockSkewMs === 'number',
    );
    expect(dev.clockSkewMs).toBeGreaterThan(7.9 * 3600_000);
    // The camera's Frigate snapshot was fetched from the NVR's API and attached.
    await eventually(
      async () => snapshotsServed.length,
      (n) => n > 0,
    );
    await reject(c); // the next scenarios lie within the fusion radius
  });

  it('the devices page shows liveness, clock skew and the NVR health', async () => {
    const browser = await launchChromium();
    try {
      const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      // Signed in through the API: the context keeps the session cookie.
      const signin = await ctx.request.post(p.url + '/api/session', {
        data: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(signin.status()).toBe(200);
      await page.goto(p.url + '/devices');
      await page.waitForSelector('[data-testid=devices-table] tbody tr').catch(async (e) => {
        const html = await page.content();
        console.log(page.url(), errors, html.length);
        throw e;
      });
      await page.fill('input[type=search]', 'fc-');
      await page.click('[data-testid=devices-table] button:text-is("fc-smk-101")', { force: true });
      await expect.poll(() => page.textContent('[data-testid=device-skew]')).toMatch(/^8 h/);
      expect(await page.textContent('[data-testid=device-liveness]')).toMatch(/24 h/);
      await page.click('[data-testid=devices-table] button:text-is("fc-nvr-a")', { force: true });
      await expect.poll(() => page.textContent('[data-testid=device-nvr]')).toContain('CPU 12.5%');
      await ctx.close();
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('b: a gas alarm 72 h old raises a late (迟报) case for a person to confirm, not a dispatch', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await pub(await client('fc-gas-102'), 'dev/fc-gas-102/event', stamp('b_gas_alarm_72h_old.json', now));
    const [c] = await eventually(
      () => casesOf('fc-gas-102'),
      (x) => x.length > 0,
    );
    expect(c.state).toBe('reported');
    expect(c.attributes?.late).toBe(true);
    expect(c.title).toContain('迟报');
    const age = Date.parse(c.attributes!.receivedAt as string) - Date.parse(c.attributes!.occurredAt as string);
    expect(Math.round(age / 3600_000)).toBe(72);
  });

  it('c: one Frigate object (new, 3 updates, end) is one event and one case; rejected, it stays rejected', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const nvr = await client('fc-nvr-a');
    const lines = stamp('c_frigate_one_object_lifecycle.jsonl', now).trim().split('\n');
    for (const l of lines) await pub(nvr, 'frigate/events', l);
    await new Promise((r) => setTimeout(r, 1500));
    const cs = await eventually(
      () => casesOf('fc-cam-103'),
      (x) => x.length > 0,
    );
    expect(cs).toHaveLength(1);
    expect(cs[0].eventCount).toBe(1);
    expect(cs[0].priority).toBe(2);
    await reject(cs[0]);
    // A later update of the same object folds into the rejected case: no new case, no count.
    await pub(nvr, 'frigate/events', lines[3]);
    await pub(nvr, 'frigate/events', lines[4]);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await casesOf('fc-cam-103');
    expect(after).toHaveLength(1);
    expect(after[0].state).toBe('rejected');
    expect(after[0].eventCount).toBe(1);
  });

  it("d: two NVRs may both have front_door; each event is its own camera's", async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await pub(await client('fc-nvr-a'), 'frigate/events', stamp('d_nvr_a_front_door_person.json', now));
    await pub(await client('fc-nvr-b'), 'frigate/events', stamp('d_nvr_b_front_door_person.json', now));
    await new Promise((r) => setTimeout(r, 800));
    const rejects = (await http('GET', '/api/ingest/rejects?limit=1000')).body.rejects as { clientId: string }[];
    expect(rejects.filter((x) => /^fc-nvr-[ab]/.test(x.clientId ?? ''))).toEqual([]);
  });

  it('f, g, h: epoch seconds, local times without offset, boolean metrics', async () => {
    const th = await client('fc-th-105');
    await pub(th, 'dev/fc-th-105/telemetry', raw('f_telemetry_epoch_seconds.json'));
    await pub(th, 'dev/fc-th-105/telemetry', raw('g1_telemetry_local_time_T.json'));
    await pub(th, 'dev/fc-th-105/telemetry', raw('g2_telemetry_local_time_space.json'));
    await pub(await client('fc-smk-106'), 'dev/fc-smk-106/telemetry', raw('h_telemetry_boolean_metrics.json'));
    await new Promise((r) => setTimeout(r, 800));
    const rejects = (await http('GET', '/api/ingest/rejects?limit=1000')).body.rejects as { clientId: string }[];
    expect(rejects.filter((x) => /^fc-(th-105|smk-106)/.test(x.clientId ?? ''))).toEqual([]);
  });

  it('j: one smoke alarm delivered four times is stored once: one case, eventCount 1', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const msg = stamp('j_smoke_alarm_same_seq.json', now);
    const c = await client('fc-smk-108');
    for (let i = 0; i < 4; i++) await pub(c, 'dev/fc-smk-108/event', msg);
    await new Promise((r) => setTimeout(r, 1500));
    const cs = await eventually(
      () => casesOf('fc-smk-108'),
      (x) => x.length > 0,
    );
    expect(cs).toHaveLength(1);
    expect(cs[0].eventCount).toBe(1);
    await reject(cs[0]);
  });

  it('i: an ISAPI thermal fireDetection push raises a priority-1 fire case with linked cameras and the picture', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const body = stamp('i_isapi_thermal_fire.xml', now);
    const basic = (secret: string) => 'Basic ' + Buffer.from(`fc-thermal-107:${secret}`).toString('base64');
    const url = `${p.url}/api/intake/isapi/fc-thermal-107`;
    const bad = await fetch(url, {
      method: 'POST',
      headers: { authorization: basic('wrong'), 'content-type': 'application/xml' },
      body,
    });
    if (bad.status !== 401) console.log(await bad.text(), p.output().slice(-3000));
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Basic/);
    const noAuth = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/xml' }, body });
    expect(noAuth.status).toBe(401);
    const ok = await fetch(url, {
      method: 'POST',
      headers: { authorization: basic(secrets.get('fc-thermal-107')!), 'content-type': 'application/xml' },
      body,
    });
    expect(ok.status).toBe(200);
    const res = (await ok.json()) as { stored: number; events: { type: string; device: string; occurredAt: string }[] };
    expect(res.stored).toBe(1);
    expect(res.events[0]).toMatchObject({ type: 'fire_alarm', device: 'fc-thermal-107' });
    // 20:15:40+08:00 as stamped = 12:15:40Z moved by the same delta: 40 s after `now`.
    expect(Date.parse(res.events[0].occurredAt) - Date.parse(now)).toBe(40_000);
    const [c] = await eventually(
      () => casesOf('fc-thermal-107'),
      (x) => x.length > 0,
    );
    expect(c.priority).toBe(1);
    expect(c.category).toBe('fire.fire_alarm');
    expect(c.grid.grid).toBe('120106001001003');
    expect(c.linkedCameras).toContain('fc-thermal-107');
    // Multipart (XML + JPEG) of the same camera a minute later: the picture becomes the case's evidence.
    const later = body.replace(/<dateTime>([^<]+)<\/dateTime>/, (_m, t: string) => {
      const d = new Date(Date.parse(t) + 60_000);
      return `<dateTime>${d.toISOString().replace(/\.\d+Z$/, 'Z')}</dateTime>`;
    });
    const form = new FormData();
    form.append('fireDetection', new Blob([later], { type: 'application/xml' }), 'fireDetection.xml');
    form.append('fireDetectionPicture', new Blob([JPEG], { type: 'image/jpeg' }), 'fire.jpg');
    const mp = await fetch(url, {
      method: 'POST',
      headers: { authorization: basic(secrets.get('fc-thermal-107')!) },
      body: form,
    });
    expect(mp.status).toBe(200);
    const ev = await eventually(
      async () => (await http('GET', `/api/cases/${c.id}/evidence`)).body,
      (x) => JSON.stringify(x).includes('isapi:fc-thermal-107'),
    );
    expect(JSON.stringify(ev)).toContain('isapi:fc-thermal-107');
  });

  it('one noisy client cannot flush a real reject out of /api/ingest/rejects', async () => {
    const real = await client('fc-gas-102');
    await pub(real, 'dev/fc-gas-102/event', '{"ts": "yesterday", "type": "gas_alarm"}');
    await new Promise((r) => setTimeout(r, 800));
    const noisy = await client('fc-th-105');
    for (let i = 0; i < 10_000; i++) noisy.publish('dev/fc-th-105/telemetry', 'junk', { qos: 0 });
    await pub(noisy, 'dev/fc-th-105/telemetry', 'junk-last');
    await new Promise((r) => setTimeout(r, 1500));
    const rejects = (await http('GET', '/api/ingest/rejects')).body.rejects as { clientId: string; detail: string }[];
    const mine = rejects.find((x) => x.clientId?.startsWith('fc-gas-102'));
    expect(mine?.detail).toContain('/ts');
    expect(rejects.filter((x) => x.clientId?.startsWith('fc-th-105')).length).toBeLessThanOrEqual(50);
  });

  it('stored facts: device time and receipt, one Frigate event per object, readings as the files say', async () => {
    await p.stop();
    const db: Db = await openPglite(dataDir);
    try {
      const ev = await db.query<{ n: number; attrs: Record<string, unknown> }>(
        `SELECT count(*)::int AS n, max(attrs::text)::jsonb AS attrs FROM events WHERE device_id = 'fc-cam-103'`,
      );
      expect(ev.rows[0].n).toBe(1);
      expect(ev.rows[0].attrs.score).toBe(0.88);
      expect(ev.rows[0].attrs.endTs).toBeTruthy();
      expect(ev.rows[0].attrs.enteredZones).toEqual(['bike_shed']);
      const smk108 = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE device_id = 'fc-smk-108'`,
      );
      expect(smk108.rows[0].n).toBe(1);
      const fd = await db.query<{ device_id: string; grid: string }>(
        `SELECT device_id, grid FROM events WHERE attrs->>'camera' = 'front_door' ORDER BY device_id`,
      );
      expect(fd.rows).toEqual([
        { device_id: 'fc-nvr-b.front_door', grid: '120106001001006' },
        { device_id: 'front_door', grid: '120106001001002' },
      ]);
      const gas = await db.query<{ ts: Date; received_at: Date; time_flag: string }>(
        `SELECT ts, received_at, time_flag FROM events WHERE device_id = 'fc-gas-102' AND seq = 882`,
      );
      expect(gas.rows[0].time_flag).toBe('late');
      expect(Math.round((+new Date(gas.rows[0].received_at) - +new Date(gas.rows[0].ts)) / 3600_000)).toBe(72);
      const th = await db.query<{ ts: Date; metrics: Record<string, number> }>(
        `SELECT ts, metrics FROM readings WHERE device_id = 'fc-th-105' ORDER BY ts, seq`,
      );
      expect(th.rows.map((r) => new Date(r.ts).toISOString())).toEqual([
        '2026-11-29T12:15:00.000Z', // f, epoch seconds
        '2026-11-29T12:15:00.000Z', // g1, local time with T, Asia/Shanghai
        '2026-11-29T12:15:00.000Z', // g2, local time with a space
        '2026-11-29T12:16:00.000Z', // f, second reading
      ]);
      const h = await db.query<{ metrics: Record<string, number> }>(
        `SELECT metrics FROM readings WHERE device_id = 'fc-smk-106'`,
      );
      expect(h.rows[0].metrics).toEqual({ smoke: 0, battery_low: 1, tamper: 0, battery: 23, temp_c: 22.5 });
    } finally {
      await db.close();
    }
  }, 60_000);
});
