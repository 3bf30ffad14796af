/**
 * The grid studio's drafts (issue 14): a draft is a grid version in status `draft` made from the published
 * set or from an import. Every edit is a change set stored on the server — ops `create | update | delete`,
 * each with the grid `before` and `after` (null for none) — so that undo and redo (unbounded: every change
 * set is kept) survive a reload, the history says who did what, and two tabs cannot silently overwrite
 * each other: each mutation names the draft's `rev` it was made on and a stale one is refused
 * (`stale_version`, 409). After each mutation the draft's topology report is returned: the last report is
 * stored with the draft (migration 011, with its revision and projection latitude) and an edit, undo or
 * redo re-checks only the neighbourhood of the grids it changed (core/grid/studio.ts revalidate, equal to
 * a full check); without a report of the current revision the whole set is checked. Submit, approval and
 * publishing always run the full check (core/grid/topology.ts).
 *
 * Review: the author submits, another analyst or an admin approves (nobody approves a draft they created
 * or edited), and publishing — atomic, ingest/grids/publish.ts — needs an approved draft without topology
 * problems. An edit after approval withdraws it.
 *
 * Grids are GeoJSON in WGS-84, positions [lng, lat]; codes follow the draft's code profile (gb15, gb14,
 * stat20; core/grid/codes.ts).
 */
import type { MultiPolygon, Polygon } from 'geojson';
import {
  DomainError,
  LEVEL_KINDS,
  codeProfile,
  levelOf,
  numberBaseGrids,
  type CodeProfile,
  type EditInput,
  type GridSnapshot,
  type TopologyReport,
  revalidate,
  validateGrids,
} from '../../core/index.ts';
import type { Db, Queryable } from '../store/db.ts';
import { createGridVersion, gridsOfVersion, publishedVersion, type GridRow } from '../store/grids.ts';
import type { GridFeature } from './io.ts';
import { profileOfVersion, publishInTx, type PublishOptions, type PublishReport } from './publish.ts';
import { diffRows, storeVersion, type VersionDiff } from './versions.ts';

export type { EditInput, GridSnapshot };

export interface ChangeOp {
  op: 'create' | 'update' | 'delete';
  before: GridSnapshot | null;
  after: GridSnapshot | null;
}

export type DraftState = 'editing' | 'submitted' | 'approved' | 'published' | 'discarded';

export interface DraftInfo {
  id: number;
  versionId: number;
  baseVersion: number | null;
  label: string;
  state: DraftState;
  profile: string;
  rev: number;
  head: number;
  /** Change sets that redo can re-apply. */
  redoable: number;
  createdBy: string;
  createdAt: string;
  approvedBy: string | null;
}

