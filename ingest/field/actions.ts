/**
 * The grid worker's actions (网格通), each sent from the phone's outbox with a client-made UUID as its
 * idempotency key: the first answer is stored with the key and the user, and a repeated key gets that
 * answer again — a report retried ten times over a bad network is one case with one set of photos (ODK's
 * instance id does the same for its submissions; RFC 9110 §9.2.2 idempotent methods).
 *
 * The key is claimed in the same transaction as the change, so two copies racing each other cannot both
 * act: on PostgreSQL the second INSERT waits on the first's unique key and then finds it taken; on PGlite
 * transactions run one at a time. An action that fails (a 4xx) stores nothing: resending it fails again.
 *
 * Kinds:
 * - `report` (一键上报): a case with source `patrol` through the case service; photos attached as case evidence
 *   with their SHA-256 in the trail. `selfHandled` (自处理): the problem was fixed on the spot — the case is
 *   registered and dispatched to the reporter by the system, claimed and handled by the reporter with the
 *   after-photos. It then waits in `handled`: the machine lets nobody verify their own handling (核查 is
 *   independent, core/cases/machine.ts), so closing it is a check by someone else.
 * - `claim` (签收), `handle` (处理反馈, with photos), `comment`: the case machine's actions.
 * - `verify` (核查): only on site — a photo whose GPS (EXIF, else the phone's fix when it was taken) lies
 *   within CHECK_RADIUS_M of the case, or an override reason; distance, source and reason go into the trail.
 * - `track`: a batch of patrol fixes (ingest/field/tracks.ts).
 */
import { DomainError } from '../../core/errors.ts';
import type { Actor, Case, CaseAction } from '../../core/cases/types.ts';
import { canIntake, inScope } from '../../core/cases/machine.ts';
import { categoryById, defaultPriorityOf, isKnownCategory } from '../../core/cases/categories.ts';
import { haversineM } from '../../core/rules/geo.ts';
import { clockSkew } from '../../core/field/patrol.ts';
import { SYSTEM_ACTOR } from '../cases/port.ts';
import type { CaseService, CaseTx } from '../cases/service.ts';
import type { StoredCase } from '../store/cases.ts';
import type { Queryable } from '../store/db.ts';
import { photoInfo } from './uploads.ts';
import { parseFieldAction, type FieldKind } from '../../core/schemas/field.ts';
import { parseTrackBatch, storeTrackBatch, type TrackDeps } from './tracks.ts';

/** 核查 must be made within this distance of the case, metres (issue 15). */
export const CHECK_RADIUS_M = 50;
export { FIELD_KINDS, MAX_PHOTOS, type FieldKind } from '../../core/schemas/field.ts';

export interface FieldAnswer {
  status: number;
  body: Record<string, unknown>;
  /** true when this is the stored answer to a key seen before. */
  replayed: boolean;
}

export interface FieldDeps extends TrackDeps {
  cases: CaseService;
  /** Wall clock, epoch ms. */
  now: () => number;
}

type Input = Record<string, unknown>;

const bad = (msg: string, field?: string): DomainError =>
  new DomainError('validation_failed', msg, field ? { field } : undefined);

// The body's shapes are checked once, up front, by core/schemas/field.ts (parseFieldAction: the schemas the
// OpenAPI document shows). What follows only converts checked values, and checks what a schema cannot say.

/** Trimmed text; blank is absent. (The schema checked type and length.) */
function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v.trim() || undefined : undefined;
}

/** Epoch ms or an ISO-8601 string → epoch ms; undefined when absent. */
function time(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw bad(`${field} must be epoch ms or an ISO-8601 time`, field);
  return t;
}

/** Photo ids without repeats. */
function photoIds(v: unknown): string[] {
  return Array.isArray(v) ? [...new Set(v as string[])] : [];
}

export interface AttachedPhoto {
  sha256: string;
  role: string;
  evidence: string;
  publicEvidence: string;
}

/**
 * Attach stored photos to a case as evidence (migration 006's store, served by
 * `GET /api/cases/{id}/evidence/{eid}`): the original, and the public copy without metadata. Once per
 * (case, photo). The photo's bytes are already in that store (uploads.ts, of no case yet): attaching gives
 * them this case, so each photo is stored once; only a photo attached to a second case is copied for it
 * (inside the database, never through this process). Only photos the actor uploaded may be attached.
 */
