/**
 * Cases and their trail in SQL: one named query per function. The whole case record lives in `cases.doc`
 * (jsonb); the columns beside it are derived from it on every write and serve filters, scope and timers.
 * The trail is append-only (a trigger of 001_init.sql refuses UPDATE and DELETE).
 *
 * Callers that change a case hold its row lock (`lockCase`, `SELECT … FOR UPDATE`) for the whole
 * transaction, so version check, save and trail append happen as one.
 */
import { DomainError } from '../../core/errors.ts';
import type { Case, CaseState } from '../../core/cases/types.ts';
import { caseGridCode } from '../../core/cases/machine.ts';
import type { TrailEntry } from '../../core/cases/trail.ts';
import type { Queryable } from './db.ts';

/** A stored case: the core record plus the intake extras kept on the document (Open311 address, media). */
export type CaseRecord = Case & {
  address?: string | null;
  mediaUrl?: string | null;
  attributes?: Record<string, unknown> | null;
};

export interface StoredCase {
  case: CaseRecord;
  ruleKey: string | null;
  trailSeq: number;
  trailHead: string | null;
}

/** Who may see what, as SQL sees it (derived from the actor by the service). */
export interface CaseScope {
  /** Grid-code prefix; null = every grid (and cases with no grid). */
  gridPrefix: string | null;
  /** Only cases assigned to, or whistling, this department; null = no department limit. */
  department: string | null;
  /** True: nothing is visible (e.g. a department user without a department). */
  none?: boolean;
}

export const ALL_SCOPE: CaseScope = Object.freeze({ gridPrefix: null, department: null });

const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : new Date(v as string).getTime());
const ts = (v: number | null | undefined): Date | null => (v === null || v === undefined ? null : new Date(v));

interface Raw {
  doc: CaseRecord | string;
  rule_key: string | null;
  trail_seq: number;
  trail_head: string | null;
}

function toStored(r: Raw): StoredCase {
  const doc = (typeof r.doc === 'string' ? JSON.parse(r.doc) : r.doc) as CaseRecord;
  return { case: doc, ruleKey: r.rule_key, trailSeq: Number(r.trail_seq), trailHead: r.trail_head };
}

/** The columns derived from a case record, in the order of the INSERT/UPDATE below. */
function derived(c: CaseRecord, nextTimerAt: number | null) {
  return {
    state: c.state,
    priority: c.priority,
    level: c.level,
    category: c.category,
    source: c.source,
    grid: caseGridCode(c.grid),
    department: c.assignee?.kind === 'department' ? c.assignee.id : null,
    deadline: ts(c.deadline),
    overdue: c.overdue,
    nextTimerAt: ts(nextTimerAt),
    version: c.version,
    createdAt: new Date(c.createdAt),
    updatedAt: new Date(c.updatedAt),
    closedAt: ts(c.closedAt),
    whistled: [...new Set(c.whistles.map((w) => w.department))],
  };
}

/** Next number of the day for the human-readable code (`case_codes` counter; atomic under concurrency). */
export async function nextCaseNumber(q: Queryable, day: string): Promise<number> {
  const r = await q.query<{ n: number }>(
    `INSERT INTO case_codes (day, n) VALUES ($1, 1)
     ON CONFLICT (day) DO UPDATE SET n = case_codes.n + 1
     RETURNING n`,
    [day],
  );
  return Number(r.rows[0].n);
}

