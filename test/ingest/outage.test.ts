/**
 * The database unreachable for 30 seconds under load (issue 4, "Faults and bad input"): publishers in a
 * child process keep publishing QoS 1 at a steady rate; every statement fails meanwhile. The consumer must
 * stop taking messages (queue depth bounded, memory bounded), retry, and after recovery have stored every
 * message exactly once. OUTAGE_MS shortens the outage for a quick run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../ingest/store/db.ts';
import {
  SECRETS,
  count,
  faultyDb,
  metricValue,
  runPublisher,
  seededPglite,
  startRig,
  waitFor,
  type Rig,
} from './helpers.ts';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 30_000);
const RATE = 2000; // messages per second, all publishers together
const RUN_MS = OUTAGE_MS + 10_000;

let base: Db;
let fault: ReturnType<typeof faultyDb>;
let rig: Rig;
beforeAll(async () => {
  base = await seededPglite();
  fault = faultyDb(base);
  rig = await startRig(fault.db, { options: { retryMaxMs: 1000 } });
});
afterAll(async () => {
  await rig?.close();
  await base?.close();
});

it(
  `survives the database unreachable for ${OUTAGE_MS / 1000} s under load: bounded queue and memory, nothing lost`,
  async () => {
    const ids = ['d1', 'd2', 'd3', 'gw1'];
    const total = Math.floor((RATE * RUN_MS) / 1000);
    const pub = runPublisher({
      url: rig.url,
      clients: ids.map((id) => ({ username: id, password: SECRETS[id], topicIds: id === 'gw1' ? ['s1'] : [id] })),
      total,
      rate: RATE,
      window: 1_000_000, // devices keep publishing: their own outboxes grow, not ours
      seqBase: 0,
    });
    let maxDepth = 0;
    let maxRss = 0;
    let rssAtOutage = 0;
    let failing = false;
    const t0 = Date.now();
    const sampler = setInterval(() => {
      maxDepth = Math.max(maxDepth, rig.ingest.queueDepth);
      if (failing) maxRss = Math.max(maxRss, process.memoryUsage().rss);
      // (RSS of this process: broker + ingest + PGlite; the publishers are another process.)
    }, 100);
    // Under load first (the publisher process may take a while to start on a busy machine).
    await waitFor(async () => (await count(base, `SELECT count(*) n FROM readings`)) >= RATE, 60_000, 50);
    const storedBefore = await count(base, `SELECT count(*) n FROM readings`);
    expect(storedBefore).toBeGreaterThan(0);
    rssAtOutage = process.memoryUsage().rss;
    failing = true;
    fault.failFor(OUTAGE_MS);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    failing = false;
    const depthAtEnd = rig.ingest.queueDepth;
    const r = await pub;
    clearInterval(sampler);

    expect(r.published).toBe(total);
    expect(r.acked).toBe(total);
    expect(await count(base, `SELECT count(*) n FROM readings`)).toBe(total);
    expect(await count(base, `SELECT count(DISTINCT (device_id, seq)) n FROM readings`)).toBe(total);
    expect(await metricValue(rig.registry, 'onegrid_ingest_batch_failures_total')).toBeGreaterThan(0);
    // Bounded: the broker stopped reading from the publishers (what one socket read returned per connection
    // stays in flight: a 64 KiB read or two of ~90-byte messages, ≤ ~1,500 each), far below the
    // RATE × OUTAGE messages (60,000 for 30 s) the devices had to hold meanwhile.
    expect(maxDepth).toBeLessThan(4 * 2500);
    expect(depthAtEnd).toBeLessThan(4 * 2500);
    expect(maxRss - rssAtOutage).toBeLessThan(150 * 1024 * 1024);
    console.log(
      `outage ${OUTAGE_MS} ms: ${total} published in ${(r.ms / 1000).toFixed(1)} s, max queue depth ${maxDepth}, ` +
        `RSS at outage start ${(rssAtOutage / 1048576).toFixed(0)} MiB, peak during outage ${(maxRss / 1048576).toFixed(0)} MiB, total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  },
  RUN_MS + 90_000,
);