export interface MutationResult {
  draft: DraftInfo;
  report: TopologyReport;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

async function draftRow(q: Queryable, id: number, forUpdate = false) {
  const r = await q.query<{
    id: number;
    version_id: number;
    base_version: number | null;
    label: string;
    state: DraftState;
    rev: number;
    head: number;
    created_by: string;
    created_at: Date | string;
    approved_by: string | null;
    profile: string;
    changes: number;
  }>(
    `SELECT d.id, d.version_id, d.base_version, d.label, d.state, d.rev, d.head, d.created_by, d.created_at,
            d.approved_by, v.profile, (SELECT count(*)::int FROM grid_draft_changes c WHERE c.draft_id = d.id) AS changes
       FROM grid_drafts d JOIN grid_versions v ON v.id = d.version_id WHERE d.id = $1${forUpdate ? ' FOR UPDATE OF d' : ''}`,
    [id],
  );
  const d = r.rows[0];
  if (!d) throw new DomainError('not_found', `grid draft ${id} does not exist`);
  return d;
}

function info(d: Awaited<ReturnType<typeof draftRow>>): DraftInfo {
  return {
    id: d.id,
    versionId: d.version_id,
    baseVersion: d.base_version,
    label: d.label,
    state: d.state,
    profile: d.profile,
    rev: d.rev,
    head: d.head,
    redoable: d.changes - d.head,
    createdBy: d.created_by,
    createdAt: iso(d.created_at)!,
    approvedBy: d.approved_by,
  };
}

async function event(q: Queryable, draft: number, actor: string, kind: string, detail: Record<string, unknown> = {}) {
  await q.query(`INSERT INTO grid_draft_events (draft_id, actor, kind, detail) VALUES ($1, $2, $3, $4)`, [
    draft,
    actor,
    kind,
    JSON.stringify(detail),
  ]);
}

export async function getDraft(q: Queryable, id: number): Promise<DraftInfo> {
  return info(await draftRow(q, id));
}

export async function listDrafts(q: Queryable): Promise<DraftInfo[]> {
  const r = await q.query<{ id: number }>(`SELECT id FROM grid_drafts WHERE state <> 'discarded' ORDER BY id`);
  const out: DraftInfo[] = [];
  for (const { id } of r.rows) out.push(await getDraft(q, id));
  return out;
}

/** A new draft holding a copy of the published set. */
/**
 * A draft copied from the published set. With `profileId` (gb15, gb14, stat20 …) other than the published
 * set's, the draft changes the district's code profile: district, street and community codes are the same
 * in every profile (6+3+3 digits), and every base grid is numbered afresh in the new profile's width,
 * west→east, north→south inside its community (core/grid/codes.ts numberBaseGrids). The diff and the
 * publish report then show each old→new code. Errors: `not_found` (nothing published), `invalid_code`
 * (unknown profile, or more base grids in a community than the profile's width can number).
 */
export async function createDraftFromPublished(
  db: Db,
  actor: string,
  label?: string,
  profileId?: string,
): Promise<DraftInfo> {
  return db.tx(async (q) => {
    const pub = await publishedVersion(q);
    if (pub === null) throw new DomainError('not_found', 'there is no published grid version to start a draft from');
    const { profile: from } = await profileOfVersion(q, pub);
    const profile = profileId ? codeProfile(profileId) : from;
    const name =
      label ?? (profile.id === from.id ? `draft of version ${pub}` : `draft of version ${pub} in ${profile.id}`);
    const v = await createGridVersion(q, name, 'draft', actor);
    await q.query(`UPDATE grid_versions SET profile = $2 WHERE id = $1`, [v, profile.id]);
    await q.query(
      `INSERT INTO grids (version_id, code, level, name, parent, kind, households, props, geometry)
       SELECT $1, code, level, name, parent, kind, households, props, geometry FROM grids WHERE version_id = $2`,
      [v, pub],
    );
    if (profile.id !== from.id) await renumberBaseGrids(q, v, from, profile);
    return newDraft(q, v, pub, name, actor, { from: 'published', version: pub, profile: profile.id });
  });
}

/** Number every base grid of version `v` afresh in profile `to` (its parents' codes do not change). */
async function renumberBaseGrids(q: Queryable, v: number, from: CodeProfile, to: CodeProfile): Promise<void> {
  const byCommunity = new Map<string, GridRow[]>();
  for (const r of await gridsOfVersion(q, v)) {
    if (r.level !== 4) continue;
    const c = r.code.slice(0, from.lengths[2]);
    if (!byCommunity.has(c)) byCommunity.set(c, []);
    byCommunity.get(c)!.push(r);
  }
  const moves: [string, string][] = [];
  for (const [community, grids] of byCommunity) {
    const codes = numberBaseGrids(community, grids, to);
    grids.forEach((g, i) => moves.push([g.code, codes[i]]));
  }
  // Two steps, so that a new code equal to another grid's old one never collides on (version, code).
  const olds = moves.map(([o]) => o);
  await q.query(`UPDATE grids SET code = '~' || code WHERE version_id = $1 AND code = ANY($2::text[])`, [v, olds]);
  await q.query(
    `UPDATE grids g SET code = m.code FROM unnest($2::text[], $3::text[]) AS m(old, code)
      WHERE g.version_id = $1 AND g.code = '~' || m.old`,
    [v, olds, moves.map(([, c]) => c)],
  );
}

export async function createDraftFromImport(
  db: Db,
  actor: string,
  features: readonly GridFeature[],
  profile: CodeProfile,
  label: string,
): Promise<DraftInfo> {
  return db.tx(async (q) => {
    const v = await storeVersion(q, features, label, actor, profile);
    return newDraft(q, v, await publishedVersion(q), label, actor, { from: 'import', features: features.length });
  });
}

async function newDraft(
  q: Queryable,
  version: number,
  base: number | null,
  label: string,
  actor: string,
  detail: Record<string, unknown>,
): Promise<DraftInfo> {
  const r = await q.query<{ id: number }>(
    `INSERT INTO grid_drafts (version_id, base_version, label, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
    [version, base, label, actor],
  );
  await event(q, r.rows[0].id, actor, 'created', detail);
  return info(await draftRow(q, r.rows[0].id));
}

export async function draftGrids(q: Queryable, id: number): Promise<GridRow[]> {
  return gridsOfVersion(q, (await draftRow(q, id)).version_id);
}

/**
 * The full topology check of the draft's grids as stored, with its own code profile (run before submit,
 * approval and publishing; an edit's check is limited to its neighbourhood, see `mutate`).
 */
export async function validateDraft(q: Queryable, id: number): Promise<TopologyReport> {
  return (await fullCheck(q, await draftRow(q, id))).report;
}

async function fullCheck(q: Queryable, d: { version_id: number; profile: string }) {
  const rows = await gridsOfVersion(q, d.version_id);
  return validateGrids(rows.map(snapshot), { profile: codeProfile(d.profile) });
}

function snapshot(r: GridRow): GridSnapshot {
  return {
    code: r.code,
    level: r.level,
    name: r.name,
    parent: r.parent,
    kind: r.kind,
    households: r.households,
    geometry: r.geometry,
  };
}

function checkGeometry(g: unknown, code: string): Polygon | MultiPolygon {
  const t = (g as { type?: unknown } | null)?.type;
  if ((t !== 'Polygon' && t !== 'MultiPolygon') || !Array.isArray((g as { coordinates?: unknown }).coordinates))
    throw new DomainError('validation_failed', `grid ${code}: geometry must be a GeoJSON Polygon or MultiPolygon`);
  return g as Polygon | MultiPolygon;
}

/** A full snapshot from a client's partial `after` (level, parent, kind from the code when not given). */
function complete(after: EditInput['after'], base: GridSnapshot | null, profile: CodeProfile): GridSnapshot {
  const code = String(after?.code ?? base?.code ?? '');
  const level = levelOf(code, profile);
  if (!level)
    throw new DomainError(
      'invalid_code',
      `"${code}" is not a ${profile.id} grid code (${profile.lengths.join('/')} digits)`,
    );
  const name = after?.name ?? base?.name ?? code;
  if (typeof name !== 'string' || name.length > 200)
    throw new DomainError('validation_failed', `grid ${code}: name must be a string of at most 200 characters`);
  const households = after?.households !== undefined ? after.households : (base?.households ?? null);
  if (households !== null && (!Number.isInteger(households) || households < 0))
    throw new DomainError('validation_failed', `grid ${code}: households must be a whole number ≥ 0 or null`);
  return {
    code,
    level,
    name,
    parent: level > 1 ? code.slice(0, profile.lengths[level - 2]) : null,
    kind: LEVEL_KINDS[level - 1],
    households,
    geometry: checkGeometry(after?.geometry ?? base?.geometry, code),
  };
}

/**
 * Apply ops to a version: every `before` is removed and every `after` inserted, in one go, so that codes
 * may be swapped or shifted (re-coding). Checks that each `before` is what is stored.
 */
async function applyOps(q: Queryable, version: number, ops: readonly ChangeOp[]): Promise<void> {
  const remove = ops.filter((o) => o.before).map((o) => o.before!.code);
  if (new Set(remove).size !== remove.length)
    throw new DomainError('validation_failed', 'a grid is edited twice in one change');
  if (remove.length) {
    const r = await q.query<{ code: string }>(
      `DELETE FROM grids WHERE version_id = $1 AND code = ANY($2::text[]) RETURNING code`,
      [version, remove],
    );
    if (r.rows.length !== remove.length) {
      const gone = remove.filter((c) => !r.rows.some((x) => x.code === c));
      throw new DomainError('conflict', `grid(s) ${gone.join(', ')} are not in the draft (any more)`);
    }
  }
  const add = ops.filter((o) => o.after).map((o) => o.after!);
  for (const g of add) {
    const exists = await q.query(`SELECT 1 FROM grids WHERE version_id = $1 AND code = $2`, [version, g.code]);
    if (exists.rows.length) throw new DomainError('conflict', `grid ${g.code} already exists in the draft`);
    await q.query(
      `INSERT INTO grids (version_id, code, level, name, parent, kind, households, props, geometry)
       VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8)`,
      [version, g.code, g.level, g.name, g.parent, g.kind, g.households, JSON.stringify(g.geometry)],
    );
  }
}

const inverse = (ops: readonly ChangeOp[]): ChangeOp[] =>
  ops.map((o) => ({
    op: o.op === 'create' ? 'delete' : o.op === 'delete' ? 'create' : 'update',
    before: o.after,
    after: o.before,
  }));

function checkRev(d: { rev: number; id: number }, rev: unknown): void {
  if (typeof rev !== 'number' || !Number.isInteger(rev))
    throw new DomainError('validation_failed', 'rev (the draft revision the edit was made on) is required');
  if (rev !== d.rev)
    throw new DomainError(
      'stale_version',
      `draft ${d.id} changed since revision ${rev} (now ${d.rev}): reload it and redo the edit`,
      { rev: d.rev },
    );
}

function checkEditable(d: { state: DraftState; id: number }): void {
  if (d.state === 'published' || d.state === 'discarded')
    throw new DomainError('illegal_transition', `draft ${d.id} is ${d.state} and cannot change`);
}

/**
 * The grids of a draft at a revision, kept in memory by the process that made the revision, so that an
 * edit neither reads nor parses the whole set again. Keyed by the revision, which the locked draft row
 * checks, so another process's (or tab's) change is never missed: a stale entry is simply not used.
 */
const stateCache = new Map<number, { rev: number; grids: Map<string, GridSnapshot> }>();
const CACHE_DRAFTS = 8;

async function gridsAt(q: Queryable, d: { id: number; rev: number; version_id: number }) {
  const hit = stateCache.get(d.id);
  if (hit && hit.rev === d.rev) return new Map(hit.grids);
  return new Map((await gridsOfVersion(q, d.version_id)).map((r) => [r.code, snapshot(r)]));
}

/** Remember a committed revision's grids (a rolled-back one must never be taken for the stored one). */
function remember(id: number, rev: number, grids: Map<string, GridSnapshot>): void {
  stateCache.delete(id);
  if (stateCache.size >= CACHE_DRAFTS) stateCache.delete(stateCache.keys().next().value!);
  stateCache.set(id, { rev, grids });
}

/** The draft's stored report when it is of revision `rev` (with its projection latitude), else null. */
async function storedReport(
  q: Queryable,
  id: number,
  rev: number,
): Promise<{ report: TopologyReport; latitude: number } | null> {
  const r = await q.query<{ report: TopologyReport | null; report_rev: number | null; report_lat: number | null }>(
    `SELECT report, report_rev, report_lat FROM grid_drafts WHERE id = $1`,
    [id],
  );
  const row = r.rows[0];
  if (!row?.report || row.report_rev !== rev || row.report_lat === null) return null;
  return { report: row.report, latitude: Number(row.report_lat) };
}

/** Store the report of revision `rev`, only while the draft is still at that revision. */
async function storeReport(q: Queryable, id: number, rev: number, report: TopologyReport, latitude: number) {
  await q.query(`UPDATE grid_drafts SET report = $2, report_rev = $3, report_lat = $4 WHERE id = $1 AND rev = $3`, [
    id,
    JSON.stringify(report),
    rev,
    latitude,
  ]);
}

/**
 * The draft's topology report at its current revision: the stored one (kept by the last mutation), else
 * a full check (then stored). Not a substitute for the full check before approval and publishing.
 */
export async function draftReport(q: Queryable, id: number): Promise<TopologyReport> {
  const d = await draftRow(q, id);
  const kept = await storedReport(q, id, d.rev);
  if (kept) return kept.report;
  const { report, latitude } = validateGrids((await gridsAt(q, d)).values(), { profile: codeProfile(d.profile) });
  await storeReport(q, id, d.rev, report, latitude);
  return report;
}

/**
 * Apply change set `ops` to draft `d` (locked, on its revision) and bump the revision. The topology
 * report after it checks only the neighbourhood of the changed grids (core/grid/studio.ts revalidate)
 * when the report of revision `d.rev` is stored, else the whole set; it is stored for the next edit.
 */
async function mutate(
  q: Queryable,
  d: Awaited<ReturnType<typeof draftRow>>,
  ops: readonly ChangeOp[],
  current: Map<string, GridSnapshot>,
): Promise<{ result: MutationResult; next: Map<string, GridSnapshot> }> {
  await applyOps(q, d.version_id, ops);
  const next = new Map(current);
  for (const o of ops) if (o.before) next.delete(o.before.code);
  for (const o of ops) if (o.after) next.set(o.after.code, o.after);
  const profile = codeProfile(d.profile);
  const kept = await storedReport(q, d.id, d.rev);
  const { report, latitude } = kept
    ? {
        report: revalidate(kept.report, next.values(), ops, { profile, latitude: kept.latitude }),
        latitude: kept.latitude,
      }
    : validateGrids(next.values(), { profile });
  // An edit withdraws a submission or an approval: the reviewer saw another set.
  await q.query(
    `UPDATE grid_drafts SET rev = rev + 1, state = 'editing', approved_by = NULL, approved_at = NULL WHERE id = $1`,
    [d.id],
  );
  await storeReport(q, d.id, d.rev + 1, report, latitude);
  return { result: { draft: info(await draftRow(q, d.id)), report }, next };
}

/**
 * Apply one change set (the client's edits, completed with `before` from the store) on revision `rev`.
 * Errors: not_found, stale_version (409), conflict (409: a code taken or gone), invalid_code,
 * validation_failed, illegal_transition.
 */
export async function editDraft(
  db: Db,
  id: number,
  actor: string,
  input: { rev: unknown; summary?: unknown; ops: unknown; kind?: string },
): Promise<MutationResult> {
  if (!Array.isArray(input.ops) || input.ops.length === 0 || input.ops.length > 10_000)
    throw new DomainError('validation_failed', 'ops must be a list of 1 to 10,000 edits');
  const { result, next } = await db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkEditable(d);
    checkRev(d, input.rev);
    const profile = codeProfile(d.profile);
    const current = await gridsAt(q, d);
    const ops: ChangeOp[] = (input.ops as EditInput[]).map((e) => {
      if (!e || typeof e !== 'object' || !['create', 'update', 'delete'].includes(e.op))
        throw new DomainError('validation_failed', 'each edit has op create, update or delete');
      if (e.op === 'create') return { op: 'create', before: null, after: complete(e.after, null, profile) };
      const before = current.get(String(e.code));
      if (!before) throw new DomainError('not_found', `grid ${String(e.code)} is not in draft ${id}`);
      if (e.op === 'delete') return { op: 'delete', before, after: null };
      return { op: 'update', before, after: complete(e.after, before, profile) };
    });
    // A new change set drops the ones undone after the head (no branching history).
    await q.query(`DELETE FROM grid_draft_changes WHERE draft_id = $1 AND seq > $2`, [id, d.head]);
    const summary = typeof input.summary === 'string' ? input.summary.slice(0, 500) : '';
    await q.query(
      `INSERT INTO grid_draft_changes (draft_id, seq, actor, kind, summary, ops) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, d.head + 1, actor, input.kind ?? 'edit', summary, JSON.stringify(ops)],
    );
    await q.query(`UPDATE grid_drafts SET head = head + 1 WHERE id = $1`, [id]);
    return mutate(q, d, ops, current);
  });
  remember(id, result.draft.rev, next);
  return result;
}

