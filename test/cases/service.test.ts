/**
 * The case service over a real database — PGlite in memory and a real PostgreSQL — with the core machine:
 * intake, optimistic versions under concurrency, scope in every read, write, count and live message, the
 * trail's hash chain against tampering, the append-only trail, and the durable timers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../ingest/store/db.ts';
import { startPostgres, createDatabase, type PostgresHandle } from '../harness/postgres.ts';
import { CaseScheduler } from '../../ingest/cases/scheduler.ts';
import type { CaseService } from '../../ingest/cases/service.ts';
import { caseStatsFor } from '../../ingest/cases/stats.ts';
import {
  CAMERAS,
  Clock,
  IN_STREET_1,
  IN_STREET_2,
  LiveRecorder,
  USERS,
  actor,
  caseService,
  expectCode,
  pgliteDb,
  postgresDb,
  silentLog,
} from './helpers.ts';

const HOUR = 3600_000;

let pg: PostgresHandle | null = null;
let dbn = 0;

const backends: [string, () => Promise<Db>][] = [
  ['pglite', pgliteDb],
  [
    'postgres',
    async () => {
      pg ??= await startPostgres({ postgis: false });
      return postgresDb(createDatabase(pg, `cases_${process.pid}_${++dbn}`));
    },
  ],
];

afterAll(async () => {
  await pg?.stop();
});

describe.each(backends)('case service on %s', (_name, open) => {
  let db: Db;
  let svc: CaseService;
  let clock: Clock;
  let live: LiveRecorder;

  beforeAll(async () => {
    db = await open();
    ({ svc, clock, live } = await caseService(db));
  });
  afterAll(async () => {
    await db?.close();
  });

  const hotline = (loc: [number, number], title = 'Garbage piled at the corner') =>
    svc.intake(
      { title, category: 'city_appearance.exposed_garbage', location: loc, source: 'hotline' },
      actor(USERS.dispatcher),
    );

  it('takes in a case with its code, grid, linked cameras and a verified first trail entry', async () => {
    const c = await hotline(IN_STREET_1);
    expect(c.code).toMatch(/^HQ-20261123-\d{4}$/);
    expect(c.state).toBe('reported');
    expect(c.grid.street).toBe('120106001');
    expect(c.linkedCameras).toEqual(['cam-near-1', 'cam-near-2']);
    expect(c.version).toBe(1);
    const t = await svc.trail(c.id, actor(USERS.dispatcher));
    expect(t.verified).toBe(true);
    expect(t.entries.map((e) => e.action)).toEqual(['intake']);
    expect((await svc.getByCode(c.code, actor(USERS.admin))).id).toBe(c.id);
    const c2 = await hotline(IN_STREET_1);
    expect(Number(c2.code.slice(-4))).toBe(Number(c.code.slice(-4)) + 1);
  });

  it('two actions on one case at once: one succeeds, the other is a stale version (409)', async () => {
    const c = await hotline(IN_STREET_1);
    const d = actor(USERS.dispatcher);
    const results = await Promise.allSettled([
      svc.act(c.id, { action: 'register', category: c.category, priority: 3, version: 1 }, d),
      svc.act(c.id, { action: 'reject', reason: 'duplicate', version: 1 }, d),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(1);
    expect(bad).toHaveLength(1);
    expect(bad[0].reason.code).toBe('stale_version');
    expect(bad[0].reason.status).toBe(409);
    const now = await svc.get(c.id, d);
    expect(now.version).toBe(2);
    const t = await svc.trail(c.id, d);
    expect(t.entries).toHaveLength(2);
    expect(t.verified).toBe(true);
  });

  it('a merge hands the surviving case its events and cameras, with a trail entry, in one transaction', async () => {
    const d = actor(USERS.dispatcher);
    const keep = await hotline(IN_STREET_1, 'Garbage at the corner (first report)');
    const dup = await hotline(IN_STREET_1, 'Garbage at the corner (second report)');
    const merged = await svc.act(dup.id, { action: 'merge', into: keep.code, version: dup.version }, d);
    expect(merged.state).toBe('merged');
    expect(merged.mergedInto).toBe(keep.id);
    const after = await svc.get(keep.id, d);
    expect(after.eventCount).toBe(keep.eventCount + dup.eventCount);
    expect(after.linkedCameras).toEqual(keep.linkedCameras); // the same cameras: not listed twice
    expect(after.version).toBe(keep.version); // a person's version of the survivor stays valid
    const t = await svc.trail(keep.id, d);
    expect(t.entries.map((e) => e.action)).toEqual(['intake', 'merge_in']);
    expect(t.entries[1].data).toMatchObject({ from: dup.id, code: dup.code });
    expect(t.verified).toBe(true);
  });

  it('an action the state does not allow is 422, one the role does not allow is 403', async () => {
    const c = await hotline(IN_STREET_1);
    await expectCode(
      svc.act(c.id, { action: 'handle', result: 'done', version: 1 }, actor(USERS.admin)),
      'illegal_transition',
    );
    await expectCode(
      svc.act(c.id, { action: 'register', category: c.category, priority: 2, version: 1 }, actor(USERS.worker1)),
      'forbidden',
    );
  });

  it("a street commander cannot list, read, act on, count or receive another street's cases", async () => {
    const before = live.messages.length;
    const mine = await hotline(IN_STREET_1, 'street one case');
    const theirs = await hotline(IN_STREET_2, 'street two case');
    const s1 = actor(USERS.street1);

    const listed = await svc.list({ limit: 500 }, s1);
    expect(listed.cases.some((c) => c.id === mine.id)).toBe(true);
    expect(listed.cases.some((c) => c.id === theirs.id)).toBe(false);
    expect(listed.cases.every((c) => c.grid.street === '120106001')).toBe(true);
    // asking for the other street's grid does not widen the scope
    expect((await svc.list({ grid: '120106002', limit: 500 }, s1)).cases).toHaveLength(0);
    expect((await svc.list({ q: 'street two', limit: 500 }, s1)).cases).toHaveLength(0);

    await expectCode(svc.get(theirs.id, s1), 'not_found');
    await expectCode(svc.getByCode(theirs.code, s1), 'not_found');
    await expectCode(svc.trail(theirs.id, s1), 'not_found');
    await expectCode(svc.act(theirs.id, { action: 'comment', note: 'hi', version: 1 }, s1), 'outside_scope');
    // a scoped actor gets the same answer for an id that does not exist: existence is not revealed
    await expectCode(svc.act('no-such-case', { action: 'comment', note: 'hi', version: 1 }, s1), 'outside_scope');
    await expectCode(
      svc.act('no-such-case', { action: 'comment', note: 'hi', version: 1 }, actor(USERS.admin)),
      'not_found',
    );
    expect((await svc.act(mine.id, { action: 'comment', note: 'on it', version: 1 }, s1)).version).toBe(2);

    // make the other street's case due in the window so it would count
    const d = actor(USERS.dispatcher);
    await svc.act(theirs.id, { action: 'register', category: theirs.category, priority: 1, version: 1 }, d);
    await svc.act(mine.id, { action: 'register', category: mine.category, priority: 1, version: 2 }, d);
    const window = { from: clock.now() - HOUR, to: clock.now() + 30 * 24 * HOUR };
    const s1Stats = await caseStatsFor(svc, s1, window, '120106');
    const adminStats = await caseStatsFor(svc, actor(USERS.admin), window, null);
    const street2Stats = await caseStatsFor(svc, actor(USERS.street2), window, null);
    expect(s1Stats.due).toBeGreaterThan(0);
    expect(street2Stats.due).toBeGreaterThan(0);
    expect(s1Stats.due + street2Stats.due).toBe(adminStats.due);
    // asking for the other street's scope counts nothing
    expect((await caseStatsFor(svc, s1, window, '120106002')).due).toBe(0);

    const seen1 = USERS.street1;
    const msgs = live.messages.slice(before);
    expect(msgs.length).toBeGreaterThan(0);
    const forS1 = new LiveRecorder();
    forS1.messages = msgs;
    const ids = new Set(forS1.seenBy(seen1).map((m) => m.id));
    expect(ids.has(mine.id)).toBe(true);
    expect(ids.has(theirs.id)).toBe(false);
    expect(new Set(forS1.seenBy(USERS.street2).map((m) => m.id)).has(theirs.id)).toBe(true);
  });

  it('a department sees only cases assigned or whistled to it', async () => {
    const c = await hotline(IN_STREET_1, 'for the fire department');
    const d = actor(USERS.dispatcher);
    const fire = actor(USERS.fire);
    await expectCode(svc.get(c.id, fire), 'not_found');
    let x = await svc.act(c.id, { action: 'register', category: c.category, priority: 2, version: 1 }, d);
    x = await svc.act(c.id, { action: 'dispatch', to: { kind: 'department', id: 'fire' }, version: x.version }, d);
    expect((await svc.get(c.id, fire)).id).toBe(c.id);
    expect(
      (await svc.list({ limit: 500 }, fire)).cases.every(
        (k) => k.assignee?.id === 'fire' || k.whistles.some((w) => w.department === 'fire'),
      ),
    ).toBe(true);
    await expectCode(svc.get(c.id, actor(USERS.police)), 'not_found');
    x = await svc.act(c.id, { action: 'whistle', departments: ['police'], version: x.version }, d);
    expect((await svc.get(c.id, actor(USERS.police))).id).toBe(c.id);
    x = await svc.act(c.id, { action: 'claim', version: x.version }, fire);
    expect(x.state).toBe('in_progress');
    // the live message of the whistle reached the police department
    expect(live.seenBy(USERS.police).some((m) => m.id === c.id)).toBe(true);
  });

  it('lists with filters and keyset cursors, newest first, without repeats', async () => {
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await hotline(IN_STREET_2, `paged ${i}`);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const p = await svc.list({ q: 'paged', limit: 2, ...(cursor ? { cursor } : {}) }, actor(USERS.street2));
      seen.push(...p.cases.map((c) => c.title));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(['paged 4', 'paged 3', 'paged 2', 'paged 1', 'paged 0']);
    const reported = await svc.list({ state: ['reported'], source: 'hotline', limit: 500 }, actor(USERS.admin));
    expect(reported.cases.every((c) => c.state === 'reported' && c.source === 'hotline')).toBe(true);
    await expectCode(svc.list({ cursor: 'garbage' }, actor(USERS.admin)), 'validation_failed');
  });

  it('the database refuses UPDATE and DELETE of trail rows', async () => {
    const c = await hotline(IN_STREET_1);
    await expect(db.query(`UPDATE case_trail SET note = 'x' WHERE case_id = $1`, [c.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query(`DELETE FROM case_trail WHERE case_id = $1`, [c.id])).rejects.toThrow(/append-only/);
  });

  it('the trail chain detects a row changed behind the API', async () => {
    const c = await hotline(IN_STREET_1, 'to be tampered with');
    const d = actor(USERS.dispatcher);
    const x = await svc.act(c.id, { action: 'register', category: c.category, priority: 3, version: 1 }, d);
    await svc.act(c.id, { action: 'comment', note: 'original note', version: x.version }, d);
    expect((await svc.trail(c.id, d)).verified).toBe(true);
    // as the database superuser, behind the API's back
    await db.exec(`ALTER TABLE case_trail DISABLE TRIGGER case_trail_no_update`);
    try {
      await db.query(`UPDATE case_trail SET note = 'rewritten' WHERE case_id = $1 AND seq = 1`, [c.id]);
    } finally {
      await db.exec(`ALTER TABLE case_trail ENABLE TRIGGER case_trail_no_update`);
    }
    const t = await svc.trail(c.id, d);
    expect(t.verified).toBe(false);
    expect(t.brokenAt).toBe(1);
  });

  it('the scheduler marks overdue cases and supervises them, once, even with two schedulers at once', async () => {
    const d = actor(USERS.dispatcher);
    const c = await hotline(IN_STREET_1, 'will be late');
    let x = await svc.act(c.id, { action: 'register', category: c.category, priority: 1, version: 1 }, d);
    x = await svc.act(
      c.id,
      { action: 'dispatch', to: { kind: 'department', id: 'urban_management' }, version: x.version },
      d,
    );
    expect(x.deadline).toBe(clock.now() + 2 * HOUR - 0 * 1); // P1 of its class: 2 h (registered at the same instant)
    clock.advance(2 * HOUR + 1000);
    const a = new CaseScheduler(svc, silentLog);
    const b = new CaseScheduler(svc, silentLog);
    const [na, nb] = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(na + nb).toBeGreaterThanOrEqual(1);
    const after = await svc.get(c.id, d);
    expect(after.overdue).toBe(true);
    expect(after.supervised).toBe(true);
    expect(after.superviseCount).toBe(1);
    const t = await svc.trail(c.id, d);
    const sup = t.entries.filter((e) => e.action === 'supervise');
    expect(sup).toHaveLength(1);
    expect(sup[0].actor).toBe('system');
    expect(t.verified).toBe(true);
    // nothing more to do on a second run
    expect(await a.runOnce()).toBe(0);
  });

  it('the scheduler escalates an unanswered whistle to the next level', async () => {
    const d = actor(USERS.dispatcher);
    const c = await hotline(IN_STREET_1, 'whistle nobody answers');
    let x = await svc.act(c.id, { action: 'register', category: c.category, priority: 3, version: 1 }, d);
    x = await svc.act(
      c.id,
      { action: 'whistle', departments: ['police'], deadline: clock.now() + 10 * 60_000, version: x.version },
      d,
    );
    expect(x.level).toBe('community');
    clock.advance(10 * 60_000 + 1000);
    const schedulers = [1, 2, 3].map(() => new CaseScheduler(svc, silentLog));
    await Promise.all(schedulers.map((s) => s.runOnce()));
    const after = await svc.get(c.id, d);
    expect(after.level).toBe('street');
    expect(after.whistles[0].escalatedAt).not.toBeNull();
    const t = await svc.trail(c.id, d);
    expect(t.entries.filter((e) => e.action === 'escalate')).toHaveLength(1);
    // a street commander now sees the message of the escalation
    expect(live.seenBy(USERS.street1).some((m) => m.id === c.id && m.action === 'escalate')).toBe(true);
  });

  it('cameras registered later are linked after a refresh', async () => {
    expect(svc.cameras.size).toBe(CAMERAS.length);
    await db.query(`INSERT INTO devices (id, kind, lng, lat) VALUES ('cam-new', 'camera', 117.2201, 39.1)`);
    await svc.refreshCameras();
    const c = await hotline(IN_STREET_2);
    expect(c.linkedCameras).toContain('cam-new');
  });
});