export async function attachPhotos(
  q: Queryable,
  caseId: string,
  shas: string[],
  role: string,
  actor: Actor,
): Promise<AttachedPhoto[]> {
  const out: AttachedPhoto[] = [];
  for (const sha of shas) {
    const have = await q.query<{ evidence_id: string; public_evidence_id: string; role: string }>(
      `SELECT evidence_id, public_evidence_id, role FROM field_case_photos WHERE case_id = $1 AND sha256 = $2`,
      [caseId, sha],
    );
    let ev = have.rows[0];
    if (!ev) {
      const own = await q.query<{ evidence_id: string | null; public_evidence_id: string | null }>(
        `SELECT evidence_id, public_evidence_id FROM field_photos WHERE sha256 = $1 AND uploaded_by = $2`,
        [sha, actor.id],
      );
      const stored = own.rows[0];
      if (!stored?.evidence_id || !stored.public_evidence_id)
        throw new DomainError('validation_failed', `no photo ${sha} uploaded by you`, { field: 'photos' });
      // The stored rows become this case's evidence; a photo that already belongs to another case is copied
      // for this one (each case's evidence is its own).
      const taken = await q.query<{ id: string }>(
        `UPDATE case_evidence SET case_id = $1 WHERE id IN ($2, $3) AND case_id IS NULL RETURNING id`,
        [caseId, stored.evidence_id, stored.public_evidence_id],
      );
      let e = String(stored.evidence_id);
      let p = String(stored.public_evidence_id);
      if (taken.rows.length !== 2) {
        const copy = async (id: string) =>
          (
            await q.query<{ id: string }>(
              `INSERT INTO case_evidence (case_id, kind, source, mime, bytes)
               SELECT $1, kind, $2, mime, bytes FROM case_evidence WHERE id = $3 RETURNING id`,
              [caseId, actor.id, id],
            )
          ).rows[0].id;
        const mine = new Set(taken.rows.map((r) => String(r.id)));
        if (!mine.has(e)) e = await copy(e);
        if (!mine.has(p)) p = await copy(p);
      }
      await q.query(
        `INSERT INTO field_case_photos (case_id, sha256, role, evidence_id, public_evidence_id) VALUES ($1, $2, $3, $4, $5)`,
        [caseId, sha, role, e, p],
      );
      ev = { evidence_id: e, public_evidence_id: p, role };
    }
    out.push({
      sha256: sha,
      role: ev.role,
      evidence: `/api/cases/${caseId}/evidence/${ev.evidence_id}`,
      publicEvidence: `/api/cases/${caseId}/evidence/${ev.public_evidence_id}`,
    });
  }
  return out;
}

/** The trail entry recording attached photos by SHA-256 (the case's version is not bumped). */
async function recordPhotos(tx: CaseTx, s: StoredCase, photos: AttachedPhoto[], actor: Actor): Promise<StoredCase> {
  if (!photos.length) return s;
  return tx.amend(
    s,
    'photos',
    () => {},
    {
      note: `${photos.length} photo(s) attached`,
      data: { photos: photos.map((p) => ({ sha256: p.sha256, role: p.role, evidence: p.evidence })) },
    },
    actor,
    false,
  );
}

export class FieldActions {
  constructor(private readonly deps: FieldDeps) {}

