/**
 * `npm run bench -- outage`: the database unreachable for 30 s under load (issue 4, "Faults and bad input"),
 * the scenario of test/ingest/outage.ts at the length (OUTAGE_BENCH_MS to change it). The test runs
 * the same scenario with a 10 s outage; this run reports the figures for the full one and fails on the same
 * checks: every message stored exactly once, queue depth under the bound, RSS growth under 150 MiB.
 *
 * Run directly: node --import tsx bench/outage.ts
 */
import { pathToFileURL } from 'node:url';
import {
  OUTAGE_MAX_DEPTH,
  OUTAGE_MAX_RSS_GROWTH,
  OUTAGE_RATE,
  describeOutage,
  outageUnderLoad,
} from '../test/ingest/outage.ts';

const OUTAGE_MS = Number(process.env.OUTAGE_BENCH_MS ?? 30_000);

export async function run() {
  const o = await outageUnderLoad(OUTAGE_MS, 10_000);
  const failures = [
    o.published !== o.total && `published ${o.published} of ${o.total}`,
    o.acked !== o.total && `acknowledged ${o.acked} of ${o.total}`,
    o.stored !== o.total && `stored ${o.stored} of ${o.total}`,
    o.distinct !== o.total && `${o.distinct} distinct (device, seq) of ${o.total}`,
    o.batchFailures === 0 && 'no batch failed: the outage was not seen',
    o.maxDepth >= OUTAGE_MAX_DEPTH && `queue depth ${o.maxDepth} ≥ ${OUTAGE_MAX_DEPTH}`,
    o.maxRssDuringOutage - o.rssAtOutage >= OUTAGE_MAX_RSS_GROWTH &&
      `RSS grew ${((o.maxRssDuringOutage - o.rssAtOutage) / 1048576).toFixed(0)} MiB`,
  ].filter(Boolean);
  if (failures.length) throw new Error(`outage: ${failures.join('; ')}`);
  return {
    name: 'outage',
    metrics: {
      outage_s: o.outageMs / 1000,
      rate_msg_s: OUTAGE_RATE,
      messages: o.total,
      stored_once: o.distinct,
      max_queue_depth: o.maxDepth,
      queue_depth_bound: OUTAGE_MAX_DEPTH,
      rss_at_outage_mib: Math.round(o.rssAtOutage / 1048576),
      rss_peak_during_outage_mib: Math.round(o.maxRssDuringOutage / 1048576),
      publish_s: Number(o.publishS.toFixed(1)),
    },
    ratios: { depth_vs_held_by_devices: o.maxDepth / (OUTAGE_RATE * (o.outageMs / 1000)) },
    notes: [describeOutage(o)],
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.log(JSON.stringify(r, null, 2));
}