/** Undo the change set at the head (its inverse applied); `stale_version` on a stale rev. */
export async function undoDraft(db: Db, id: number, actor: string, rev: unknown): Promise<MutationResult> {
  const { result, next } = await db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkEditable(d);
    checkRev(d, rev);
    if (d.head === 0) throw new DomainError('conflict', 'nothing to undo');
    const c = await q.query<{ ops: ChangeOp[]; summary: string }>(
      `SELECT ops, summary FROM grid_draft_changes WHERE draft_id = $1 AND seq = $2`,
      [id, d.head],
    );
    const current = await gridsAt(q, d);
    await q.query(`UPDATE grid_drafts SET head = head - 1 WHERE id = $1`, [id]);
    await event(q, id, actor, 'undo', { seq: d.head, summary: c.rows[0].summary });
    return mutate(q, d, inverse(c.rows[0].ops), current);
  });
  remember(id, result.draft.rev, next);
  return result;
}

/** Re-apply the change set after the head. */
export async function redoDraft(db: Db, id: number, actor: string, rev: unknown): Promise<MutationResult> {
  const { result, next } = await db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkEditable(d);
    checkRev(d, rev);
    const c = await q.query<{ ops: ChangeOp[]; summary: string }>(
      `SELECT ops, summary FROM grid_draft_changes WHERE draft_id = $1 AND seq = $2`,
      [id, d.head + 1],
    );
    if (!c.rows[0]) throw new DomainError('conflict', 'nothing to redo');
    const current = await gridsAt(q, d);
    await q.query(`UPDATE grid_drafts SET head = head + 1 WHERE id = $1`, [id]);
    await event(q, id, actor, 'redo', { seq: d.head + 1, summary: c.rows[0].summary });
    return mutate(q, d, c.rows[0].ops, current);
  });
  remember(id, result.draft.rev, next);
  return result;
}

