/**
 * Grid studio drafts (ingest/grids/drafts.ts) on PGlite with the sample district: change sets with
 * before/after, undo/redo past 200 steps surviving a reopen of the database, the optimistic revision
 * check, history, re-coding with an old→new preview, review by someone else, and an atomic publish
 * that reports the re-joined devices and records `grid_published` in the audit log.
 */
import { rmSync } from 'node:fs';
import type { Polygon } from 'geojson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GB15 } from '../../core/index.ts';
import { loadSampleGrids } from '../../geo-data/index.ts';
import {
  approveDraft,
  createDraftFromImport,
  createDraftFromPublished,
  draftDiff,
  draftGrids,
  draftHistory,
  editDraft,
  getDraft,
  publishDraft,
  recodeDraft,
  redoDraft,
  submitDraft,
  undoDraft,
  validateDraft,
} from '../../ingest/grids/drafts.ts';
import type { GridFeature } from '../../ingest/grids/io.ts';
import { openDb, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { seed } from '../../ingest/seed.ts';
import { seededDataDir } from '../harness/platform.ts';

// The run's seeded data directory (test/harness/platform.ts) when there is one: migrate and seed are then
// no-ops; else a fresh directory that they fill.
const dir = await seededDataDir('onegrid-drafts-');
let db: Db;
const open = async () => {
  db = await openDb({ databaseUrl: null, dataDir: dir });
  await migrate(db);
};
beforeAll(async () => {
  await open();
  await seed(db, { adminPassword: 'drafts-admin-pw-1' });
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const community = loadSampleGrids().features.filter((f) => f.properties.code.startsWith('120106001001'));
const communityFeatures = (): GridFeature[] =>
  community.map((f) => ({
    type: 'Feature',
    properties: {
      code: f.properties.code,
      level: f.properties.level,
      name: f.properties.name,
      parent: f.properties.parent,
      kind: f.properties.kind,
    },
    geometry: f.geometry as Polygon,
  }));

async function refused(p: Promise<unknown>, code: string): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code, (e as Error).message).toBe(code);
    return (e as Error).message;
  }
  throw new Error(`expected ${code}`);
}

