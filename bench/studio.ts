/**
 * Grid studio: validation time after one edit (a shared vertex moved in every grid that has it:
 * core/grid/studio.ts moveSharedVertex), p50/p95, on 992 and 9,920 synthetic base grids
 * (test/grid/synthetic.ts lattices), two ways in the same run:
 * - full: the whole-set core check (core/grid/topology.ts validateTopology) — the baseline;
 * - incremental: the edited neighbourhood only, the rest of the previous report kept
 *   (core/grid/studio.ts revalidate, what the drafts API does since migration 011).
 * And on 992 grids the whole server round trip of an edit (editDraft on PGlite: store the change set,
 * apply it, re-validate the neighbourhood, store the report), beside the full check of the draft
 * (validateDraft, what submit/approve/publish run). Goal (issue 14): ≤ 300 ms p95 on 992 grids.
 *
 * Browser figures: when bench/studio-browser.ts exists (the studio page's own measurement) its
 * `measureDrag(): Promise<{ longestTaskMs: number; grids: number }>` is called and printed
 * (`browserFigures`): the longest main-thread task while dragging a shared vertex.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Polygon, Position } from 'geojson';
import { GB15, applyEdits, moveSharedVertex, revalidate, validateGrids, type GridSnapshot } from '../core/index.ts';
import { createDraftFromImport, editDraft, validateDraft } from '../ingest/grids/drafts.ts';
import type { GridFeature } from '../ingest/grids/io.ts';
import { openDb } from '../ingest/store/db.ts';
import { migrate } from '../ingest/store/migrate.ts';
import { latticeGrids } from '../test/grid/synthetic.ts';
import type { BenchResult } from './run.ts';

function features(cols: number, rows: number): GridFeature[] {
  return latticeGrids({ cols, rows, seed: 7, edgeVertices: 3 }).map((g) => ({
    type: 'Feature',
    properties: { code: g.code, level: 4, name: g.code, parent: g.code.slice(0, 12), kind: 'grid' },
    geometry: g.geometry as Polygon,
  }));
}

function snapshots(cols: number, rows: number): GridSnapshot[] {
  return features(cols, rows).map((f) => ({
    code: f.properties.code,
    level: 4,
    name: f.properties.code,
    parent: f.properties.code.slice(0, 12),
    kind: 'grid',
    households: null,
    geometry: f.geometry as Polygon,
  }));
}

/** The edit of step i: vertex 1 of an interior grid's outer ring moved by ±2e-5° in every grid that has it. */
function editOf(grids: GridSnapshot[], i: number) {
  const k = Math.floor(grids.length / 2) + i * 3;
  const [x, y] = (grids[k].geometry as Polygon).coordinates[0][1];
  const d = (i % 2 ? -1 : 1) * 0.00002;
  const from: Position = [x, y];
  return moveSharedVertex(grids, from, [x + d, y + d]);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Full and incremental validation after each of n edits, measured on the same states. */
function coreRun(cols: number, rows: number, n: number) {
  let grids = snapshots(cols, rows);
  const t0 = performance.now();
  const first = validateGrids(grids);
  const baseline = performance.now() - t0;
  if (!first.report.ok) throw new Error(`synthetic set invalid: ${first.report.problems[0]?.message}`);
  const { latitude } = first;
  let report = first.report;
  const full: number[] = [],
    inc: number[] = [];
  for (let i = 0; i < n; i++) {
    const edits = editOf(grids, i);
    const before = new Map(grids.map((g) => [g.code, g]));
    const next = applyEdits(grids, edits);
    const changes = next
      .filter((g) => before.get(g.code) !== g)
      .map((g) => ({ before: before.get(g.code)!, after: g }));
    let t = performance.now();
    report = revalidate(report, next, changes, { latitude });
    inc.push(performance.now() - t);
    t = performance.now();
    const r = validateGrids(next, { latitude }).report;
    full.push(performance.now() - t);
    if (!r.ok || !report.ok) throw new Error(`edit broke the set: ${(r.problems[0] ?? report.problems[0])?.message}`);
    grids = next;
  }
  return {
    baseline,
    p50: pct(full, 50),
    p95: pct(full, 95),
    incP50: pct(inc, 50),
    incP95: pct(inc, 95),
    grids: grids.length,
  };
}

async function roundTrip(n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'onegrid-bench-studio-'));
  const db = await openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrate(db);
    let grids = snapshots(32, 31);
    const d = await createDraftFromImport(db, 'bench', features(32, 31), GB15, 'bench');
    let rev = d.rev;
    const times: number[] = [],
      fullTimes: number[] = [];
    for (let i = 0; i < n; i++) {
      const edits = editOf(grids, i);
      grids = applyEdits(grids, edits);
      const t = performance.now();
      const r = await editDraft(db, d.id, 'bench', { rev, summary: 'move a shared vertex', ops: edits });
      times.push(performance.now() - t);
      rev = r.draft.rev;
      if (!r.report.ok) throw new Error(`edit broke the draft: ${r.report.problems[0]?.message}`);
      if (i % 4 === 0) {
        const f = performance.now();
        await validateDraft(db, d.id);
        fullTimes.push(performance.now() - f);
      }
    }
    // The first edit has no stored report yet (a full check): leave it out of the figures.
    const steady = times.slice(1);
    return { p50: pct(steady, 50), p95: pct(steady, 95), first: times[0], fullP50: pct(fullTimes, 50) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The studio page's browser measurement, when bench/studio-browser.ts exists (written with the page):
 * `measureDrag()` → the longest main-thread task while dragging a shared vertex, and the grids shown.
 */
export async function browserFigures(): Promise<{ longestTaskMs: number; grids: number } | null> {
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'studio-browser.ts');
  if (!existsSync(file)) return null;
  const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
    measureDrag?: () => Promise<{ longestTaskMs: number; grids: number }>;
  };
  return mod.measureDrag ? mod.measureDrag() : null;
}