export interface HistoryEntry {
  at: string;
  actor: string;
  kind: string;
  /** For change sets: its number, summary, op counts, and whether it is undone (after the head). */
  seq?: number;
  summary?: string;
  ops?: { create: number; update: number; delete: number };
  undone?: boolean;
  detail?: Record<string, unknown>;
}

/** Who did what, oldest first: change sets and the other events. */
export async function draftHistory(q: Queryable, id: number): Promise<HistoryEntry[]> {
  const d = await draftRow(q, id);
  const changes = await q.query<{
    seq: number;
    actor: string;
    at: Date;
    kind: string;
    summary: string;
    ops: ChangeOp[];
  }>(`SELECT seq, actor, at, kind, summary, ops FROM grid_draft_changes WHERE draft_id = $1 ORDER BY seq`, [id]);
  const events = await q.query<{ actor: string; at: Date; kind: string; detail: Record<string, unknown> }>(
    `SELECT actor, at, kind, detail FROM grid_draft_events WHERE draft_id = $1 ORDER BY id`,
    [id],
  );
  const out: HistoryEntry[] = [
    ...changes.rows.map((c) => ({
      at: iso(c.at)!,
      actor: c.actor,
      kind: c.kind,
      seq: c.seq,
      summary: c.summary,
      ops: {
        create: c.ops.filter((o) => o.op === 'create').length,
        update: c.ops.filter((o) => o.op === 'update').length,
        delete: c.ops.filter((o) => o.op === 'delete').length,
      },
      undone: c.seq > d.head,
    })),
    ...events.rows.map((e) => ({ at: iso(e.at)!, actor: e.actor, kind: e.kind, detail: e.detail })),
  ];
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

export interface RecodeEntry {
  old: string;
  new: string;
  name: string;
}

/**
 * Re-coding: the base grids of each community (or of `community` only) numbered west→east,
 * north→south (core/grid/codes.ts numberBaseGrids) in the draft's profile. Returns the old→new map of
 * the grids whose code changes; with `apply` it is stored as one change set (undoable).
 */
export async function recodeDraft(
  db: Db,
  id: number,
  actor: string,
  input: { rev?: unknown; community?: unknown; apply?: unknown },
): Promise<{ map: RecodeEntry[]; result: MutationResult | null }> {
  const d = await draftRow(db, id);
  const profile = codeProfile(d.profile);
  const rows = await gridsOfVersion(db, d.version_id);
  const only = typeof input.community === 'string' && input.community ? input.community : null;
  if (only && levelOf(only, profile) !== 3)
    throw new DomainError(
      'invalid_code',
      `community must be a ${profile.id} community code (${profile.lengths[2]} digits)`,
    );
  const byCommunity = new Map<string, GridRow[]>();
  for (const r of rows) {
    if (r.level !== 4) continue;
    const c = r.code.slice(0, profile.lengths[2]);
    if (only && c !== only) continue;
    if (!byCommunity.has(c)) byCommunity.set(c, []);
    byCommunity.get(c)!.push(r);
  }
  const map: RecodeEntry[] = [];
  for (const [community, grids] of byCommunity) {
    const codes = numberBaseGrids(community, grids, profile);
    grids.forEach((g, i) => {
      if (codes[i] !== g.code) map.push({ old: g.code, new: codes[i], name: g.name });
    });
  }
  if (input.apply !== true || map.length === 0) return { map, result: null };
  const ops: EditInput[] = map.map((m) => ({ op: 'update', code: m.old, after: { code: m.new } }));
  const result = await editDraft(db, id, actor, {
    rev: input.rev,
    ops,
    kind: 'recode',
    summary: `re-coded ${map.length} base grid(s) west→east, north→south`,
  });
  return { map, result };
}

/** The draft against the published version: added, removed and changed grids. */
export async function draftDiff(q: Queryable, id: number): Promise<VersionDiff> {
  const d = await draftRow(q, id);
  const pub = await publishedVersion(q);
  const before = pub === null ? [] : await gridsOfVersion(q, pub);
  return { from: pub ?? 0, to: d.version_id, ...diffRows(before, await gridsOfVersion(q, d.version_id)) };
}

/** The author hands the draft to review. */
export async function submitDraft(db: Db, id: number, actor: string, rev: unknown): Promise<DraftInfo> {
  return db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkRev(d, rev);
    if (d.state !== 'editing') throw new DomainError('illegal_transition', `draft ${id} is ${d.state}, not editing`);
    // The reviewer is shown a full check, not one kept from edit to edit.
    const full = await fullCheck(q, d);
    await q.query(`UPDATE grid_drafts SET state = 'submitted', rev = rev + 1 WHERE id = $1`, [id]);
    await storeReport(q, id, d.rev + 1, full.report, full.latitude);
    await event(q, id, actor, 'submitted');
    return info(await draftRow(q, id));
  });
}