  /**
   * Run one outbox record. `input`: `{key (UUID), kind, createdAt? (phone time the record was made), sentAt?
   * (phone time it was sent), …kind fields}` (see the OpenAPI document). Errors: validation_failed,
   * conflict (the key was used by another user or for another kind), and those of the case machine.
   */
  async run(actor: Actor, input: unknown): Promise<FieldAnswer> {
    const a = parseFieldAction(input) as unknown as Input;
    const key = (a.key as string).toLowerCase();
    const kind = a.kind as FieldKind;
    const first = await this.stored(this.deps.cases.db, key, actor, kind);
    if (first) return first;
    const receivedAt = this.deps.now();
    const createdAt = time(a.createdAt, 'createdAt') ?? receivedAt;
    const sentAt = time(a.sentAt, 'sentAt') ?? createdAt;
    const clock = clockSkew(sentAt, receivedAt);
    const times = {
      phoneTime: new Date(createdAt).toISOString(),
      receivedAt: new Date(receivedAt).toISOString(),
      clockSkewMs: clock.skewMs,
      clockFlagged: clock.flagged,
    };

    const claim = async (q: Queryable): Promise<FieldAnswer | null> => {
      const r = await q.query(
        `INSERT INTO field_actions (key, username, kind, status, response, phone_time, received_at)
         VALUES ($1, $2, $3, 0, '{}'::jsonb, $4, $5) ON CONFLICT (key) DO NOTHING RETURNING key`,
        [key, actor.id, kind, new Date(createdAt), new Date(receivedAt)],
      );
      if (r.rows.length) return null;
      return this.stored(q, key, actor, kind);
    };
    const keep = async (q: Queryable, status: number, body: Record<string, unknown>, caseId: string | null) => {
      await q.query(`UPDATE field_actions SET status = $2, response = $3, case_id = $4 WHERE key = $1`, [
        key,
        status,
        JSON.stringify(body),
        caseId,
      ]);
      return { status, body, replayed: false };
    };

    if (kind === 'track') {
      const batch = parseTrackBatch(a);
      return this.deps.db.tx(async (q) => {
        const again = await claim(q);
        if (again) return again;
        const body = await storeTrackBatch(q, this.deps, actor.id, batch, { sentAt, receivedAt });
        return keep(q, 200, body, null);
      });
    }

    const svc = this.deps.cases;
    let answer: FieldAnswer;
    if (kind === 'report') {
      const r = this.reportInput(a);
      const grid = svc.joinGrid(r.location);
      answer = await svc.transact(async (tx) => {
        const again = await claim(tx.q);
        if (again) return again;
        const made = await this.report(tx, actor, r, grid, times);
        return keep(tx.q, 201, made.body, made.caseId);
      });
    } else {
      const caseId = (a.caseId as string).trim();
      const v = a.version as number;
      const note = text(a.note);
      const photos = photoIds(a.photos);
      let action: CaseAction;
      let role = 'photo';
      let onSite: Record<string, unknown> | null = null;
      if (kind === 'claim') action = { action: 'claim', ...(note ? { note } : {}) };
      else if (kind === 'comment') action = { action: 'comment', note: note! };
      else if (kind === 'handle') {
        action = { action: 'handle', result: text(a.result)!, ...(note ? { note } : {}) };
        role = 'after';
      } else {
        action = { action: 'verify', pass: a.pass as boolean, ...(note ? { note } : {}) };
        role = 'check';
        onSite = await this.onSite(actor, caseId, a, photos);
      }
      answer = await svc.transact(async (tx) => {
        const again = await claim(tx.q);
        if (again) return again;
        let s = await this.lockInScope(tx, caseId, actor);
        const attached = await attachPhotos(tx.q, s.case.id, photos, role, actor);
        const extra: Record<string, unknown> = { field: times };
        if (attached.length) extra.photos = attached.map((p) => ({ sha256: p.sha256, evidence: p.evidence }));
        if (onSite) extra.onSite = onSite;
        if (action.action === 'handle') action = { ...action, evidence: attached.map((p) => p.evidence) };
        // The version the worker saw is checked by the machine (409 stale_version).
        s = await tx.apply(s, { ...action, ...extra } as CaseAction, actor, v);
        return keep(tx.q, 200, { case: this.view(s.case, actor), photos: attached }, s.case.id);
      });
    }
    return answer;
  }

  private view(c: Case, actor: Actor): Record<string, unknown> {
    const svc = this.deps.cases;
    return { ...svc.view(c), actions: svc.allowedActions(c, actor) };
  }

  private async lockInScope(tx: CaseTx, idOrCode: string, actor: Actor): Promise<StoredCase> {
    let id = idOrCode;
    if (/^[A-Z]{2,}-\d{8}-\d+$/.test(idOrCode)) {
      const r = await tx.q.query<{ id: string }>(`SELECT id FROM cases WHERE code = $1`, [idOrCode]);
      id = r.rows[0]?.id ?? idOrCode;
    }
    const s = await tx.lock(id);
    // Same answer for "not there" and "not yours" (ingest/cases/service.ts: existence is not revealed).
    if (!s || !inScope(actor, s.case)) throw new DomainError('outside_scope', `no case ${idOrCode} within your scope`);
    return s;
  }

  private async stored(q: Queryable, key: string, actor: Actor, kind: string): Promise<FieldAnswer | null> {
    const r = await q.query<{ username: string; kind: string; status: number; response: unknown }>(
      `SELECT username, kind, status, response FROM field_actions WHERE key = $1`,
      [key],
    );
    const row = r.rows[0];
    if (!row) return null;
    if (row.username !== actor.id || row.kind !== kind)
      throw new DomainError('conflict', `key ${key} was already used for another record`, { field: 'key' });
    const body = (typeof row.response === 'string' ? JSON.parse(row.response) : row.response) as Record<
      string,
      unknown
    >;
    return { status: Number(row.status), body, replayed: true };
  }

  private reportInput(a: Input) {
    const category = text(a.category)!;
    if (!isKnownCategory(category)) throw bad(`unknown category ${category}`, 'category');
    const sh = a.selfHandled as { result: string; after: string[] } | null | false | undefined;
    const selfHandled = sh ? { result: text(sh.result)!, after: photoIds(sh.after) } : null;
    if (selfHandled && !selfHandled.after.length)
      throw bad('a self-handled report needs after-photos', 'selfHandled.after');
    const photos = photoIds(a.photos);
    if (selfHandled && !photos.length) throw bad('a self-handled report needs before-photos', 'photos');
    return {
      category,
      location: a.location as [number, number],
      accuracyM: (a.accuracyM as number | null | undefined) ?? null,
      fixTime: time(a.fixTime, 'fixTime') ?? null,
      text: text(a.text),
      photos,
      selfHandled,
    };
  }

