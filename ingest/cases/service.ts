/**
 * The case service: the core case machine (core/cases) over the store (ingest/store/cases.ts), with scope
 * on every read, one transaction per change (row lock → machine with version check → save → trail append)
 * and the live message published only after the commit.
 *
 * Scope (CONTRACT.md "A user never sees or changes anything outside its scope"): what an actor may see is
 * core's `inScope` (grid-code prefix and, for department users, cases assigned or whistled to the
 * department); lists and statistics apply the same rule in SQL. Reading a case outside scope answers
 * `not_found` (existence is not revealed). Acting on one answers 403 `outside_scope` (CONTRACT.md: "403
 * outside the actor's role or scope") — and a scoped actor gets the same 403 for an id that does not exist,
 * so the action endpoint does not reveal existence either; actors without a scope get 404 for unknown ids.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DomainError } from '../../core/errors.ts';
import type {
  Actor,
  Case,
  CaseAction,
  CaseActionName,
  CaseState,
  GridRef,
  Priority,
  TrailEntryDraft,
} from '../../core/cases/types.ts';
import {
  allowedActions as coreAllowedActions,
  applyAction,
  canIntake,
  caseGridCode,
  formatCaseCode,
  inScope,
  newCase,
  type CaseInput,
} from '../../core/cases/machine.ts';
import { DEFAULT_DEADLINES, isOverdue, nextTimerAt, type DeadlineTable } from '../../core/cases/sla.ts';
import { sealEntry, verifyChain, type TrailEntry as CoreTrailEntry } from '../../core/cases/trail.ts';
import { isKnownCategory } from '../../core/cases/categories.ts';
import type { Db, Queryable } from '../store/db.ts';
import {
  ALL_SCOPE,
  appendTrail,
  appendTrailMany,
  getCase,
  getCaseByCode,
  insertCase,
  listCases,
  lockCase,
  lockOpenCaseByRuleKey,
  nextCaseNumber,
  trailRows,
  updateCase,
  type CaseRecord,
  type CaseScope,
  type StoredCase,
} from '../store/cases.ts';
import type { Logger } from '../log.ts';
import type { Audience, LiveMessage } from '../live/hub.ts';
import type { CaseFilter, CasePage, CasePort, IntakeInput, TrailEntry } from './port.ts';
import { CameraIndex } from './cameras.ts';
import { DepartmentDirectory } from './departments.ts';

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

const ENDED: readonly CaseState[] = ['closed', 'rejected', 'merged'];

export interface CaseServiceOptions {
  db: Db;
  grids: { join(lng: number, lat: number): GridRef };
  live?: { publish(msg: LiveMessage, audience: Audience): void } | null;
  log?: Logger;
  /** Wall clock, epoch ms (tests pass their own). */
  now?: () => number;
  deadlines?: DeadlineTable;
  /** Radius for linking cameras to manually reported cases, metres. */
  cameraRadiusM?: number;
  newId?: () => string;
}

/** A change made inside a transaction, published after the commit. */
interface Change {
  c: CaseRecord;
  action: string;
  ruleKey: string | null;
}

/** What the rules runner and the scheduler need inside one transaction. */
export class CaseTx {
  readonly changes: Change[] = [];
  constructor(
    readonly q: Queryable,
    private readonly svc: CaseService,
  ) {}

  lock(id: string): Promise<StoredCase | null> {
    return lockCase(this.q, id);
  }

  lockOpenByRuleKey(ruleKey: string): Promise<StoredCase | null> {
    return lockOpenCaseByRuleKey(this.q, ruleKey);
  }

