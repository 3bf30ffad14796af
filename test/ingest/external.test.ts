/**
 * External broker mode with real parts: Debian's Mosquitto, a real PostgreSQL, two ingest processes
 * sharing `$share/ingest/…` (MQTT 5). Every message stored exactly once; `kill -9` of one ingest process
 * in the middle of a QoS 1 stream, then a restart: rows stored = messages published, no duplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt from 'mqtt';
import { openPostgres, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { insertDevices } from '../../ingest/store/devices.ts';
import { startPostgres, type PostgresHandle } from '../harness/postgres.ts';
import { startMosquitto, type MosquittoHandle } from './mosquitto.ts';
import { count, fleetRows, runPublisher, waitFor } from './helpers.ts';

let pg: PostgresHandle;
let mosq: MosquittoHandle;
let db: Db;
const workers = new Map<string, { proc: ChildProcess; out: string[] }>();

function startWorker(clientId: string): Promise<void> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/ingest/ingest-worker.ts', pg.url, mosq.url, clientId],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const w = { proc, out: [] as string[] };
  workers.set(clientId, w);
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        w.out.push(line);
        if (line === 'ready') resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`worker ${clientId} exited ${code} before ready`)));
  });
}

async function stopWorker(clientId: string): Promise<{ stored: number }> {
  const w = workers.get(clientId)!;
  const exited = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGTERM');
  await exited;
  workers.delete(clientId);
  return JSON.parse(w.out.find((l) => l.startsWith('{')) ?? '{"stored":0}');
}

beforeAll(async () => {
  [pg, mosq] = await Promise.all([startPostgres({ postgis: false }), startMosquitto()]);
  db = await openPostgres(pg.url, 2);
  await migrate(db);
  await insertDevices(db, await fleetRows());
  await Promise.all([startWorker('ingest-a'), startWorker('ingest-b')]);
}, 120_000);

afterAll(async () => {
  for (const w of workers.values()) w.proc.kill('SIGKILL');
  await db?.close();
  await mosq?.stop();
  await pg?.stop();
});

const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ topicIds: [['d1', 'd2', 'd3', 's1'][i % 4]] }));

describe('external broker mode (Mosquitto + PostgreSQL, two ingest processes)', () => {
  it('stores every message exactly once across two processes sharing the subscription', async () => {
    const total = 20_000;
    const r = await runPublisher({
      url: mosq.url,
      clients: fleet(4),
      total,
      rate: 0,
      window: 500,
      seqBase: 0,
      protocolVersion: 5,
    });
    expect(r.acked).toBe(total);
    await waitFor(async () => (await count(db, `SELECT count(*) n FROM readings`)) >= total, 30_000, 100);
    expect(await count(db, `SELECT count(*) n FROM readings`)).toBe(total);
    expect(await count(db, `SELECT count(DISTINCT (device_id, seq)) n FROM readings`)).toBe(total);
  }, 120_000);

  it('enforces the topic ACL against the registry in the consumer (unregistered device → acl reject)', async () => {
    const c = await mqtt.connectAsync(mosq.url, { protocolVersion: 5 });
    await c.publishAsync('dev/intruder/telemetry', JSON.stringify({ ts: 1, seq: 1, metrics: { a: 1 } }), { qos: 1 });
    await c.publishAsync(
      'frigate/events',
      JSON.stringify({ type: 'new', after: { id: 'x', camera: 'd1', label: 'person', start_time: 1 } }),
      { qos: 1 },
    );
    await c.endAsync();
    await waitFor(
      async () => (await count(db, `SELECT count(*) n FROM ingest_rejects WHERE reason = 'acl'`)) >= 2,
      10_000,
      100,
    );
    expect(await count(db, `SELECT count(*) n FROM readings WHERE device_id = 'intruder'`)).toBe(0);
  }, 30_000);

  it('loses nothing and duplicates nothing when one ingest process is killed with SIGKILL mid-stream', async () => {
    const before = await count(db, `SELECT count(*) n FROM readings`);
    const total = 30_000;
    const pub = runPublisher({
      url: mosq.url,
      clients: fleet(4),
      total,
      rate: 5000,
      window: 2000,
      seqBase: 1_000_000,
      protocolVersion: 5,
    });
    // Mid-stream: once a good part is stored (the publisher process may take a while to start on a busy box).
    await waitFor(async () => (await count(db, `SELECT count(*) n FROM readings`)) - before >= 5000, 60_000, 50);
    const midway = (await count(db, `SELECT count(*) n FROM readings`)) - before;
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(total);
    const a = workers.get('ingest-a')!;
    const killed = new Promise((r) => a.proc.once('exit', r));
    a.proc.kill('SIGKILL');
    await killed;
    workers.delete('ingest-a');
    await new Promise((r) => setTimeout(r, 1000));
    await startWorker('ingest-a'); // same client id: resumes its session, gets its unacknowledged messages again
    const r = await pub;
    expect(r.acked).toBe(total);
    await waitFor(async () => (await count(db, `SELECT count(*) n FROM readings`)) - before >= total, 60_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    expect((await count(db, `SELECT count(*) n FROM readings`)) - before).toBe(total);
    expect(await count(db, `SELECT count(DISTINCT (device_id, seq)) n FROM readings WHERE seq >= 1000000`)).toBe(total);
    // Both processes took part after the restart, and both drain cleanly.
    const [sa, sb] = await Promise.all([stopWorker('ingest-a'), stopWorker('ingest-b')]);
    expect(sa.stored).toBeGreaterThan(0);
    expect(sb.stored).toBeGreaterThan(0);
  }, 180_000);
});