  private async report(
    tx: CaseTx,
    actor: Actor,
    r: ReturnType<FieldActions['reportInput']>,
    grid: ReturnType<CaseService['joinGrid']>,
    times: Record<string, unknown>,
  ): Promise<{ body: Record<string, unknown>; caseId: string }> {
    const svc = this.deps.cases;
    if (!canIntake(actor, grid)) {
      if (actor.role === 'gridworker' || actor.role === 'dispatcher' || actor.role === 'commander')
        throw new DomainError('outside_scope', 'the location lies outside your grid scope');
      throw new DomainError('forbidden', `role ${actor.role} may not report cases`);
    }
    const cat = categoryById(r.category)!;
    const title = (r.text?.split('\n')[0].slice(0, 40) || cat.zh).trim();
    const field = {
      ...times,
      fixTime: r.fixTime === null ? null : new Date(r.fixTime).toISOString(),
      accuracyM: r.accuracyM,
      selfHandled: !!r.selfHandled,
    };
    const priority = defaultPriorityOf(r.category);
    let s = await tx.create(
      {
        title,
        description: r.text ?? '',
        category: r.category,
        priority,
        location: r.location,
        grid,
        source: 'patrol',
        linkedCameras: svc.cameras.near(r.location, svc.cameraRadiusM),
        attributes: { field },
      },
      actor,
      {
        reporter: { accountId: actor.id },
        then: r.selfHandled
          ? [
              {
                action: { action: 'register', category: r.category, priority, note: '自处理 self-handled' },
                actor: SYSTEM_ACTOR,
              },
              {
                action: { action: 'dispatch', to: { kind: 'user', id: actor.id }, note: '自处理 self-handled' },
                actor: SYSTEM_ACTOR,
              },
            ]
          : [],
      },
    );
    const before = await attachPhotos(tx.q, s.case.id, r.photos, r.selfHandled ? 'before' : 'photo', actor);
    s = await recordPhotos(tx, s, before, actor);
    let after: AttachedPhoto[] = [];
    if (r.selfHandled) {
      after = await attachPhotos(tx.q, s.case.id, r.selfHandled.after, 'after', actor);
      s = await tx.apply(s, { action: 'claim', note: '自处理 self-handled' }, actor);
      s = await tx.apply(
        s,
        {
          action: 'handle',
          result: r.selfHandled.result,
          evidence: after.map((p) => p.evidence),
          photos: after.map((p) => ({ sha256: p.sha256, evidence: p.evidence })),
        } as CaseAction,
        actor,
      );
    }
    return { body: { case: this.view(s.case, actor), photos: [...before, ...after] }, caseId: s.case.id };
  }

  /**
   * Where the check was made: the GPS of its first photo that has one (EXIF, read on the server), else the
   * phone's fix sent with it (`location`, `accuracyM`: the app reads the photo's EXIF before compressing, or
   * takes the live fix). Refused 422 `too_far` beyond CHECK_RADIUS_M, or without any position, unless
   * `override` gives a reason — which is recorded.
   */
  private async onSite(actor: Actor, caseId: string, a: Input, photos: string[]): Promise<Record<string, unknown>> {
    const c = await this.deps.cases.getByIdOrCode(caseId, actor).catch(() => {
      throw new DomainError('outside_scope', `no case ${caseId} within your scope`);
    });
    const override = text(a.override);
    if (!photos.length && !override) throw bad('a check needs a photo taken on site (or an override reason)', 'photos');
    let where: [number, number] | null = null;
    let source: string | null = null;
    for (const sha of photos) {
      const p = await photoInfo(this.deps.cases.db, sha);
      if (p?.location) {
        where = p.location;
        source = 'photo_exif';
        break;
      }
    }
    const acc = (a.accuracyM as number | null | undefined) ?? null;
    if (!where && Array.isArray(a.location)) {
      where = a.location as [number, number];
      source = 'phone_fix';
    }
    const distanceM = where && c.location ? Math.round(haversineM(where, c.location)) : null;
    const near = distanceM !== null && distanceM <= CHECK_RADIUS_M;
    if (!near && !override)
      throw new DomainError(
        'too_far',
        distanceM === null
          ? 'the check has no position: take the photo on site with location on, or give an override reason'
          : `the check was made ${distanceM} m from the case (at most ${CHECK_RADIUS_M} m): go on site, or give an override reason`,
        { distanceM, limitM: CHECK_RADIUS_M },
      );
    return {
      distanceM,
      limitM: CHECK_RADIUS_M,
      source,
      accuracyM: source === 'phone_fix' ? acc : null,
      override: near ? null : override,
      photos,
    };
  }
}