/** Another analyst or an admin approves: never someone who created or edited the draft. */
export async function approveDraft(db: Db, id: number, actor: string, rev: unknown): Promise<DraftInfo> {
  return db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkRev(d, rev);
    if (d.state !== 'submitted' && d.state !== 'editing')
      throw new DomainError('illegal_transition', `draft ${id} is ${d.state}: only a draft under review is approved`);
    const authors = await q.query<{ actor: string }>(
      `SELECT DISTINCT actor FROM grid_draft_changes WHERE draft_id = $1`,
      [id],
    );
    if (d.created_by === actor || authors.rows.some((a) => a.actor === actor))
      throw new DomainError(
        'forbidden',
        'nobody approves a draft they made or edited: another analyst or an admin must',
      );
    const { report, latitude } = await fullCheck(q, d);
    if (!report.ok)
      throw new DomainError(
        'topology_invalid',
        `draft ${id} has ${report.problems.length} topology problem(s): fix them before approval`,
        report,
      );
    await q.query(
      `UPDATE grid_drafts SET state = 'approved', approved_by = $2, approved_at = now(), rev = rev + 1 WHERE id = $1`,
      [id, actor],
    );
    await storeReport(q, id, d.rev + 1, report, latitude);
    await event(q, id, actor, 'approved');
    return info(await draftRow(q, id));
  });
}