  /**
   * A new case (state `reported`) with its intake trail entry; `then` applies further actions (e.g. a rule's
   * register and dispatch) before the row is written, so the case is inserted once, already in its final
   * state, with all its trail entries in one statement.
   */
  async create(
    input: CaseInput & {
      address?: string | null;
      mediaUrl?: string | null;
      attributes?: Record<string, unknown> | null;
    },
    actor: Actor,
    opts: { ruleKey?: string | null; reporter?: unknown; then?: { action: CaseAction; actor: Actor }[] } = {},
  ): Promise<StoredCase> {
    const now = this.svc.now();
    const day = formatCaseCode(now, 0).slice(3, 11);
    const n = await nextCaseNumber(this.q, day);
    const { address, mediaUrl, attributes, ...core } = input;
    const made = newCase(core, now, { id: this.svc.newId(), code: formatCaseCode(now, n) }, actor);
    let c: CaseRecord = { ...made.case };
    if (address) c.address = address;
    if (mediaUrl) c.mediaUrl = mediaUrl;
    if (attributes && Object.keys(attributes).length) c.attributes = attributes;
    const entries = [sealEntry(undefined, made.trail, sha256Hex)];
    let lastAction = 'intake';
    for (const step of opts.then ?? []) {
      const r = applyAction(c, step.action, step.actor, now, { deadlines: this.svc.deadlines });
      c = r.case as CaseRecord;
      entries.push(sealEntry(entries[entries.length - 1], r.trail, sha256Hex));
      lastAction = step.action.action;
    }
    const head = entries[entries.length - 1];
    await insertCase(this.q, c, {
      ruleKey: opts.ruleKey ?? null,
      reporter: opts.reporter,
      nextTimerAt: nextTimerAt(c),
      trailSeq: head.seq,
      trailHead: head.hash,
    });
    await appendTrailMany(this.q, entries);
    const stored: StoredCase = { case: c, ruleKey: opts.ruleKey ?? null, trailSeq: head.seq, trailHead: head.hash };
    this.changes.push({ c, action: lastAction, ruleKey: stored.ruleKey });
    return stored;
  }

  /** Apply one machine action to a locked case: version check, save, trail. */
  async apply(s: StoredCase, action: CaseAction, actor: Actor, version?: number): Promise<StoredCase> {
    const now = this.svc.now();
    const r = applyAction(s.case, action, actor, now, {
      deadlines: this.svc.deadlines,
      ...(version === undefined ? {} : { version }),
    });
    return this.save(s, r.case as CaseRecord, r.trail);
  }

  /**
   * A change outside the machine's actions, made by the rules (events added, priority raised, condition
   * cleared): `mutate` edits a copy; the trail records it under `action`. `bumpVersion` false for changes
   * that do not alter what a person decides on (an event counter), so people's optimistic versions stay valid.
   */
  async amend(
    s: StoredCase,
    action: string,
    mutate: (c: CaseRecord) => void,
    trail: { note: string; data: Record<string, unknown> },
    actor: Actor,
    bumpVersion: boolean,
  ): Promise<StoredCase> {
    const now = this.svc.now();
    const next: CaseRecord = JSON.parse(JSON.stringify(s.case)) as CaseRecord;
    mutate(next);
    if (bumpVersion) next.version = s.case.version + 1;
    next.updatedAt = Math.max(now, s.case.updatedAt);
    const draft: TrailEntryDraft = {
      caseId: next.id,
      action: action as TrailEntryDraft['action'],
      actor: actor.id,
      role: actor.role,
      at: now,
      note: trail.note,
      data: JSON.parse(JSON.stringify(trail.data)) as Record<string, unknown>,
      fromState: s.case.state,
      toState: next.state,
      version: next.version,
    };
    return this.save(s, next, draft);
  }

  private async save(s: StoredCase, next: CaseRecord, draft: TrailEntryDraft): Promise<StoredCase> {
    const prev =
      s.trailSeq >= 0 && s.trailHead ? ({ seq: s.trailSeq, hash: s.trailHead } as CoreTrailEntry) : undefined;
    const entry = sealEntry(prev, draft, sha256Hex);
    await updateCase(this.q, next, s.case.version, {
      nextTimerAt: nextTimerAt(next),
      trailSeq: entry.seq,
      trailHead: entry.hash,
    });
    await appendTrail(this.q, entry);
    const out: StoredCase = { case: next, ruleKey: s.ruleKey, trailSeq: entry.seq, trailHead: entry.hash };
    this.changes.push({ c: next, action: draft.action, ruleKey: s.ruleKey });
    return out;
  }
}

export class CaseService implements CasePort {
  readonly db: Db;
  readonly cameras = new CameraIndex();
  readonly departments = new DepartmentDirectory();
  readonly deadlines: DeadlineTable;
  readonly now: () => number;
  readonly newId: () => string;
  private readonly opts: CaseServiceOptions;
  private readonly endedListeners: ((caseId: string, ruleKey: string | null, state: CaseState) => void)[] = [];
  private readonly changeListeners: ((c: Case, action: string) => void)[] = [];

