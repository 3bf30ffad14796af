/**
 * `npm run bench -- field`: the server's intake of patrol track batches from the grid worker's app with
 * 1,000 workers patrolling (ingest/field/tracks.ts over PGlite, in process): each worker sends a batch of
 * 20 fixes (~5 minutes at one fix per 15 s) walking its own base grid; fixes stored per second, thinning,
 * grid join and clock check included. Baseline: the same rows written by one plain multi-row INSERT per batch
 * (no thinning, no join), in the same run. Also the daily figures (distance, duration, coverage) per worker.
 *
 * In headless Chromium against the whole platform (bench/field-browser.ts; `--no-browser` skips it): time to
 * save a report with three 12-megapixel photos offline, outbox drain of 50 reports after reconnecting, photo
 * size after compression.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Polygon } from 'geojson';
import { buildGridIndex, GridJoiner } from '../core/index.ts';
import { openPglite } from '../ingest/store/db.ts';
import { migrate } from '../ingest/store/migrate.ts';
import { storeTrackBatch, type TrackDeps, parseTrackBatch } from '../ingest/field/tracks.ts';
import { patrolSummary } from '../ingest/field/tracks.ts';
import type { BenchResult } from './run.ts';
import { browserFigures, type BrowserFigures } from './field-browser.ts';

const WORKERS = 1000;
const FIXES = 20;

export async function run(): Promise<BenchResult> {
  const fc = JSON.parse(readFileSync('geo-data/sample/grids.geojson', 'utf8')) as {
    features: { properties: { code: string; level: number }; geometry: Polygon }[];
  };
  const base = fc.features.filter((f) => f.properties.level === 4);
  const joiner = new GridJoiner(buildGridIndex(base.map((f) => ({ code: f.properties.code, geometry: f.geometry }))));
  const db = await openPglite(null);
  await migrate(db);
  const byCode = new Map(base.map((f) => [f.properties.code, f.geometry]));
  const deps: TrackDeps = {
    db,
    gridAt: (lng, lat) => joiner.join(lng, lat).grid ?? null,
    gridGeometry: (code) => byCode.get(code) ?? null,
  };
  const now = Date.now();
  // Worker i walks round the ring of base grid i (mod 992), one fix per ~15 s, ~10 m apart.
  const batches = Array.from({ length: WORKERS }, (_, i) => {
    const ring = base[i % base.length].geometry.coordinates[0];
    const fixes = Array.from({ length: FIXES }, (_, k) => {
      const a = ring[k % (ring.length - 1)];
      const b = ring[(k + 1) % (ring.length - 1)];
      return { t: now - (FIXES - k) * 15_000, lng: (a[0] + b[0]) / 2, lat: (a[1] + b[1]) / 2, accuracyM: 6 };
    });
    return { user: `w${i}`, batch: parseTrackBatch({ patrol: randomUUID(), fixes }) };
  });

  let t = performance.now();
  let stored = 0;
  for (const { user, batch } of batches) {
    const r = await db.tx((q) => storeTrackBatch(q, deps, user, batch, { sentAt: now, receivedAt: now }));
    stored += r.accepted as number;
  }
  const intakeS = (performance.now() - t) / 1000;

  await db.exec(
    `CREATE TABLE bench_fixes (username text, fix_time timestamptz, lng float8, lat float8, PRIMARY KEY (username, fix_time))`,
  );
  t = performance.now();
  for (const { user, batch } of batches) {
    const vals = batch.fixes.map((_, k) => `($1, to_timestamp($${k * 3 + 2} / 1000.0), $${k * 3 + 3}, $${k * 3 + 4})`);
    await db.query(`INSERT INTO bench_fixes VALUES ${vals.join(',')}`, [
      user,
      ...batch.fixes.flatMap((f) => [f.t, f.lng, f.lat]),
    ]);
  }
  const baselineS = (performance.now() - t) / 1000;

  t = performance.now();
  const day = (await import('../ingest/field/tracks.ts')).localDay(now - 60_000);
  for (let i = 0; i < 50; i++)
    await patrolSummary(deps, { username: `w${i}`, name: `w${i}`, scopeGrid: base[i].properties.code }, day);
  const summaryMs = (performance.now() - t) / 50;
  await db.close();

  const b: BrowserFigures | null = process.argv.includes('--no-browser') ? null : await browserFigures();

  const fixesPerS = (WORKERS * FIXES) / intakeS;
  const baselinePerS = (WORKERS * FIXES) / baselineS;
  return {
    name: 'field',
    metrics: {
      workers: WORKERS,
      fixesSent: WORKERS * FIXES,
      fixesStored: stored,
      trackIntakeFixesPerS: Math.round(fixesPerS),
      baselinePlainInsertFixesPerS: Math.round(baselinePerS),
      daySummaryMsPerWorker: Number(summaryMs.toFixed(1)),
      saveReport3PhotosOfflineMs: b?.saveMs ?? null,
      saveReportTapToSavedMs: b?.tapToSavedMs ?? null,
      compress3PhotosInBackgroundMs: b?.compressMs ?? null,
      outboxDrain50ReportsS: b?.drainS ?? null,
      drainedCases: b?.drainedCases ?? null,
      photoOriginalBytes: b?.originalBytes ?? null,
      photoBytesAfterCompression: b?.compressedBytes ?? null,
      photoBytesAfterCompressionMax: b?.compressedBytesMax ?? null,
    },
    ratios: {
      trackIntakeVsPlainInsert: Number((fixesPerS / baselinePerS).toFixed(3)),
      photoCompressedVsOriginal: b ? Number((b.compressedBytes / b.originalBytes).toFixed(4)) : null,
      saveVsGoal1s: b ? Number((b.saveMs / 1000).toFixed(3)) : null,
      drainVsGoal30s: b ? Number((b.drainS / 30).toFixed(3)) : null,
    },
    notes: [
      'PGlite in process; one transaction per batch (as POST /api/field/actions does)',
      ...(b?.notes ?? ['browser figures skipped (--no-browser): null']),
    ],
  };
}