export async function insertCase(
  q: Queryable,
  c: CaseRecord,
  opts: {
    ruleKey?: string | null;
    reporter?: unknown;
    nextTimerAt: number | null;
    trailSeq: number;
    trailHead: string;
  },
): Promise<void> {
  const d = derived(c, opts.nextTimerAt);
  await q.query(
    `INSERT INTO cases (id, code, state, priority, level, category, source, grid, department, rule_key, deadline,
                        overdue, next_timer_at, version, created_at, updated_at, closed_at, whistled, reporter,
                        trail_seq, trail_head, doc)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
    [
      c.id,
      c.code,
      d.state,
      d.priority,
      d.level,
      d.category,
      d.source,
      d.grid,
      d.department,
      opts.ruleKey ?? null,
      d.deadline,
      d.overdue,
      d.nextTimerAt,
      d.version,
      d.createdAt,
      d.updatedAt,
      d.closedAt,
      d.whistled,
      opts.reporter === undefined || opts.reporter === null ? null : JSON.stringify(opts.reporter),
      opts.trailSeq,
      opts.trailHead,
      JSON.stringify(c),
    ],
  );
}

/**
 * Save a changed case. `expectedVersion` is the version the row had when it was locked; 0 rows updated
 * means somebody else changed it in between → stale_version (409).
 */
export async function updateCase(
  q: Queryable,
  c: CaseRecord,
  expectedVersion: number,
  opts: { nextTimerAt: number | null; trailSeq: number; trailHead: string | null },
): Promise<void> {
  const d = derived(c, opts.nextTimerAt);
  const r = await q.query(
    `UPDATE cases SET state = $3, priority = $4, level = $5, category = $6, source = $7, grid = $8,
                      department = $9, deadline = $10, overdue = $11, next_timer_at = $12, version = $13,
                      updated_at = $14, closed_at = $15, whistled = $16, trail_seq = $17, trail_head = $18,
                      doc = $19
      WHERE id = $1 AND version = $2`,
    [
      c.id,
      expectedVersion,
      d.state,
      d.priority,
      d.level,
      d.category,
      d.source,
      d.grid,
      d.department,
      d.deadline,
      d.overdue,
      d.nextTimerAt,
      d.version,
      d.updatedAt,
      d.closedAt,
      d.whistled,
      opts.trailSeq,
      opts.trailHead,
      JSON.stringify(c),
    ],
  );
  if (r.rowCount === 0) {
    throw new DomainError('stale_version', `case ${c.code} changed meanwhile (expected version ${expectedVersion})`);
  }
}

export async function appendTrail(q: Queryable, e: TrailEntry): Promise<void> {
  await q.query(
    `INSERT INTO case_trail (case_id, seq, action, actor, role, at, note, data, from_state, to_state, version,
                             prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [
      e.caseId,
      e.seq,
      e.action,
      e.actor,
      e.role,
      new Date(e.at),
      e.note,
      JSON.stringify(e.data),
      e.fromState,
      e.toState,
      e.version,
      e.prevHash,
      e.hash,
    ],
  );
}

/** Several entries in one statement (a case opened and acted on in one go: intake, register, dispatch). */
export async function appendTrailMany(q: Queryable, es: readonly TrailEntry[]): Promise<void> {
  if (es.length === 1) return appendTrail(q, es[0]);
  if (es.length === 0) return;
  await q.query(
    `INSERT INTO case_trail (case_id, seq, action, actor, role, at, note, data, from_state, to_state, version,
                             prev_hash, hash)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                          $8::jsonb[], $9::text[], $10::text[], $11::int[], $12::text[], $13::text[])`,
    [
      es.map((e) => e.caseId),
      es.map((e) => e.seq),
      es.map((e) => e.action),
      es.map((e) => e.actor),
      es.map((e) => e.role),
      es.map((e) => new Date(e.at).toISOString()),
      es.map((e) => e.note),
      es.map((e) => JSON.stringify(e.data)),
      es.map((e) => e.fromState),
      es.map((e) => e.toState),
      es.map((e) => e.version),
      es.map((e) => e.prevHash),
      es.map((e) => e.hash),
    ],
  );
}

const STORED = `doc, rule_key, trail_seq, trail_head`;

/** The case row, locked for this transaction (`FOR UPDATE`); null when there is none. */
export async function lockCase(q: Queryable, id: string): Promise<StoredCase | null> {
  const r = await q.query<Raw>(`SELECT ${STORED} FROM cases WHERE id = $1 FOR UPDATE`, [id]);
  return r.rows[0] ? toStored(r.rows[0]) : null;
}

export async function getCase(q: Queryable, id: string): Promise<StoredCase | null> {
  const r = await q.query<Raw>(`SELECT ${STORED} FROM cases WHERE id = $1`, [id]);
  return r.rows[0] ? toStored(r.rows[0]) : null;
}

export async function getCaseByCode(q: Queryable, code: string): Promise<StoredCase | null> {
  const r = await q.query<Raw>(`SELECT ${STORED} FROM cases WHERE code = $1`, [code]);
  return r.rows[0] ? toStored(r.rows[0]) : null;
}

/** The open case raised under a rule key (one per key: partial unique index cases_open_rule_key), locked. */
export async function lockOpenCaseByRuleKey(q: Queryable, ruleKey: string): Promise<StoredCase | null> {
  const r = await q.query<Raw>(
    `SELECT ${STORED} FROM cases
      WHERE rule_key = $1 AND state NOT IN ('closed', 'rejected', 'merged')
      FOR UPDATE`,
    [ruleKey],
  );
  return r.rows[0] ? toStored(r.rows[0]) : null;
}

export async function reporterOf(q: Queryable, id: string): Promise<Record<string, unknown> | null> {
  const r = await q.query<{ reporter: Record<string, unknown> | null }>(`SELECT reporter FROM cases WHERE id = $1`, [
    id,
  ]);
  return r.rows[0]?.reporter ?? null;
}

export interface CaseQuery {
  state?: CaseState[];
  category?: string;
  source?: string;
  priority?: number;
  gridPrefix?: string;
  overdue?: boolean;
  from?: number;
  to?: number;
  updatedSince?: number;
  ids?: string[];
  q?: string;
  limit: number;
  /** Keyset: rows strictly after (createdAt, id) in (created_at DESC, id DESC) order. */
  after?: { createdAt: number; id: string } | null;
  /** For `overdue`: a case past its deadline in a state whose clock runs counts even before the timer marked it. */
  now: number;
}

function scopeParams(s: CaseScope): [string | null, string | null, boolean] {
  return [s.gridPrefix, s.department, !!s.none];
}

/** Cases in scope matching the filter, newest first, keyset-paged. */
export async function listCases(q: Queryable, f: CaseQuery, scope: CaseScope): Promise<CaseRecord[]> {
  const [gp, dept, none] = scopeParams(scope);
  const r = await q.query<{ doc: CaseRecord | string }>(
    `SELECT doc FROM cases
      WHERE NOT $1::bool
        AND ($2::text IS NULL OR grid LIKE $2 || '%')
        AND ($3::text IS NULL OR department = $3 OR $3 = ANY (whistled))
        AND ($4::text[] IS NULL OR state = ANY ($4))
        AND ($5::text IS NULL OR category = $5 OR category LIKE $5 || '.%')
        AND ($6::text IS NULL OR source = $6)
        AND ($7::int IS NULL OR priority = $7)
        AND ($8::text IS NULL OR grid LIKE $8 || '%')
        AND ($9::bool IS NULL OR (overdue OR (deadline < $10 AND state IN ('registered', 'dispatched', 'in_progress', 'handled'))) = $9)
        AND ($11::timestamptz IS NULL OR created_at >= $11)
        AND ($12::timestamptz IS NULL OR created_at < $12)
        AND ($13::timestamptz IS NULL OR updated_at >= $13)
        AND ($14::text[] IS NULL OR id = ANY ($14))
        AND ($15::text IS NULL OR doc->>'title' ILIKE $15 OR code ILIKE $15 OR doc->>'description' ILIKE $15)
        AND ($16::timestamptz IS NULL OR (created_at, id) < ($16, $17::text))
      ORDER BY created_at DESC, id DESC
      LIMIT $18`,
    [
      none,
      gp,
      dept,
      f.state && f.state.length ? f.state : null,
      f.category ?? null,
      f.source ?? null,
      f.priority ?? null,
      f.gridPrefix ?? null,
      f.overdue ?? null,
      new Date(f.now),
      ts(f.from),
      ts(f.to),
      ts(f.updatedSince),
      f.ids && f.ids.length ? f.ids : null,
      f.q ? `%${f.q.replace(/[\\%_]/g, (m) => '\\' + m)}%` : null,
      f.after ? new Date(f.after.createdAt) : null,
      f.after ? f.after.id : null,
      f.limit,
    ],
  );
  return r.rows.map((x) => (typeof x.doc === 'string' ? JSON.parse(x.doc) : x.doc) as CaseRecord);
}

/** The whole trail of a case, in order. */
export async function trailRows(q: Queryable, caseId: string): Promise<TrailEntry[]> {
  const r = await q.query<{
    case_id: string;
    seq: number;
    action: string;
    actor: string;
    role: string;
    at: Date | string;
    note: string | null;
    data: Record<string, unknown> | string;
    from_state: string | null;
    to_state: string | null;
    version: number | null;
    prev_hash: string;
    hash: string;
  }>(
    `SELECT case_id, seq, action, actor, role, at, note, data, from_state, to_state, version, prev_hash, hash
       FROM case_trail WHERE case_id = $1 ORDER BY seq`,
    [caseId],
  );
  return r.rows.map((x) => ({
    caseId: x.case_id,
    seq: Number(x.seq),
    action: x.action as TrailEntry['action'],
    actor: x.actor,
    role: x.role as TrailEntry['role'],
    at: ms(x.at),
    note: x.note ?? '',
    data: (typeof x.data === 'string' ? JSON.parse(x.data) : x.data) as Record<string, unknown>,
    fromState: x.from_state as CaseState | null,
    toState: x.to_state as CaseState,
    version: x.version === null ? 0 : Number(x.version),
    prevHash: x.prev_hash,
    hash: x.hash,
  }));
}

/**
 * Ids of cases whose next timer is due, locked for this transaction and skipped when another process holds
 * them (`FOR UPDATE SKIP LOCKED`): several schedulers never take the same case.
 */
export async function lockDueTimers(q: Queryable, now: number, limit: number): Promise<StoredCase[]> {
  const r = await q.query<Raw>(
    `SELECT ${STORED} FROM cases
      WHERE next_timer_at IS NOT NULL AND next_timer_at <= $1
      ORDER BY next_timer_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [new Date(now), limit],
  );
  return r.rows.map(toStored);
}

/** Cases in scope that may be due in [from, to) (deadline or closing inside the window), for indicators. */
export async function casesForStats(
  q: Queryable,
  scope: CaseScope,
  window: { from: number; to: number },
): Promise<CaseRecord[]> {
  const [gp, dept, none] = scopeParams(scope);
  const r = await q.query<{ doc: CaseRecord | string }>(
    `SELECT doc FROM cases
      WHERE NOT $1::bool
        AND ($2::text IS NULL OR grid LIKE $2 || '%')
        AND ($3::text IS NULL OR department = $3 OR $3 = ANY (whistled))
        AND ((deadline >= $4 AND deadline < $5) OR (closed_at >= $4 AND closed_at < $5))`,
    [none, gp, dept, new Date(window.from), new Date(window.to)],
  );
  return r.rows.map((x) => (typeof x.doc === 'string' ? JSON.parse(x.doc) : x.doc) as CaseRecord);
}

/** Counts of cases in scope by state (open work now, for the wall and /api/stats). */
export async function countByState(q: Queryable, scope: CaseScope): Promise<Record<string, number>> {
  const [gp, dept, none] = scopeParams(scope);
  const r = await q.query<{ state: string; n: string | number }>(
    `SELECT state, count(*) AS n FROM cases
      WHERE NOT $1::bool
        AND ($2::text IS NULL OR grid LIKE $2 || '%')
        AND ($3::text IS NULL OR department = $3 OR $3 = ANY (whistled))
      GROUP BY state`,
    [none, gp, dept],
  );
  return Object.fromEntries(r.rows.map((x) => [x.state, Number(x.n)]));
}

/** Devices online / total under a grid prefix (the device online ratio of /api/stats). */
export async function deviceOnline(
  q: Queryable,
  gridPrefix: string | null,
): Promise<{ online: number; total: number }> {
  const r = await q.query<{ online: string | number; total: string | number }>(
    `SELECT count(*) FILTER (WHERE online) AS online, count(*) AS total FROM devices
      WHERE kind <> 'gateway' AND ($1::text IS NULL OR grid LIKE $1 || '%')`,
    [gridPrefix],
  );
  return { online: Number(r.rows[0]?.online ?? 0), total: Number(r.rows[0]?.total ?? 0) };
}

/** Move a case's timer without changing the case (a due timer that had nothing to do, or failed). */
export async function setNextTimer(q: Queryable, id: string, at: number | null): Promise<void> {
  await q.query(`UPDATE cases SET next_timer_at = $2 WHERE id = $1`, [id, ts(at)]);
}