  constructor(opts: CaseServiceOptions) {
    this.opts = opts;
    this.db = opts.db;
    this.now = opts.now ?? (() => Date.now());
    this.newId = opts.newId ?? (() => randomUUID());
    this.deadlines = opts.deadlines ?? DEFAULT_DEADLINES;
  }

  /** Load the camera index and the department directory. */
  async init(): Promise<void> {
    await Promise.all([this.refreshCameras(), this.departments.load(this.db)]);
  }

  /** Rebuild the linked-camera index (call when cameras are added, moved or removed). */
  async refreshCameras(): Promise<number> {
    return this.cameras.load(this.db);
  }

  async refreshDepartments(): Promise<void> {
    await this.departments.load(this.db);
  }

  /** Called after commit for a case that left the open states (closed, rejected, merged). */
  onCaseEnded(fn: (caseId: string, ruleKey: string | null, state: CaseState) => void): void {
    this.endedListeners.push(fn);
  }

  /** Called after commit for every change (metrics, KPI feeds). */
  onChange(fn: (c: Case, action: string) => void): void {
    this.changeListeners.push(fn);
  }

  get cameraRadiusM(): number {
    return this.opts.cameraRadiusM ?? 300;
  }

  // ---------------------------------------------------------------------------------------------------
  // transactions

  /** Run `fn` in one transaction; the live messages of its changes go out after the commit. */
  async transact<T>(fn: (tx: CaseTx) => Promise<T>): Promise<T> {
    let tx: CaseTx | null = null;
    const out = await this.db.tx(async (q) => {
      tx = new CaseTx(q, this);
      return fn(tx);
    });
    this.afterCommit((tx as CaseTx | null)?.changes ?? []);
    return out;
  }

