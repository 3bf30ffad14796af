// MQTT ingest benchmark (issue 4): sustained QoS 1 throughput end to end — many publishing connections →
// embedded aedes → authenticate/ACL → validate → join → batched store → PUBACK after commit — on PGlite and
// on PostgreSQL; publish-to-stored latency p50/p99 at a steady 5,000 msg/s (publish → PUBACK, and the PUBACK
// is sent only after the commit); peak RSS of the broker+ingest process.
//
// Baseline (same run): raw broker pass-through — publisher → aedes (no hooks) → one QoS 1 subscriber,
// nothing stored. Publishers run in a child process (test/ingest/publisher.ts) so they do not share the
// measured event loop. Targets: ≥ 20,000 msg/s durable on PostgreSQL, ≥ 30% of pass-through, p99 ≤ 50 ms.
//
//   node --import tsx bench/ingest.ts        (or: npm run bench -- ingest)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { openPglite, openPostgres, type Db } from '../ingest/store/db.ts';
import { migrate } from '../ingest/store/migrate.ts';
import { insertDevices } from '../ingest/store/devices.ts';
import { hashSecret } from '../ingest/auth/secrets.ts';
import { startEmbeddedBroker } from '../ingest/broker/embedded.ts';
import { createIngest } from '../ingest/consumer/index.ts';
import { startPostgres } from '../test/harness/postgres.ts';
import { gridStub, runPublisher } from '../test/ingest/helpers.ts';
import type { PublisherConfig } from '../test/ingest/publisher.ts';

const N = Number(process.env.INGEST_BENCH_N ?? 200_000);
const CONNS = Number(process.env.INGEST_BENCH_CONNS ?? 32);
const DEVICES_PER_CONN = 4;
const WINDOW = Number(process.env.INGEST_BENCH_WINDOW ?? 500);
const STEADY_RATE = 5000;
const STEADY_MS = Number(process.env.INGEST_BENCH_STEADY_MS ?? 10_000);
const SECRET = 'bench-secret-0123456789';
const log = pino({ level: 'silent' });

interface Result {
  name: 'ingest';
  metrics: Record<string, number | string | null>;
  ratios: Record<string, number | null>;
  notes: string[];
}

