/**
 * The studio's change sets on the server (ingest/grids/drafts.ts on PGlite): edits made with the editing
 * core (core/grid/studio.ts) are stored as change sets; the report after each edit, undo and redo
 * (neighbourhood only, the stored report kept for the rest) equals a full check of the stored draft;
 * 200 undos after 200 edits restore the original set exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Polygon } from 'geojson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GB15,
  applyEdits,
  moveSharedVertex,
  sortProblems,
  validateGrids,
  type EditInput,
  type GridSnapshot,
  type TopologyReport,
} from '../../core/index.ts';
import {
  createDraftFromImport,
  draftGrids,
  draftReport,
  editDraft,
  redoDraft,
  undoDraft,
} from '../../ingest/grids/drafts.ts';
import type { GridFeature } from '../../ingest/grids/io.ts';
import { openDb, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { latticeGrids, mulberry32 } from './synthetic.ts';

const dir = mkdtempSync(join(tmpdir(), 'onegrid-studio-drafts-'));
let db: Db;
beforeAll(async () => {
  db = await openDb({ databaseUrl: null, dataDir: dir });
  await migrate(db);
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const features = (): GridFeature[] =>
  latticeGrids({ cols: 6, rows: 5, seed: 11, edgeVertices: 2 }).map((g) => ({
    type: 'Feature',
    properties: { code: g.code, level: 4, name: g.code, parent: g.code.slice(0, 12), kind: 'grid' },
    geometry: g.geometry as Polygon,
  }));

const snap = (rows: Awaited<ReturnType<typeof draftGrids>>): GridSnapshot[] =>
  rows
    .map(({ code, level, name, parent, kind, households, geometry }) => ({
      code,
      level,
      name,
      parent,
      kind,
      households,
      geometry,
    }))
    .sort((a, b) => a.code.localeCompare(b.code));

const canon = (r: TopologyReport) => ({ ok: r.ok, problems: sortProblems(r.problems), counts: r.counts });

async function fullOf(id: number, latitude: number) {
  return validateGrids(snap(await draftGrids(db, id)), { profile: GB15, latitude }).report;
}

describe('studio change sets on the server', () => {
  it(
    '200 shared-vertex moves, then 200 undos restore the original set; reports equal a full check',
    { timeout: 300_000 },
    async () => {
      const d = await createDraftFromImport(db, 'ana', features(), GB15, 'studio undo depth');
      const original = snap(await draftGrids(db, d.id));
      const { latitude } = validateGrids(original, { profile: GB15 });
      // Opening the draft keeps its full report (revision 0), so even the first edit is checked incrementally.
      expect((await draftReport(db, d.id)).ok).toBe(true);
      const kept = async () =>
        (await db.query<{ report_rev: number }>(`SELECT report_rev FROM grid_drafts WHERE id = $1`, [d.id])).rows[0]
          .report_rev;
      expect(await kept()).toBe(0);
      const rnd = mulberry32(5);
      let grids = original;
      let rev = d.rev;
      for (let i = 0; i < 200; i++) {
        const g = grids[Math.floor(rnd() * grids.length)];
        const ring = (g.geometry as Polygon).coordinates[0];
        const p = ring[Math.floor(rnd() * (ring.length - 1))];
        // Mostly small moves; every 7th a large one that breaks the set (overlaps), to compare reports that say something.
        const step = i % 7 === 3 ? 0.0008 : 0.00002;
        const edits: EditInput[] = moveSharedVertex(grids, p, [
          p[0] + (rnd() - 0.5) * step,
          p[1] + (rnd() - 0.5) * step,
        ]);
        grids = applyEdits(grids, edits);
        const r = await editDraft(db, d.id, 'ana', { rev, ops: edits, summary: `move ${i}` });
        rev = r.draft.rev;
        if (i === 0) expect(await kept()).toBe(rev);
        if (i % 20 === 0 || !r.report.ok)
          expect(canon(r.report), `edit ${i}`).toEqual(canon(await fullOf(d.id, latitude)));
      }
      expect(snap(await draftGrids(db, d.id))).toEqual([...grids].sort((a, b) => a.code.localeCompare(b.code)));
      for (let i = 0; i < 200; i++) {
        const r = await undoDraft(db, d.id, 'ana', rev);
        rev = r.draft.rev;
        if (i % 25 === 0) expect(canon(r.report), `undo ${i}`).toEqual(canon(await fullOf(d.id, latitude)));
      }
      const back = snap(await draftGrids(db, d.id));
      expect(back).toEqual(original);
      const redo = await redoDraft(db, d.id, 'ana', rev);
      expect(canon(redo.report)).toEqual(canon(await fullOf(d.id, latitude)));
      expect(redo.draft.redoable).toBe(199);
    },
  );
});