export async function run(): Promise<BenchResult> {
  const small = coreRun(32, 31, 40);
  const large = coreRun(124, 80, 10);
  const rt = await roundTrip(21);
  let browser: Awaited<ReturnType<typeof browserFigures>> = null;
  let browserNote = 'bench/studio-browser.ts is not there: no browser figure';
  try {
    browser = await browserFigures();
    if (browser) browserNote = `browser: longest main-thread task while dragging on ${browser.grids} grids`;
  } catch (e) {
    browserNote = `bench/studio-browser.ts failed: ${(e as Error).message}`;
  }
  return {
    name: 'studio',
    metrics: {
      'grids (small)': small.grids,
      'full validation after one edit, 992 grids p50 (ms)': small.p50,
      'full validation after one edit, 992 grids p95 (ms)': small.p95,
      'incremental validation after one edit, 992 grids p50 (ms)': small.incP50,
      'incremental validation after one edit, 992 grids p95 (ms)': small.incP95,
      'grids (large)': large.grids,
      'full validation after one edit, 9,920 grids p50 (ms)': large.p50,
      'full validation after one edit, 9,920 grids p95 (ms)': large.p95,
      'incremental validation after one edit, 9,920 grids p50 (ms)': large.incP50,
      'incremental validation after one edit, 9,920 grids p95 (ms)': large.incP95,
      'edit round trip (PGlite, store + apply + incremental validate), 992 grids p50 (ms)': rt.p50,
      'edit round trip (PGlite, store + apply + incremental validate), 992 grids p95 (ms)': rt.p95,
      'first edit of a draft (no stored report: full check), 992 grids (ms)': rt.first,
      'full check of the draft (validateDraft: submit/approve/publish), 992 grids p50 (ms)': rt.fullP50,
      'browser: longest main-thread task while dragging a shared vertex (ms)': browser?.longestTaskMs ?? null,
      'browser: grids while dragging': browser?.grids ?? null,
    },
    ratios: {
      '992 incremental p95 / full p95 (same edits, same run)': small.incP95 / small.p95,
      '9,920 incremental p95 / full p95 (same edits, same run)': large.incP95 / large.p95,
      '992 full p95 / one validation of the unedited set': small.p95 / small.baseline,
      '9,920 incremental p95 / 992 incremental p95': large.incP95 / small.incP95,
    },
    notes: [
      'incremental = core/grid/studio.ts revalidate (neighbourhood of the changed grids, rest of the previous report kept); full = validateTopology of the whole set; goal ≤ 300 ms p95 on 992',
      'the round trip is editDraft on PGlite after the first edit (which finds no stored report and checks in full)',
      browserNote,
    ],
  };
}