/**
 * Publish an approved draft without topology problems (atomic: ingest/grids/publish.ts, which also
 * refuses a set that strands devices or open cases unless `confirm`). Returns the re-join report.
 */
export async function publishDraft(
  db: Db,
  id: number,
  actor: string,
  input: { rev: unknown; confirm?: unknown; ip?: string | null; maxOutsideShare?: number },
): Promise<{ draft: DraftInfo; report: PublishReport }> {
  const opts: PublishOptions = {
    force: input.confirm === true,
    actor,
    ip: input.ip ?? null,
    maxOutsideShare: input.maxOutsideShare,
  };
  // One transaction: the draft is locked, checked, published and marked, or nothing happens.
  const report = await db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkRev(d, input.rev);
    if (d.state !== 'approved')
      throw new DomainError(
        'illegal_transition',
        `draft ${id} is ${d.state}: it must be approved before it is published`,
      );
    const topo = (await fullCheck(q, d)).report;
    if (!topo.ok)
      throw new DomainError('topology_invalid', `draft ${id} has ${topo.problems.length} topology problem(s)`, topo);
    const r = await publishInTx(q, d.version_id, opts);
    await q.query(`UPDATE grid_drafts SET state = 'published', published_at = now(), rev = rev + 1 WHERE id = $1`, [
      id,
    ]);
    await event(q, id, actor, 'published', {
      version: d.version_id,
      devicesChanged: r.devicesChanged.length,
      casesChanged: r.casesChanged.length,
      warning: r.warning,
    });
    return r;
  });
  return { draft: info(await draftRow(db, id)), report };
}

/** Discard a draft that is not published (its grid version is removed). */
export async function discardDraft(db: Db, id: number, actor: string): Promise<void> {
  await db.tx(async (q) => {
    const d = await draftRow(q, id, true);
    checkEditable(d);
    await q.query(`UPDATE grid_drafts SET state = 'discarded', rev = rev + 1 WHERE id = $1`, [id]);
    await q.query(`DELETE FROM grids WHERE version_id = $1`, [d.version_id]);
    await event(q, id, actor, 'discarded');
  });
}
