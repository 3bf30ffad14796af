/**
 * Test fixtures for ingest: a small registry (devices, a gateway with children, each secret hashed with
 * the real scrypt), PGlite in memory, the embedded aedes broker with the pipeline's hooks, and MQTT clients.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { spawn } from 'node:child_process';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { PublisherConfig } from './publisher.ts';
import { openPglite, type Db, type Queryable } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { insertDevices, type DeviceInsert } from '../../ingest/store/devices.ts';
import { hashSecret } from '../../ingest/auth/secrets.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../ingest/broker/embedded.ts';
import { createIngest, type IngestDeps, type IngestPipeline } from '../../ingest/consumer/index.ts';

export const SECRETS: Record<string, string> = {
  d1: 'secret-d1-xxxxxxxx',
  d2: 'secret-d2-xxxxxxxx',
  d3: 'secret-d3-xxxxxxxx',
  d4: 'secret-d4-xxxxxxxx',
  gw1: 'secret-gw1-xxxxxxx',
  gw2: 'secret-gw2-xxxxxxx',
  s1: 'secret-s1-xxxxxxxx',
  c1: 'secret-c1-xxxxxxxx',
  c2: 'secret-c2-xxxxxxxx',
};

/** Fixed locations [lng, lat] inside the sample district's box. */
export const FLEET: Omit<DeviceInsert, 'secretHash'>[] = [
  { id: 'gw1', kind: 'gateway', location: [117.2, 39.1], grid: null },
  { id: 'gw2', kind: 'gateway', location: [117.21, 39.11], grid: null },
  { id: 'd1', kind: 'smoke', location: [117.201, 39.101], grid: '120106001001001' },
  { id: 'd2', kind: 'sensor', location: [117.202, 39.102], grid: null },
  { id: 'd3', kind: 'sensor', location: [117.203, 39.103], grid: null },
  { id: 'd4', kind: 'sensor', location: null, grid: null },
  { id: 's1', kind: 'smoke', gateway: 'gw1', location: [117.204, 39.104], grid: null },
  { id: 'c1', kind: 'camera', gateway: 'gw1', location: [117.205, 39.105], grid: null },
  { id: 'c2', kind: 'camera', gateway: 'gw2', location: [117.206, 39.106], grid: null },
];

/** A grid join stand-in: east of 117 is grid 120106001001002, elsewhere outside (nulls). */
export const gridStub: IngestDeps['grids'] = {
  join: (lng: number) => ({
    district: lng > 117 ? '120106' : null,
    street: lng > 117 ? '120106001' : null,
    community: lng > 117 ? '120106001001' : null,
    grid: lng > 117 ? '120106001001002' : null,
  }),
} as IngestDeps['grids'];

let hashed: Promise<DeviceInsert[]> | null = null;
export function fleetRows(): Promise<DeviceInsert[]> {
  hashed ??= Promise.all(FLEET.map(async (d) => ({ ...d, secretHash: await hashSecret(SECRETS[d.id]) })));
  return hashed;
}

export async function seededPglite(): Promise<Db> {
  const db = await openPglite(null);
  await migrate(db);
  await insertDevices(db, await fleetRows());
  return db;
}

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface Rig {
  db: Db;
  registry: Registry;
  ingest: IngestPipeline;
  broker: EmbeddedBroker;
  url: string;
  close(): Promise<void>;
}

/** Embedded broker + pipeline over `db` (the test's own wrapper, e.g. one that delays commits). */
export async function startRig(db: Db, extra: Partial<IngestDeps> = {}): Promise<Rig> {
  const registry = new Registry();
  const ingest = createIngest({ db, grids: gridStub, log: silentLog, registry, ...extra });
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', log: silentLog, aedes: ingest.brokerHooks });
  ingest.attachEmbedded(broker.aedes);
  return {
    db,
    registry,
    ingest,
    broker,
    url: `mqtt://127.0.0.1:${broker.port}`,
    async close() {
      await broker.close();
      await ingest.stop();
    },
  };
}

export async function connect(
  url: string,
  id: string,
  secret = SECRETS[id],
  extra: IClientOptions = {},
): Promise<MqttClient> {
  const c = mqtt.connect(url, {
    clientId: `${id}:${Math.random().toString(36).slice(2, 8)}`,
    username: id,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...extra,
  });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
  c.on('error', () => {});
  return c;
}

export async function count(q: Queryable, sql: string, params: unknown[] = []): Promise<number> {
  const r = await q.query<{ n: string | number }>(sql, params);
  return Number(r.rows[0].n);
}

export async function metricValue(registry: Registry, name: string, labels?: Record<string, string>): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const v = await m.get();
  let sum = 0;
  for (const x of v.values) {
    if ('metricName' in x && x.metricName && x.metricName !== name) continue;
    if (labels && !Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val))
      continue;
    sum += x.value;
  }
  return sum;
}

export async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A Db whose statements can be held (a commit that takes as long as the test says) or made to fail
 * (database unreachable). Wraps a real Db.
 */
export function faultyDb(inner: Db) {
  let gate: Promise<void> | null = null;
  let release: (() => void) | null = null;
  let failUntil = 0;
  const committed: number[] = [];
  const check = async () => {
    if (gate) await gate;
    if (Date.now() < failUntil) throw new Error('connect ECONNREFUSED 127.0.0.1:5432 (simulated)');
  };
  const db: Db = {
    kind: inner.kind,
    async query(sql, params) {
      await check();
      const r = await inner.query(sql, params);
      committed.push(Date.now());
      return r as never;
    },
    async exec(sql) {
      await check();
      await inner.exec(sql);
    },
    async tx(fn) {
      await check();
      const r = await inner.tx(fn);
      committed.push(Date.now());
      return r;
    },
    close: () => inner.close(),
  };
  return {
    db,
    committed,
    hold() {
      gate = new Promise<void>((r) => (release = r));
    },
    release() {
      const r = release;
      gate = null;
      release = null;
      r?.();
    },
    failFor(ms: number) {
      failUntil = Date.now() + ms;
    },
  };
}

/** Run test/ingest/publisher.ts in a child process (its own event loop) and return its report. */
export function runPublisher(
  cfg: PublisherConfig,
): Promise<{ published: number; acked: number; ms: number; latency: { p50: number; p99: number; max: number } }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/ingest/publisher.ts', JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code ? reject(new Error(`publisher exited ${code}`)) : resolve(JSON.parse(out))));
  });
}
