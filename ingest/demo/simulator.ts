/**
 * The SIMULATED fleet: every simulated device publishes realistic telemetry and occasional events over a
 * real MQTT connection, through its gateway (one connection per gateway; a gateway may publish for its
 * registered children, CONTRACT.md MQTT v1). Marked SIMULATED on the wall.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Db } from '../store/db.ts';
import type { Logger } from '../log.ts';
import { demoSecret } from '../seed.ts';

export interface Simulator {
  deviceCount: number;
  gatewayCount: number;
  /** Publish one event now (tests, demos). */
  fire(deviceId: string, type: string, attrs?: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

interface SimDevice {
  id: string;
  kind: string;
  gateway: string | null;
  lng: number;
  lat: number;
  intervalS: number;
  seq: number;
  next: number;
  state: Record<string, number>;
}

const AI_LABELS = ['street_vending', 'exposed_garbage', 'illegal_parking', 'crowding', 'smoke', 'fire'];

function telemetry(d: SimDevice, t: number): Record<string, number> {
  const s = d.state;
  const wave = Math.sin((t / 3600_000) * Math.PI * 2 + d.lng * 1000);
  const jitter = () => Math.random() - 0.5;
  switch (d.kind) {
    case 'smoke':
      return {
        smoke_obscuration: Math.max(0, 0.2 + jitter() * 0.1),
        temp_c: 22 + wave * 2 + jitter(),
        battery_pct: (s.bat ??= 60 + Math.random() * 40),
      };
    case 'heat':
      return { temp_c: 23 + wave * 3 + jitter(), battery_pct: (s.bat ??= 60 + Math.random() * 40) };
    case 'gas':
      // Metric names as the default rules read them (core/rules/rulesfile.ts): normal values stay below the thresholds.
      return { gas_lel_pct: Math.max(0, 1 + jitter()), co_ppm: Math.max(0, 3 + jitter() * 2) };
    case 'water_level':
      return { water_level_m: 0.1 + wave * 0.05 + jitter() * 0.02 };
    case 'manhole':
      return { tilt_deg: Math.abs(jitter() * 0.5), battery_pct: (s.bat ??= 70 + Math.random() * 30) };
    case 'camera':
      return { fps: 25, bitrate_kbps: 2000 + jitter() * 200 };
    case 'gateway':
      return { uptime_s: Math.round(t / 1000) % 1_000_000, cpu_pct: 10 + Math.random() * 20 };
    default:
      return { value: jitter() };
  }
}

export async function startSimulator(opts: {
  db: Db;
  mqttUrl: string;
  demoKey: string;
  log: Logger;
  /** Multiplies every device's reporting rate (default 1). */
  speed?: number;
  /** Mean seconds between random events across the fleet (default 20). */
  eventEveryS?: number;
}): Promise<Simulator> {
  const { db, log } = opts;
  const speed = opts.speed ?? 1;
  const rows = await db.query<{
    id: string;
    kind: string;
    gateway: string | null;
    lng: number;
    lat: number;
    interval_s: number;
  }>(`SELECT id, kind, gateway, lng, lat, interval_s FROM devices WHERE simulated AND lng IS NOT NULL ORDER BY id`);
  const now = Date.now();
  const devices: SimDevice[] = rows.rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    gateway: r.gateway,
    lng: r.lng,
    lat: r.lat,
    intervalS: r.interval_s,
    seq: Math.floor(now / 1000) * 10, // monotonic across restarts
    next: now + Math.random() * r.interval_s * 1000,
    state: {},
  }));
  const byId = new Map(devices.map((d) => [d.id, d]));
  const gatewayIds = [
    ...new Set(devices.map((d) => (d.kind === 'gateway' ? d.id : d.gateway)).filter((g): g is string => !!g)),
  ];
  const clients = new Map<string, MqttClient>();
  await Promise.all(
    gatewayIds.map(
      (g) =>
        new Promise<void>((resolve) => {
          const c = mqtt.connect(opts.mqttUrl, {
            // Its own id (the client-id rule, ingest/broker/auth.ts): no other client can take this one over.
            clientId: `${g}:sim`,
            username: g,
            password: demoSecret(opts.demoKey, g),
            reconnectPeriod: 2000,
            connectTimeout: 10_000,
            will: { topic: `dev/${g}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
          });
          c.on('error', (e) => log.debug({ gateway: g, err: e.message }, 'sim client error'));
          c.once('connect', () => {
            c.publish(`dev/${g}/status`, 'online', { qos: 1, retain: true });
            resolve();
          });
          setTimeout(resolve, 10_000).unref();
          clients.set(g, c);
        }),
    ),
  );
  const clientFor = (d: SimDevice) => clients.get(d.kind === 'gateway' ? d.id : (d.gateway ?? ''));
  // Children announce themselves online through their gateway.
  for (const d of devices)
    if (d.kind !== 'gateway') clientFor(d)?.publish(`dev/${d.id}/status`, 'online', { qos: 1, retain: true });

  const publishEvent = (d: SimDevice, type: string, severity: string, attrs: Record<string, unknown> = {}) =>
    new Promise<void>((resolve) => {
      const c = clientFor(d);
      if (!c) return resolve();
      const body = { ts: Date.now(), seq: ++d.seq, type, severity, attrs: { ...attrs, simulated: true } };
      c.publish(`dev/${d.id}/event`, JSON.stringify(body), { qos: 1 }, () => resolve());
    });

  const randomEvent = () => {
    const r = Math.random();
    const pick = (kind: string) => {
      const list = devices.filter((d) => d.kind === kind);
      return list[Math.floor(Math.random() * list.length)];
    };
    if (r < 0.45) {
      const cam = pick('camera');
      const label = AI_LABELS[Math.floor(Math.random() * 4)];
      if (cam) void publishEvent(cam, 'ai_detection', 'minor', { label, score: 0.75 + Math.random() * 0.24 });
    } else if (r < 0.6) {
      const d = pick('smoke');
      if (d) void publishEvent(d, 'smoke_alarm', 'major');
    } else if (r < 0.65) {
      const d = pick('smoke') ?? pick('heat');
      if (d) void publishEvent(d, 'fire_alarm', 'critical');
    } else if (r < 0.8) {
      const d = pick('manhole');
      if (d) void publishEvent(d, 'manhole_tilt', 'major', { tilt_deg: 12 + Math.random() * 20 });
    } else if (r < 0.9) {
      const d = pick('water_level');
      if (d) void publishEvent(d, 'water_level', 'major', { water_level_m: 0.5 + Math.random() });
    } else {
      const d = pick('gas');
      if (d) void publishEvent(d, 'gas_alarm', 'critical', { gas_lel_pct: 25 + Math.random() * 30 });
    }
  };

  const tick = () => {
    const t = Date.now();
    for (const d of devices) {
      if (d.next > t) continue;
      d.next = t + (d.intervalS * 1000) / speed;
      const c = clientFor(d);
      if (!c?.connected) continue;
      c.publish(`dev/${d.id}/telemetry`, JSON.stringify({ ts: t, seq: ++d.seq, metrics: telemetry(d, t) }), { qos: 1 });
    }
  };
  const timer = setInterval(tick, 250);
  const eventEveryMs = (opts.eventEveryS ?? 20) * 1000;
  let eventTimer: NodeJS.Timeout;
  const scheduleEvent = () => {
    eventTimer = setTimeout(
      () => {
        randomEvent();
        scheduleEvent();
      },
      eventEveryMs * (0.5 + Math.random()),
    );
  };
  scheduleEvent();

  return {
    deviceCount: devices.length,
    gatewayCount: clients.size,
    async fire(deviceId, type, attrs) {
      const d = byId.get(deviceId);
      if (!d) throw new Error(`no simulated device ${deviceId}`);
      await publishEvent(d, type, type === 'fire_alarm' ? 'critical' : 'major', attrs);
    },
    async stop() {
      clearInterval(timer);
      clearTimeout(eventTimer);
      await Promise.all(
        [...clients.values()].map(
          (c) =>
            new Promise<void>((r) => {
              // Graceful: the retained status says offline (a crash sends the Last Will instead).
              c.publish(`dev/${c.options.username}/status`, 'offline', { qos: 1, retain: true }, () =>
                c.end(false, {}, () => r()),
              );
              setTimeout(r, 2000).unref();
            }),
        ),
      );
    },
  };
}
