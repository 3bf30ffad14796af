/**
 * The database unreachable under load (issue 4, "Faults and bad input"), as one scenario shared by the test
 * (test/ingest/outage.test.ts, a short outage) and the benchmark (bench/outage.ts, the 30 s):
 * publishers in a child process keep publishing QoS 1 at a steady `RATE`; every statement fails for
 * `outageMs`. The consumer must stop taking messages (queue depth bounded, memory bounded), retry, and after
 * recovery have stored every message exactly once. Returns what the caller checks.
 */
import type { Db } from '../../ingest/store/db.ts';
import { SECRETS, count, faultyDb, metricValue, runPublisher, seededPglite, startRig, waitFor } from './helpers.ts';

/** Messages per second, all publishers together. */
export const OUTAGE_RATE = 2000;
/**
 * The queue bound checked: the broker stops reading from the publishers, so what one socket read returned
 * per connection stays in flight (a 64 KiB read or two of ~90-byte messages, ≤ ~1,500 each, 4 connections).
 * An outage is long enough to prove the bound when RATE × outage is well above it (10 s: 20,000 messages).
 */
export const OUTAGE_MAX_DEPTH = 4 * 2500;
/** Growth of this process's RSS (broker + ingest + PGlite; the publishers are another process) allowed. */
export const OUTAGE_MAX_RSS_GROWTH = 150 * 1024 * 1024;

export interface OutageResult {
  outageMs: number;
  /** Messages the publishers sent and had acknowledged. */
  total: number;
  published: number;
  acked: number;
  /** Rows stored, and distinct (device, seq) among them: equal to `total` when nothing was lost or doubled. */
  stored: number;
  distinct: number;
  batchFailures: number;
  maxDepth: number;
  depthAtEnd: number;
  rssAtOutage: number;
  maxRssDuringOutage: number;
  /** Publishing time (s) and the whole scenario's (s). */
  publishS: number;
  totalS: number;
}

export async function outageUnderLoad(outageMs: number, afterMs = 6_000): Promise<OutageResult> {
  const runMs = outageMs + afterMs;
  const base: Db = await seededPglite();
  const fault = faultyDb(base);
  const rig = await startRig(fault.db, { options: { retryMaxMs: 1000 } });
  try {
    const ids = ['d1', 'd2', 'd3', 'gw1'];
    const total = Math.floor((OUTAGE_RATE * runMs) / 1000);
    const pub = runPublisher({
      url: rig.url,
      clients: ids.map((id) => ({ username: id, password: SECRETS[id], topicIds: id === 'gw1' ? ['s1'] : [id] })),
      total,
      rate: OUTAGE_RATE,
      window: 1_000_000, // devices keep publishing: their own outboxes grow, not ours
      seqBase: 0,
    });
    let maxDepth = 0;
    let maxRss = 0;
    let failing = false;
    const t0 = Date.now();
    const sampler = setInterval(() => {
      maxDepth = Math.max(maxDepth, rig.ingest.queueDepth);
      if (failing) maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }, 100);
    let depthAtEnd: number;
    let rssAtOutage: number;
    let r: Awaited<typeof pub>;
    try {
      // Under load first (the publisher process may take a while to start on a busy machine).
      await waitFor(async () => (await count(base, `SELECT count(*) n FROM readings`)) >= OUTAGE_RATE, 60_000, 50);
      rssAtOutage = process.memoryUsage().rss;
      failing = true;
      fault.failFor(outageMs);
      await new Promise((res) => setTimeout(res, outageMs));
      failing = false;
      depthAtEnd = rig.ingest.queueDepth;
      r = await pub;
    } finally {
      clearInterval(sampler);
    }
    return {
      outageMs,
      total,
      published: r.published,
      acked: r.acked,
      stored: await count(base, `SELECT count(*) n FROM readings`),
      distinct: await count(base, `SELECT count(DISTINCT (device_id, seq)) n FROM readings`),
      batchFailures: await metricValue(rig.registry, 'onegrid_ingest_batch_failures_total'),
      maxDepth,
      depthAtEnd,
      rssAtOutage,
      maxRssDuringOutage: maxRss,
      publishS: r.ms / 1000,
      totalS: (Date.now() - t0) / 1000,
    };
  } finally {
    await rig.close();
    await base.close();
  }
}

export function describeOutage(o: OutageResult): string {
  const mib = (n: number) => (n / 1048576).toFixed(0);
  return (
    `outage ${o.outageMs} ms: ${o.total} published in ${o.publishS.toFixed(1)} s, max queue depth ${o.maxDepth}, ` +
    `RSS at outage start ${mib(o.rssAtOutage)} MiB, peak during outage ${mib(o.maxRssDuringOutage)} MiB, ` +
    `total ${o.totalS.toFixed(1)} s`
  );
}