  private afterCommit(changes: Change[]): void {
    // Only the last state of each case is published (an intake + register + dispatch is one message).
    const last = new Map<string, Change>();
    for (const ch of changes) {
      last.delete(ch.c.id);
      last.set(ch.c.id, ch);
    }
    for (const ch of last.values()) {
      try {
        this.publish(ch.c, ch.action);
      } catch (e) {
        this.opts.log?.error({ err: e }, 'live publish failed');
      }
      for (const fn of this.changeListeners) this.safely(() => fn(ch.c, ch.action));
      if (ENDED.includes(ch.c.state)) {
        for (const fn of this.endedListeners) this.safely(() => fn(ch.c.id, ch.ruleKey, ch.c.state));
      }
    }
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.opts.log?.error({ err: e }, 'case listener failed');
    }
  }

  /** Who may receive a case's live message: its grid's scope, and the departments it names. */
  audienceOf(c: Case): Audience {
    const departments = new Set<string>();
    if (c.assignee?.kind === 'department') departments.add(c.assignee.id);
    for (const w of c.whistles) departments.add(w.department);
    // A case outside every grid goes to no grid scope ('' starts no scoped user's prefix): only admins and
    // the departments it names (the hub treats `grid: null` as "everyone", which would leak it).
    return { grid: caseGridCode(c.grid) ?? '', departments: [...departments] };
  }

  publish(c: Case, action: string): void {
    if (!this.opts.live) return;
    const view = this.view(c);
    this.opts.live.publish(
      {
        type: 'case',
        action,
        id: c.id,
        code: c.code,
        state: c.state,
        priority: c.priority,
        version: c.version,
        case: view,
      },
      this.audienceOf(c),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // CasePort

  /** The case as clients get it: `overdue` also true when the deadline passed before the timer ran. */
  view<C extends Case>(c: C): C {
    return { ...c, overdue: c.overdue || isOverdue(c, this.now()) };
  }

  async intake(input: IntakeInput, actor: Actor): Promise<Case> {
    if (!isKnownCategory(input.category)) {
      throw new DomainError('validation_failed', `unknown category ${input.category}`, { field: 'category' });
    }
    const loc = input.location;
    if (
      !Array.isArray(loc) ||
      loc.length !== 2 ||
      !Number.isFinite(loc[0]) ||
      !Number.isFinite(loc[1]) ||
      Math.abs(loc[0]) > 180 ||
      Math.abs(loc[1]) > 90
    ) {
      throw new DomainError('validation_failed', 'location must be [lng, lat] within [-180, 180] × [-90, 90]', {
        field: 'location',
      });
    }
    const grid = this.joinGrid(loc);
    if (!canIntake(actor, grid)) {
      if (['dispatcher', 'commander', 'gridworker'].includes(actor.role)) {
        throw new DomainError('outside_scope', 'the location lies outside your grid scope');
      }
      throw new DomainError('forbidden', `role ${actor.role} may not take in cases`);
    }
    const reporter =
      input.reporter && Object.values(input.reporter).some((v) => v !== undefined && v !== '') ? input.reporter : null;
    const stored = await this.transact((tx) =>
      tx.create(
        {
          title: input.title,
          description: input.description,
          category: input.category,
          priority: input.priority,
          location: [loc[0], loc[1]],
          grid,
          source: input.source,
          linkedCameras: this.cameras.near([loc[0], loc[1]], this.cameraRadiusM),
          address: input.address ?? null,
          mediaUrl: input.mediaUrl ?? null,
          attributes: input.attributes ?? null,
        },
        actor,
        { reporter },
      ),
    );
    return this.view(stored.case);
  }

  joinGrid(loc: [number, number] | null): GridRef {
    if (!loc) return { district: null, street: null, community: null, grid: null };
    try {
      const g = this.opts.grids.join(loc[0], loc[1]);
      return {
        district: g.district ?? null,
        street: g.street ?? null,
        community: g.community ?? null,
        grid: g.grid ?? null,
      };
    } catch {
      return { district: null, street: null, community: null, grid: null };
    }
  }

  async get(id: string, actor: Actor): Promise<Case> {
    const s = await getCase(this.db, id);
    if (!s || !inScope(actor, s.case)) throw new DomainError('not_found', `no case ${id}`);
    return this.view(s.case);
  }

  async getByCode(code: string, actor: Actor): Promise<Case> {
    const s = await getCaseByCode(this.db, code);
    if (!s || !inScope(actor, s.case)) throw new DomainError('not_found', `no case ${code}`);
    return this.view(s.case);
  }

  /** By id, or by code when it looks like one (`HQ-20261123-0001`). */
  getByIdOrCode(idOrCode: string, actor: Actor): Promise<Case> {
    return /^[A-Z]{2,}-\d{8}-\d+$/.test(idOrCode) ? this.getByCode(idOrCode, actor) : this.get(idOrCode, actor);
  }

  async list(filter: CaseFilter, actor: Actor): Promise<CasePage> {
    const scope = scopeOfActor(actor);
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500);
    let gridPrefix = filter.grid || undefined;
    if (gridPrefix && scope.gridPrefix) {
      if (scope.gridPrefix.startsWith(gridPrefix))
        gridPrefix = undefined; // the scope is narrower already
      else if (!gridPrefix.startsWith(scope.gridPrefix)) return { cases: [], nextCursor: null };
    }
    const rows = await listCases(
      this.db,
      {
        state: filter.state as CaseState[] | undefined,
        category: filter.category,
        source: filter.source,
        priority: filter.priority,
        gridPrefix,
        overdue: filter.overdue,
        from: filter.from,
        to: filter.to,
        updatedSince: filter.updatedSince,
        ids: filter.ids,
        q: filter.q,
        limit: limit + 1,
        after: filter.cursor ? decodeCursor(filter.cursor) : null,
        now: this.now(),
      },
      scope,
    );
    // Belt and braces: the SQL scope is core's inScope; a row it let through that core refuses is dropped.
    const page = rows.slice(0, limit).filter((c) => inScope(actor, c));
    const more = rows.length > limit;
    const lastRow = rows[limit - 1];
    return {
      cases: page.map((c) => this.view(c)),
      nextCursor: more && lastRow ? encodeCursor(lastRow.createdAt, lastRow.id) : null,
    };
  }

  async act(id: string, action: CaseAction & { version: number }, actor: Actor): Promise<Case> {
    if (!action || typeof action !== 'object') throw new DomainError('validation_failed', 'body must be an action');
    const { version, ...rest } = action as CaseAction & { version: unknown };
    if (typeof version !== 'number' || !Number.isInteger(version)) {
      throw new DomainError('validation_failed', 'version (the version you saw) is required', { field: 'version' });
    }
    const scoped =
      actor.role !== 'admin' &&
      actor.role !== 'system' &&
      (!!actor.scope.grid || !!actor.scope.department || actor.role === 'department');
    const stored = await this.transact(async (tx) => {
      const s = await tx.lock(id);
      if (!s || !inScope(actor, s.case)) {
        if (scoped) throw new DomainError('outside_scope', `no case ${id} within your scope`);
        throw new DomainError('not_found', `no case ${id}`);
      }
      let a = rest as CaseAction;
      if (a.action === 'merge' && typeof a.into === 'string' && a.into !== '') {
        a = { ...a, into: await this.survivor(tx, a.into, s.case, actor) };
      }
      const done = await tx.apply(s, a, actor, version);
      if (a.action === 'merge') await this.absorb(tx, a.into, s.case, actor);
      return done;
    });
    return this.view(stored.case);
  }

  /**
   * The surviving case of a merge takes over what the merged one gathered — its event count and linked
   * cameras — in the same transaction, with a trail entry naming it. Its version is not bumped (nothing a
   * person decides on changed), so someone working the survivor is not sent a 409 by a merge.
   */
  private async absorb(tx: CaseTx, intoId: string, merged: Case, actor: Actor): Promise<void> {
    const t = await tx.lock(intoId);
    if (!t) return;
    const cameras = merged.linkedCameras.filter((cam) => !t.case.linkedCameras.includes(cam));
    await tx.amend(
      t,
      'merge_in',
      (n) => {
        n.eventCount += merged.eventCount;
        n.linkedCameras.push(...cameras);
      },
      {
        note: `merged ${merged.code}`,
        data: { from: merged.id, code: merged.code, events: merged.eventCount, cameras },
      },
      actor,
      false,
    );
  }

  /** The surviving case of a merge: an existing case the actor can see, not the same and not ended. */
  private async survivor(tx: CaseTx, into: string, c: Case, actor: Actor): Promise<string> {
    const t = /^[A-Z]{2,}-\d{8}-\d+$/.test(into) ? await getCaseByCode(tx.q, into) : await getCase(tx.q, into);
    if (!t || !inScope(actor, t.case)) {
      throw new DomainError('validation_failed', `into: no case ${into}`, { field: 'into' });
    }
    if (t.case.id === c.id) throw new DomainError('validation_failed', 'a case cannot be merged into itself');
    if (ENDED.includes(t.case.state)) {
      throw new DomainError('validation_failed', `into: case ${t.case.code} is ${t.case.state}`, { field: 'into' });
    }
    return t.case.id;
  }

  async trail(
    id: string,
    actor: Actor,
  ): Promise<{ entries: TrailEntry[]; verified: boolean; brokenAt: number | null }> {
    const s = /^[A-Z]{2,}-\d{8}-\d+$/.test(id) ? await getCaseByCode(this.db, id) : await getCase(this.db, id);
    if (!s || !inScope(actor, s.case)) throw new DomainError('not_found', `no case ${id}`);
    const rows = await trailRows(this.db, s.case.id);
    const verdict = verifyChain(rows, sha256Hex, s.trailHead ?? undefined);
    return {
      entries: rows.map((e) => ({
        seq: e.seq,
        action: e.action,
        actor: e.actor,
        role: e.role,
        at: new Date(e.at).toISOString(),
        note: e.note === '' ? null : e.note,
        data: e.data,
        fromState: e.fromState,
        toState: e.toState,
        version: e.version,
        prevHash: e.prevHash,
        hash: e.hash,
      })),
      verified: verdict.verified,
      brokenAt: verdict.brokenAt,
    };
  }

  allowedActions(c: Case, actor: Actor): string[] {
    return coreAllowedActions(c, actor) as CaseActionName[];
  }

  /** The SQL scope of an actor (for statistics and other tiers that query the store directly). */
  scopeOf(actor: Actor): CaseScope {
    return scopeOfActor(actor);
  }
}

/** Core's read rule (`inScope`) as SQL sees it. */
export function scopeOfActor(actor: Actor): CaseScope {
  if (actor.role === 'admin' || actor.role === 'system') return ALL_SCOPE;
  if (actor.role === 'department' && !actor.scope.department) return { gridPrefix: null, department: null, none: true };
  return { gridPrefix: actor.scope.grid ?? null, department: actor.scope.department ?? null };
}

export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    /* fall through */
  }
  throw new DomainError('validation_failed', 'cursor is not one this API gave out', { field: 'cursor' });
}

export type { Priority };
