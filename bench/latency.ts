// Alarm-to-wall latency: time from a `fire_alarm` PUBLISH to the case's message arriving at a `/live`
// WebSocket client, p50/p99, through the real platform process (`node bin/onegrid.js start`: embedded
// broker, ingest, rules, case service, PGlite, live hub). The alarms come from distinct devices in distinct
// base grids (so neither repeat folding nor storm control applies), one at a time, through a gateway.
//
// Baseline (same run): the same path with no other traffic. Loaded: while a separate process publishes
// telemetry at LOAD_RATE msg/s (default 5,000) from 20 sensor connections. Target: p99 ≤ 100 ms under load.
//
//   node --import tsx bench/latency.ts        (or: npm run bench -- latency)
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { startPlatformProcess, type PlatformHandle } from '../test/harness/platform.ts';
import { buildIfNeeded } from '../ingest/cli.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const BASELINE_ALARMS = Number(process.env.BASELINE_ALARMS ?? 100);
const LOADED_ALARMS = Number(process.env.LOADED_ALARMS ?? 200);
const LOAD_RATE = Number(process.env.LOAD_RATE ?? 5000);
const LOAD_CONNS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  name: 'latency';
  metrics: Record<string, number | string | null>;
  ratios: Record<string, number | null>;
  notes: string[];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function http(p: PlatformHandle, token: string, method: string, url: string, body?: unknown) {
  const r = await fetch(p.url + url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function connect(url: string, id: string, secret: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise<void>((res, rej) => {
    c.once('connect', () => res());
    c.once('error', rej);
  });
  c.on('error', () => {});
  return c;
}

/** Publish one alarm per device, one at a time; ms from publish to its case message on /live. */
async function measure(
  gw: MqttClient,
  ws: WebSocket,
  devices: string[],
): Promise<{ latencies: number[]; lost: number }> {
  const waiting = new Map<string, (t: number) => void>();
  const onMessage = (d: WebSocket.RawData) => {
    const t = performance.now();
    const m = JSON.parse(String(d)) as { type?: string; case?: { attributes?: { deviceId?: string } } };
    const dev = m.type === 'case' ? m.case?.attributes?.deviceId : undefined;
    if (dev) waiting.get(dev)?.(t);
  };
  ws.on('message', onMessage);
  const latencies: number[] = [];
  let lost = 0;
  for (const id of devices) {
    const got = new Promise<number | null>((res) => {
      const timer = setTimeout(() => res(null), 5000);
      waiting.set(id, (t) => {
        clearTimeout(timer);
        res(t);
      });
    });
    const t0 = performance.now();
    gw.publish(`dev/${id}/event`, JSON.stringify({ ts: Date.now(), seq: 1, type: 'fire_alarm' }), { qos: 1 });
    const t1 = await got;
    waiting.delete(id);
    if (t1 === null) lost++;
    else latencies.push(t1 - t0);
    await sleep(20); // alarms are rare events: one at a time, not a burst
  }
  ws.off('message', onMessage);
  return { latencies, lost };
}

export async function run(): Promise<Result> {
  buildIfNeeded((m) => console.error(`[latency] ${m}`));
  const p = await startPlatformProcess({ timeoutMs: 180_000 });
  let load: ChildProcess | null = null;
  const clients: MqttClient[] = [];
  let ws: WebSocket | null = null;
  try {
    const token = await p.login();
    const mqttUrl = `mqtt://127.0.0.1:${p.mqttPort}`;

    // One alarm device per distinct base grid of the sample fleet, all children of one gateway.
    const fleet = JSON.parse(readFileSync(path.join(ROOT, 'geo-data/sample/fleet.json'), 'utf8')) as {
      location: [number, number];
      grid: string;
    }[];
    const byGrid = new Map<string, [number, number]>();
    for (const d of fleet) if (!byGrid.has(d.grid)) byGrid.set(d.grid, d.location);
    const spots = [...byGrid.values()];
    const need = BASELINE_ALARMS + LOADED_ALARMS;
    if (spots.length < need) throw new Error(`only ${spots.length} distinct grids for ${need} alarms`);
    const gwSecret = (
      await http(p, token, 'POST', '/api/devices', { id: 'bench-gw', kind: 'gateway', location: spots[0] })
    ).secret as string;
    const alarmIds: string[] = [];
    for (let i = 0; i < need; i += 20) {
      const ids = Array.from({ length: Math.min(20, need - i) }, (_, k) => `bench-alarm-${i + k}`);
      await Promise.all(
        ids.map((id, k) =>
          http(p, token, 'POST', '/api/devices', { id, kind: 'smoke', gateway: 'bench-gw', location: spots[i + k] }),
        ),
      );
      alarmIds.push(...ids);
    }
    const sensors: { id: string; secret: string }[] = [];
    for (let i = 0; i < LOAD_CONNS; i++) {
      const id = `bench-load-${i}`;
      const r = await http(p, token, 'POST', '/api/devices', { id, kind: 'sensor', location: spots[i], intervalS: 60 });
      sensors.push({ id, secret: r.secret as string });
    }

    const gw = await connect(mqttUrl, 'bench-gw', gwSecret);
    clients.push(gw);
    ws = new WebSocket(`${p.url.replace('http', 'ws')}/live`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((res, rej) => {
      ws!.once('open', () => res());
      ws!.once('error', rej);
    });

    // warm-up (first queries, JIT), not counted
    await measure(gw, ws, alarmIds.splice(0, 5));
    const baseline = await measure(gw, ws, alarmIds.splice(0, BASELINE_ALARMS - 5));

    // background telemetry from a separate process
    let loadStats = { sent: 0, acked: 0, rate: 0 };
    load = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/latency-load.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOAD_MQTT_URL: mqttUrl,
        LOAD_RATE: String(LOAD_RATE),
        LOAD_DEVICES: JSON.stringify(sensors),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    const samples: number[] = [];
    let lastAcked = 0;
    let lastT = performance.now();
    load.stdout!.on('data', (d) => {
      buf += String(d);
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          loadStats = JSON.parse(line);
          const now = performance.now();
          samples.push(((loadStats.acked - lastAcked) * 1000) / (now - lastT));
          lastAcked = loadStats.acked;
          lastT = now;
        } catch {
          /* not a stats line */
        }
      }
    });
    await sleep(3000); // let the load reach its rate
    const samplesBefore = samples.length;
    const loaded = await measure(gw, ws, alarmIds.splice(0, LOADED_ALARMS));
    const during = samples.slice(samplesBefore);
    const achieved = during.length ? during.reduce((a, b) => a + b, 0) / during.length : 0;

    const b50 = pct(baseline.latencies, 50);
    const b99 = pct(baseline.latencies, 99);
    const l50 = pct(loaded.latencies, 50);
    const l99 = pct(loaded.latencies, 99);
    return {
      name: 'latency',
      metrics: {
        alarms_baseline: baseline.latencies.length,
        alarms_loaded: loaded.latencies.length,
        lost: baseline.lost + loaded.lost,
        baseline_p50_ms: b50,
        baseline_p99_ms: b99,
        baseline_max_ms: Math.max(...baseline.latencies),
        loaded_p50_ms: l50,
        loaded_p99_ms: l99,
        loaded_max_ms: Math.max(...loaded.latencies),
        background_target_msg_s: LOAD_RATE,
        background_achieved_msg_s: Math.round(achieved),
        target_p99_ms: 100,
        meets_target: l99 <= 100 ? 'yes' : 'no',
      },
      ratios: {
        p50_loaded_vs_baseline: b50 > 0 ? l50 / b50 : null,
        p99_loaded_vs_baseline: b99 > 0 ? l99 / b99 : null,
      },
      notes: [
        'publish → ingest commit → rules → case transaction (intake, register, dispatch, trail) → /live, one process, PGlite',
        `background: ${LOAD_CONNS} connections, QoS 1 telemetry, acknowledged (stored) rate reported as achieved`,
      ],
    };
  } finally {
    load?.kill('SIGTERM');
    ws?.terminate();
    for (const c of clients) c.end(true);
    await p.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  const w = Math.max(...Object.keys(r.metrics).map((k) => k.length));
  console.log('\n== latency ==');
  for (const [k, v] of Object.entries(r.metrics)) console.log(`${k.padEnd(w)}  ${v}`);
  for (const [k, v] of Object.entries(r.ratios))
    console.log(`${('ratio: ' + k).padEnd(w)}  ${v === null ? '—' : v.toFixed(2) + '×'}`);
  for (const n of r.notes) console.log(`note: ${n}`);
  process.exit(0);
}
