/**
 * Grid studio: validation time after one edit (a shared vertex moved in every grid that has it), p50/p95,
 * on 992 and 9,920 synthetic base grids (test/grid/synthetic.ts lattices): the core topology check alone,
 * and on 992 grids the whole server round trip of an edit (editDraft on PGlite: store the change set,
 * apply it, read the draft back and validate it). Goal (issue 14): ≤ 300 ms p95 on 992 grids.
 * Baseline: one validation of the unedited set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Polygon, Position } from 'geojson';
import { GB15, validateTopology } from '../core/index.ts';
import { createDraftFromImport, editDraft } from '../ingest/grids/drafts.ts';
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

/** Move vertex `v` of grid `k`'s outer ring by `d` degrees in every grid that has the same position. */
function moveShared(fs: GridFeature[], k: number, v: number, d: number): { changed: GridFeature[] } {
  const ring = (fs[k].geometry as Polygon).coordinates[0];
  const [x, y] = ring[v];
  const changed: GridFeature[] = [];
  fs.forEach((f, i) => {
    const coords = (f.geometry as Polygon).coordinates;
    if (!coords[0].some((p) => p[0] === x && p[1] === y)) return;
    const moved: Position[][] = coords.map((r) => r.map((p) => (p[0] === x && p[1] === y ? [x + d, y + d] : p)));
    fs[i] = { ...f, geometry: { type: 'Polygon', coordinates: moved } };
    changed.push(fs[i]);
  });
  return { changed };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function coreRun(cols: number, rows: number, n: number) {
  const fs = features(cols, rows);
  const t0 = performance.now();
  const base = validateTopology(fs as never);
  const baseline = performance.now() - t0;
  if (!base.ok) throw new Error(`synthetic set invalid: ${base.problems[0]?.message}`);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    // An interior grid, a vertex away from the ring start; a small move keeps the set valid.
    const k = Math.floor(fs.length / 2) + i * 3;
    moveShared(fs, k, 1, (i % 2 ? -1 : 1) * 0.00002);
    const t = performance.now();
    const r = validateTopology(fs as never);
    times.push(performance.now() - t);
    if (!r.ok) throw new Error(`edit broke the set: ${r.problems[0]?.message}`);
  }
  return { baseline, p50: pct(times, 50), p95: pct(times, 95), grids: fs.length };
}

async function roundTrip(n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'onegrid-bench-studio-'));
  const db = await openDb({ databaseUrl: null, dataDir: dir });
  try {
    await migrate(db);
    const fs = features(32, 31);
    const d = await createDraftFromImport(db, 'bench', fs, GB15, 'bench');
    let rev = d.rev;
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = Math.floor(fs.length / 2) + i * 3;
      const { changed } = moveShared(fs, k, 1, (i % 2 ? -1 : 1) * 0.00002);
      const t = performance.now();
      const r = await editDraft(db, d.id, 'bench', {
        rev,
        summary: 'move a shared vertex',
        ops: changed.map((f) => ({ op: 'update', code: f.properties.code, after: { geometry: f.geometry } })),
      });
      times.push(performance.now() - t);
      rev = r.draft.rev;
      if (!r.report.ok) throw new Error(`edit broke the draft: ${r.report.problems[0]?.message}`);
    }
    return { p50: pct(times, 50), p95: pct(times, 95) };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchResult> {
  const small = coreRun(32, 31, 40);
  const large = coreRun(124, 80, 10);
  const rt = await roundTrip(20);
  return {
    name: 'studio',
    metrics: {
      'grids (small)': small.grids,
      'validate after one edit, 992 grids p50 (ms)': small.p50,
      'validate after one edit, 992 grids p95 (ms)': small.p95,
      'grids (large)': large.grids,
      'validate after one edit, 9,920 grids p50 (ms)': large.p50,
      'validate after one edit, 9,920 grids p95 (ms)': large.p95,
      'edit round trip (PGlite, store + apply + validate), 992 grids p50 (ms)': rt.p50,
      'edit round trip (PGlite, store + apply + validate), 992 grids p95 (ms)': rt.p95,
    },
    ratios: {
      '992 p95 / full validation baseline': small.p95 / small.baseline,
      '9,920 p95 / 992 p95': large.p95 / small.p95,
    },
    notes: [
      'validation is the whole-set core check (core/grid/topology.ts) run after each edit; goal ≤ 300 ms p95 on 992',
      'the longest main-thread task while dragging a shared vertex needs the studio page (not built)',
    ],
  };
}