/** Peak RSS of this process while fn runs. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  try {
    const value = await fn();
    return { value, peakRss: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(t);
  }
}

function fleet(withAuth: boolean): PublisherConfig['clients'] {
  return Array.from({ length: CONNS }, (_, c) => {
    const gw = `bgw${c}`;
    return {
      username: withAuth ? gw : undefined,
      password: withAuth ? SECRET : undefined,
      topicIds: Array.from({ length: DEVICES_PER_CONN }, (_, k) => `bdev${c}-${k}`),
    };
  });
}

async function seed(db: Db): Promise<void> {
  await migrate(db);
  const hash = await hashSecret(SECRET);
  const rows = [];
  for (let c = 0; c < CONNS; c++) {
    rows.push({
      id: `bgw${c}`,
      kind: 'gateway',
      location: [117.2, 39.1] as [number, number],
      grid: null,
      secretHash: hash,
    });
    for (let k = 0; k < DEVICES_PER_CONN; k++)
      rows.push({
        id: `bdev${c}-${k}`,
        kind: 'sensor',
        gateway: `bgw${c}`,
        location: [117.2 + c / 1000, 39.1 + k / 1000] as [number, number],
        grid: null,
        secretHash: hash,
      });
  }
  await insertDevices(db, rows);
}

async function passThrough(): Promise<{ rate: number; peakRss: number }> {
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', log });
  const url = `mqtt://127.0.0.1:${broker.port}`;
  // The subscriber in its own process too: the baseline measures the broker, not a client sharing its loop.
  const sub = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/ingest/subscriber.ts', url, 'dev/+/telemetry', String(N), '120000'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  let buf = '';
  const ready = new Promise<void>((resolve) =>
    sub.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        if (buf.slice(0, i) === 'ready') resolve();
        buf = buf.slice(i + 1);
      }
    }),
  );
  const exited = new Promise<void>((r) => sub.once('exit', () => r()));
  await ready;
  const t0 = Date.now();
  const { peakRss } = await withPeakRss(async () => {
    await runPublisher({ url, clients: fleet(false), total: N, rate: 0, window: WINDOW, seqBase: 0 });
    await exited;
  });
  await broker.close();
  const r = JSON.parse(lines.find((l) => l.startsWith('{'))!) as { got: number; lastAt: number };
  return { rate: (r.got / (r.lastAt - t0)) * 1000, peakRss };
}

async function ingestRun(
  db: Db,
  label: string,
): Promise<{ rate: number; p50: number; p99: number; peakRss: number; steadyPeakRss: number; stored: number }> {
  const registry = new Registry();
  const ingest = createIngest({ db, grids: gridStub, log, registry });
  const broker = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', log, aedes: ingest.brokerHooks });
  ingest.attachEmbedded(broker.aedes);
  const url = `mqtt://127.0.0.1:${broker.port}`;
  // Warm-up: credentials verified and cached, registry loaded, JIT warm.
  await runPublisher({ url, clients: fleet(true), total: 5000, rate: 0, window: WINDOW, seqBase: 10_000_000 });
  const sustained = await withPeakRss(() =>
    runPublisher({ url, clients: fleet(true), total: N, rate: 0, window: WINDOW, seqBase: 0 }),
  );
  const steady = await withPeakRss(() =>
    runPublisher({
      url,
      clients: fleet(true),
      total: Math.floor((STEADY_RATE * STEADY_MS) / 1000),
      rate: STEADY_RATE,
      window: WINDOW,
      seqBase: 20_000_000,
    }),
  );
  const r = await db.query<{ n: string }>(`SELECT count(*) n FROM readings WHERE seq < 10000000`);
  await broker.close();
  await ingest.stop();
  const s = sustained.value;
  if (s.acked !== N) throw new Error(`${label}: ${s.acked} of ${N} acknowledged`);
  return {
    rate: (s.acked / s.ms) * 1000,
    p50: steady.value.latency.p50,
    p99: steady.value.latency.p99,
    peakRss: sustained.peakRss,
    steadyPeakRss: steady.peakRss,
    stored: Number(r.rows[0].n),
  };
}

export async function run(): Promise<Result> {
  const notes: string[] = [];
  const raw = await passThrough();

  // PGlite on files, as `npm start` runs it (DATA_DIR): the in-memory file system grows its files by copying.
  const liteDir = mkdtempSync(path.join(tmpdir(), 'onegrid-bench-pglite-'));
  const lite = await openPglite(liteDir);
  await seed(lite);
  const pglite = await ingestRun(lite, 'pglite');
  await lite.close();
  rmSync(liteDir, { recursive: true, force: true });

  const pg = await startPostgres({ postgis: false });
  let postgres;
  try {
    const db = await openPostgres(pg.url, 4);
    await seed(db);
    postgres = await ingestRun(db, 'postgres');
    await db.close();
  } finally {
    await pg.stop();
  }
  if (pglite.stored !== N || postgres.stored !== N)
    notes.push(`stored rows differ from ${N}: ${pglite.stored}, ${postgres.stored}`);
  notes.push(
    `${N.toLocaleString('en-US')} QoS 1 messages from ${CONNS} gateway connections × ${DEVICES_PER_CONN} devices, window ${WINDOW} unacked per connection`,
    'latency = publish → PUBACK at a steady 5,000 msg/s; the PUBACK is sent only after the batch committed',
    'PostgreSQL: local cluster, fsync off (test harness); PGlite: files in a temp directory',
  );
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  return {
    name: 'ingest',
    metrics: {
      passthrough_msgs_per_s: Math.round(raw.rate),
      pglite_msgs_per_s: Math.round(pglite.rate),
      postgres_msgs_per_s: Math.round(postgres.rate),
      pglite_p50_ms_at_5k: round(pglite.p50),
      pglite_p99_ms_at_5k: round(pglite.p99),
      postgres_p50_ms_at_5k: round(postgres.p50),
      postgres_p99_ms_at_5k: round(postgres.p99),
      passthrough_peak_rss_mib: mib(raw.peakRss),
      pglite_peak_rss_mib: mib(Math.max(pglite.peakRss, pglite.steadyPeakRss)),
      postgres_peak_rss_mib: mib(Math.max(postgres.peakRss, postgres.steadyPeakRss)),
    },
    ratios: {
      postgres_vs_passthrough: round(postgres.rate / raw.rate),
      pglite_vs_passthrough: round(pglite.rate / raw.rate),
      postgres_vs_target_20k: round(postgres.rate / 20_000),
    },
    notes,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  const rows = [...Object.entries(r.metrics), ...Object.entries(r.ratios).map(([k, v]) => [`ratio: ${k}`, v])];
  const w = Math.max(...rows.map(([k]) => String(k).length));
  console.log(
    `\n== ingest ==\n${rows.map(([k, v]) => `${String(k).padEnd(w)}  ${v}`).join('\n')}\n${r.notes.map((n) => `note: ${n}`).join('\n')}`,
  );
  process.exit(0);
}