describe('grid drafts', () => {
  let small: number;

  it('a draft from an import; an edit is a change set with before and after; a stale rev is refused (409)', async () => {
    const d = await createDraftFromImport(db, 'ana', communityFeatures(), GB15, 'community re-draw');
    small = d.id;
    expect(d).toMatchObject({ state: 'editing', rev: 0, head: 0, createdBy: 'ana', profile: 'gb15' });
    const r = await editDraft(db, small, 'ana', {
      rev: 0,
      summary: 'rename grid 1',
      ops: [{ op: 'update', code: '120106001001001', after: { name: '景福新村社区一网格' } }],
    });
    expect(r.draft).toMatchObject({ rev: 1, head: 1 });
    expect(r.report.ok).toBe(true);
    const c = await db.query<{ ops: { op: string; before: { name: string }; after: { name: string } }[] }>(
      `SELECT ops FROM grid_draft_changes WHERE draft_id = $1 AND seq = 1`,
      [small],
    );
    expect(c.rows[0].ops[0]).toMatchObject({
      op: 'update',
      before: { name: '景福新村社区第1网格' },
      after: { name: '景福新村社区一网格' },
    });
    // Another tab still on revision 0.
    const msg = await refused(
      editDraft(db, small, 'ana', { rev: 0, ops: [{ op: 'delete', code: '120106001001002' }] }),
      'stale_version',
    );
    expect(msg).toMatch(/changed since revision 0 \(now 1\)/);
  });

  it('validation after each edit reports a gap; undo/redo past 200 steps survives reopening the database', async () => {
    let rev = (await getDraft(db, small)).rev;
    const del = await editDraft(db, small, 'ana', { rev, ops: [{ op: 'delete', code: '120106001001007' }] });
    expect(del.report.problems.map((p) => p.kind)).toContain('gap');
    rev = del.draft.rev;
    for (let i = 0; i < 205; i++) {
      const r = await editDraft(db, small, i % 2 ? 'ana' : 'ben', {
        rev,
        ops: [{ op: 'update', code: '120106001001002', after: { households: i } }],
      });
      rev = r.draft.rev;
    }
    expect((await getDraft(db, small)).head).toBe(207);
    await db.close();
    await open(); // a reload: nothing of the history lives in memory
    for (let i = 0; i < 206; i++) rev = (await undoDraft(db, small, 'ana', rev)).draft.rev;
    let grids = await draftGrids(db, small);
    expect(grids.find((g) => g.code === '120106001001002')!.households).toBe(null);
    expect(grids.some((g) => g.code === '120106001001007')).toBe(true); // the delete undone
    expect((await getDraft(db, small)).redoable).toBe(206);
    const redo = await redoDraft(db, small, 'ana', rev);
    rev = redo.draft.rev;
    expect(redo.report.problems.map((p) => p.kind)).toContain('gap');
    rev = (await undoDraft(db, small, 'ana', rev)).draft.rev;
    grids = await draftGrids(db, small);
    expect(grids).toHaveLength(8);
    const history = await draftHistory(db, small);
    expect(history.filter((h) => h.kind === 'edit')).toHaveLength(207);
    expect(new Set(history.filter((h) => h.kind === 'edit').map((h) => h.actor))).toEqual(new Set(['ana', 'ben']));
    expect(history.filter((h) => h.kind === 'undo')).toHaveLength(207);
    expect(history[0]).toMatchObject({ kind: 'created', actor: 'ana' });
  });

  it('an edit after an undo starts from the stored state, not from what the last edit left in memory', async () => {
    let rev = (await getDraft(db, small)).rev;
    rev = (
      await editDraft(db, small, 'ana', {
        rev,
        ops: [{ op: 'update', code: '120106001001003', after: { name: 'temporary' } }],
      })
    ).draft.rev;
    rev = (await undoDraft(db, small, 'ana', rev)).draft.rev;
    const r = await editDraft(db, small, 'ana', {
      rev,
      ops: [{ op: 'update', code: '120106001001003', after: { households: 7 } }],
    });
    const g3 = (await draftGrids(db, small)).find((g) => g.code === '120106001001003')!;
    expect(g3).toMatchObject({ name: '景福新村社区第3网格', households: 7 });
    const c = await db.query<{ ops: { before: { name: string } }[] }>(
      `SELECT ops FROM grid_draft_changes WHERE draft_id = $1 AND seq = $2`,
      [small, r.draft.head],
    );
    expect(c.rows[0].ops[0].before.name).toBe('景福新村社区第3网格');
    await undoDraft(db, small, 'ana', r.draft.rev);
  });

  it('re-coding previews old→new west→east, north→south and applies as one undoable change set', async () => {
    let rev = (await getDraft(db, small)).rev;
    const baseline = new Map((await recodeDraft(db, small, 'ana', {})).map.map((m) => [m.old, m.new]));
    // Swap the codes of grids 1 and 7 (one change set, codes exchanged in one go).
    const g = await draftGrids(db, small);
    const g1 = g.find((x) => x.code === '120106001001001')!,
      g7 = g.find((x) => x.code === '120106001001007')!;
    rev = (
      await editDraft(db, small, 'ana', {
        rev,
        ops: [
          { op: 'update', code: g1.code, after: { code: g7.code, name: g1.name } },
          { op: 'update', code: g7.code, after: { code: g1.code, name: g7.name } },
        ],
      })
    ).draft.rev;
    // Where reading order puts each shape: 1 … 7 west→east, north→south (the baseline before the swap).
    const target = (code: string) => baseline.get(code) ?? code;
    const preview = await recodeDraft(db, small, 'ana', { community: '120106001001' });
    expect(preview.result).toBe(null);
    expect(preview.map.length).toBeGreaterThanOrEqual(2);
    const old = new Map(preview.map.map((m) => [m.old, m.new]));
    expect(old.get(g7.code)).toBe(target(g1.code)); // grid 1's shape, now coded 007, goes back
    expect(old.get(g1.code)).toBe(target(g7.code));
    const applied = await recodeDraft(db, small, 'ana', { rev, apply: true });
    expect(applied.result!.report.ok).toBe(true);
    rev = applied.result!.draft.rev;
    expect((await recodeDraft(db, small, 'ana', {})).map).toEqual([]); // in reading order now
    const after = await draftGrids(db, small);
    expect(after.find((x) => x.code === target(g1.code))!.geometry).toEqual(g1.geometry);
    // Undo puts the swapped codes back.
    await undoDraft(db, small, 'ana', rev);
    expect((await draftGrids(db, small)).find((x) => x.code === g7.code)!.geometry).toEqual(g1.geometry);
    const h = await draftHistory(db, small);
    expect(h.filter((e) => e.kind === 'recode').at(-1)).toMatchObject({ kind: 'recode', undone: true });
  });

  it('review: the author cannot approve; another analyst does; publish re-joins devices and is audited', async () => {
    const d = await createDraftFromPublished(db, 'ana');
    let rev = d.rev;
    // Exchange the shapes of two base grids: the devices inside them change grid.
    const g = await draftGrids(db, d.id);
    const a = g.find((x) => x.code === '120106001001001')!,
      b = g.find((x) => x.code === '120106001001002')!;
    rev = (
      await editDraft(db, d.id, 'ana', {
        rev,
        ops: [
          { op: 'update', code: a.code, after: { geometry: b.geometry } },
          { op: 'update', code: b.code, after: { geometry: a.geometry } },
        ],
      })
    ).draft.rev;
    const diff = await draftDiff(db, d.id);
    expect(diff.changed.map((c) => c.code)).toEqual([a.code, b.code]);
    expect(diff.added).toEqual([]);
    rev = (await submitDraft(db, d.id, 'ana', rev)).rev;
    await refused(approveDraft(db, d.id, 'ana', rev), 'forbidden');
    await refused(publishDraft(db, d.id, 'ben', { rev }), 'illegal_transition');
    const approved = await approveDraft(db, d.id, 'ben', rev);
    expect(approved).toMatchObject({ state: 'approved', approvedBy: 'ben' });
    const devs = await db.query<{ id: string; grid: string }>(
      `SELECT id, grid FROM devices WHERE grid = ANY($1::text[]) ORDER BY id`,
      [[a.code, b.code]],
    );
    expect(devs.rows.length).toBeGreaterThan(0);
    const { draft, report } = await publishDraft(db, d.id, 'ben', { rev: approved.rev });
    expect(draft.state).toBe('published');
    expect(report.devicesChanged.map((x) => x.id).sort()).toEqual(devs.rows.map((x) => x.id).sort());
    for (const c of report.devicesChanged) expect([c.from, c.to].sort()).toEqual([a.code, b.code]);
    const audit = await db.query<{ actor: string; target: string }>(
      `SELECT actor, target FROM audit_log WHERE kind = 'grid_published'`,
    );
    expect(audit.rows).toEqual([{ actor: 'ben', target: String(d.versionId) }]);
    await refused(
      editDraft(db, d.id, 'ana', { rev: draft.rev, ops: [{ op: 'delete', code: a.code }] }),
      'illegal_transition',
    );
  });

  it('publishing the small draft would strand devices: refused without confirm, naming the counts', async () => {
    let d = await getDraft(db, small);
    d = await submitDraft(db, small, 'ana', d.rev);
    d = await approveDraft(db, small, 'carol', d.rev);
    const msg = await refused(publishDraft(db, small, 'carol', { rev: d.rev }), 'conflict');
    expect(msg).toMatch(/would leave \d+ device\(s\) and \d+ open case\(s\) without the base grid/);
    expect((await getDraft(db, small)).state).toBe('approved'); // nothing happened
  });

  it('a draft in another code profile (gb14) numbers every base grid afresh; published, devices follow', async () => {
    await refused(createDraftFromPublished(db, 'ana', undefined, 'gb13'), 'invalid_code');
    const before = await db.query<{ code: string; name: string; parent: string }>(
      `SELECT code, name, parent FROM grids WHERE version_id = (SELECT id FROM grid_versions WHERE status = 'published')
         AND level = 4 ORDER BY code`,
    );
    const d = await createDraftFromPublished(db, 'ana', undefined, 'gb14');
    expect(d.profile).toBe('gb14');
    const rows = (await draftGrids(db, d.id)).filter((g) => g.level === 4);
    expect(rows).toHaveLength(before.rows.length);
    for (const r of rows) {
      expect(r.code).toMatch(/^\d{14}$/);
      expect(r.code.slice(0, 12)).toBe(r.parent);
    }
    expect(new Set(rows.map((r) => r.name))).toEqual(new Set(before.rows.map((r) => r.name)));
    // Numbered from 01 inside each community, with no gap.
    const seqs = rows.filter((r) => r.parent === '120106001001').map((r) => Number(r.code.slice(12)));
    expect(seqs.sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i + 1));
    expect((await validateDraft(db, d.id)).ok).toBe(true);
    let rev = (await submitDraft(db, d.id, 'ana', d.rev)).rev;
    rev = (await approveDraft(db, d.id, 'ben', rev)).rev;
    const { report } = await publishDraft(db, d.id, 'ben', { rev });
    expect(report.devicesChanged.length).toBeGreaterThan(0);
    const grids = await db.query<{ grid: string }>(`SELECT DISTINCT grid FROM devices WHERE grid IS NOT NULL`);
    for (const g of grids.rows) expect(g.grid).toMatch(/^\d{14}$/);
  });
});
