/**
 * The database unreachable under load (issue 4, "Faults and bad input"; the scenario is test/ingest/outage.ts):
 * bounded queue and memory during the outage, every message stored exactly once after it. Here the outage
 * lasts 10 s (OUTAGE_MS to change it): the devices must hold RATE × 10 s = 20,000 messages meanwhile, twice
 * the queue bound checked, so an unbounded queue fails as surely as in the 30 s of the issue, which
 * `npm run bench -- outage` runs (with the same checks).
 */
import { expect, it } from 'vitest';
import { OUTAGE_MAX_DEPTH, OUTAGE_MAX_RSS_GROWTH, OUTAGE_RATE, describeOutage, outageUnderLoad } from './outage.ts';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 10_000);

it(
  `survives the database unreachable for ${OUTAGE_MS / 1000} s under load: bounded queue and memory, nothing lost`,
  async () => {
    // Long enough that an unbounded queue would exceed the bound twice over.
    expect(OUTAGE_RATE * (OUTAGE_MS / 1000)).toBeGreaterThanOrEqual(2 * OUTAGE_MAX_DEPTH);
    const o = await outageUnderLoad(OUTAGE_MS);
    console.log(describeOutage(o));
    expect(o.published).toBe(o.total);
    expect(o.acked).toBe(o.total);
    expect(o.stored).toBe(o.total);
    expect(o.distinct).toBe(o.total);
    expect(o.batchFailures).toBeGreaterThan(0);
    expect(o.maxDepth).toBeLessThan(OUTAGE_MAX_DEPTH);
    expect(o.depthAtEnd).toBeLessThan(OUTAGE_MAX_DEPTH);
    expect(o.maxRssDuringOutage - o.rssAtOutage).toBeLessThan(OUTAGE_MAX_RSS_GROWTH);
  },
  OUTAGE_MS + 120_000,
);
