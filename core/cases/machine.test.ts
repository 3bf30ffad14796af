import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { allowedActions, applyAction, can, canIntake, formatCaseCode, newCase, SYSTEM_ACTOR } from './machine.ts';
import type { Actor, Case, CaseAction } from './types.ts';
import {
  actor,
  admin,
  commander,
  ctx,
  dept,
  dispatchedTo,
  dispatcher,
  fresh,
  GRID,
  HOUR,
  MIN,
  run,
  T0,
  viewer,
  worker,
} from './fixtures.test-util.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return 'ok';
}

const um = dept('urban_management');

function inProgress(): Case {
  return run(dispatchedTo(), [[{ action: 'claim' }, um]], T0 + 10 * MIN);
}
function handled(): Case {
  return run(inProgress(), [[{ action: 'handle', result: 'cleared', evidence: ['photo-1'] }, um]], T0 + 20 * MIN);
}
function closed(): Case {
  return run(handled(), [[{ action: 'verify', pass: true }, worker]], T0 + 30 * MIN);
}

describe('intake', () => {
  it('makes a reported case with a code, version 1 and an intake trail entry', () => {
    const { case: c, trail } = newCase(
      { title: 'Pothole', category: 'emergency.road_collapse', location: [117.2, 39.1], grid: GRID, source: 'patrol' },
      T0,
      { id: 'x', seq: 7 },
      worker,
    );
    expect(c.state).toBe('reported');
    expect(c.code).toBe('HQ-20261123-0007');
    expect(c.version).toBe(1);
    expect(c.priority).toBe(1); // emergency default
    expect(c.level).toBe('community');
    expect(trail).toMatchObject({
      action: 'intake',
      actor: 'gw-1',
      role: 'gridworker',
      toState: 'reported',
      version: 1,
    });
  });
  it('dates codes in China Standard Time', () => {
    expect(formatCaseCode(Date.UTC(2026, 10, 22, 17, 0), 1)).toBe('HQ-20261123-0001');
  });
  it('refuses bad input', () => {
    const base = {
      title: 'x',
      category: 'fire',
      location: [0, 0] as [number, number],
      grid: GRID,
      source: 'hotline' as const,
    };
    expect(codeOf(() => newCase({ ...base, title: '' }, T0, { id: 'a' }))).toBe('validation_failed');
    expect(codeOf(() => newCase({ ...base, location: [200, 0] }, T0, { id: 'a' }))).toBe('validation_failed');
    expect(codeOf(() => newCase({ ...base, source: 'fax' as never }, T0, { id: 'a' }))).toBe('validation_failed');
    expect(codeOf(() => newCase({ ...base, priority: 5 as never }, T0, { id: 'a' }))).toBe('validation_failed');
  });
  it('canIntake: gridworker, dispatcher, commander in scope; not viewer or department', () => {
    expect(canIntake(worker, GRID)).toBe(true);
    expect(canIntake(dispatcher, GRID)).toBe(true);
    expect(canIntake(viewer, GRID)).toBe(false);
    expect(canIntake(um, GRID)).toBe(false);
    expect(canIntake(actor('gridworker', { grid: '120106002' }), GRID)).toBe(false);
  });
});

describe('the loop, action by action', () => {
  it('register sets category, priority and a deadline from the table', () => {
    const { case: c, trail } = applyAction(
      fresh(),
      { action: 'register', category: 'fire.fire_alarm', priority: 1 },
      dispatcher,
      T0,
      ctx,
    );
    expect(c.state).toBe('registered');
    expect(c.deadline).toBe(T0 + 30 * MIN); // fire override
    expect(c.version).toBe(2);
    expect(trail).toMatchObject({ action: 'register', fromState: 'reported', toState: 'registered', version: 2 });
    expect(trail.data).toEqual({ category: 'fire.fire_alarm', priority: 1 });
  });
  it('reject and merge end the case; merge names the survivor', () => {
    expect(applyAction(fresh(), { action: 'reject', reason: 'duplicate call' }, dispatcher, T0, ctx).case.state).toBe(
      'rejected',
    );
    const m = applyAction(fresh(), { action: 'merge', into: 'c0' }, dispatcher, T0, ctx).case;
    expect(m.state).toBe('merged');
    expect(m.mergedInto).toBe('c0');
    expect(codeOf(() => applyAction(fresh(), { action: 'merge', into: 'c1' }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
    expect(
      codeOf(() => applyAction(m, { action: 'register', category: 'fire', priority: 1 }, dispatcher, T0, ctx)),
    ).toBe('illegal_transition');
  });
  it('dispatch assigns and keeps the registered deadline; an explicit deadline wins', () => {
    const c = dispatchedTo('urban_management');
    expect(c.state).toBe('dispatched');
    expect(c.assignee).toEqual({ kind: 'department', id: 'urban_management' });
    expect(c.deadline).toBe(T0 + MIN + 3 * 24 * HOUR);
    const r = run(fresh(), [[{ action: 'register', category: 'x', priority: 4 }, dispatcher]]);
    const d = applyAction(
      r,
      { action: 'dispatch', to: { kind: 'user', id: 'gw-1' }, deadline: T0 + HOUR },
      dispatcher,
      T0 + 2 * MIN,
      ctx,
    );
    expect(d.case.deadline).toBe(T0 + HOUR);
    expect(
      codeOf(() => applyAction(r, { action: 'dispatch', to: { kind: 'team' as never, id: 'a' } }, dispatcher, T0, ctx)),
    ).toBe('validation_failed');
  });
  it('claim by the assignee only; return goes back to registered with a reason', () => {
    const c = dispatchedTo();
    expect(codeOf(() => applyAction(c, { action: 'claim' }, dept('police'), T0 + HOUR, ctx))).toBe('outside_scope');
    expect(codeOf(() => applyAction(c, { action: 'claim' }, dispatcher, T0 + HOUR, ctx))).toBe('forbidden');
    expect(applyAction(c, { action: 'claim' }, um, T0 + HOUR, ctx).case.state).toBe('in_progress');
    const back = applyAction(c, { action: 'return', reason: 'not ours' }, um, T0 + HOUR, ctx);
    expect(back.case.state).toBe('registered');
    expect(back.case.assignee).toBeNull();
    expect(back.case.returnCount).toBe(1);
    expect(back.trail.note).toBe('not ours');
    expect(codeOf(() => applyAction(c, { action: 'return', reason: '' }, um, T0 + HOUR, ctx))).toBe(
      'validation_failed',
    );
  });
  it('a grid worker claims and handles what is assigned to them', () => {
    const r = run(fresh(), [[{ action: 'register', category: 'x', priority: 3 }, dispatcher]]);
    const d = applyAction(
      r,
      { action: 'dispatch', to: { kind: 'user', id: 'gw-1' } },
      dispatcher,
      T0 + 2 * MIN,
      ctx,
    ).case;
    expect(codeOf(() => applyAction(d, { action: 'claim' }, actor('gridworker', { id: 'gw-2' }), T0, ctx))).toBe(
      'forbidden',
    );
    const p = applyAction(d, { action: 'claim' }, worker, T0 + 3 * MIN, ctx).case;
    const h = applyAction(p, { action: 'handle', result: 'done' }, worker, T0 + 4 * MIN, ctx).case;
    expect(h.state).toBe('handled');
    // nobody verifies their own handling
    expect(codeOf(() => applyAction(h, { action: 'verify', pass: true }, worker, T0 + 5 * MIN, ctx))).toBe('forbidden');
    expect(applyAction(h, { action: 'verify', pass: true }, dispatcher, T0 + 5 * MIN, ctx).case.state).toBe('closed');
  });
  it('handle records result, evidence and handler', () => {
    const h = handled();
    expect(h).toMatchObject({
      state: 'handled',
      result: 'cleared',
      evidence: ['photo-1'],
      handledBy: 'dept-urban_management',
    });
    expect(codeOf(() => applyAction(inProgress(), { action: 'handle', result: ' ' }, um, T0, ctx))).toBe(
      'validation_failed',
    );
  });
  it('verify pass closes on time; fail sends it back with rework + 1', () => {
    const c = closed();
    expect(c).toMatchObject({ state: 'closed', closedOnTime: true });
    expect(c.closedAt).not.toBeNull();
    const f = applyAction(
      handled(),
      { action: 'verify', pass: false, note: 'still there' },
      worker,
      T0 + HOUR,
      ctx,
    ).case;
    expect(f.state).toBe('in_progress');
    expect(f.reworkCount).toBe(1);
  });
  it('closing after the deadline is not on time', () => {
    const h = handled();
    const late = applyAction(h, { action: 'verify', pass: true }, worker, (h.deadline as number) + 1, ctx).case;
    expect(late.closedOnTime).toBe(false);
    expect(late.overdue).toBe(true);
  });
  it('evaluate ≥ 3 stays closed; ≤ 2 reopens to registered with a fresh deadline; only once per closing', () => {
    const c = closed();
    const ok = applyAction(c, { action: 'evaluate', satisfaction: 4 }, dispatcher, T0 + 2 * HOUR, ctx).case;
    expect(ok.state).toBe('closed');
    expect(ok.satisfaction).toBe(4);
    expect(codeOf(() => applyAction(ok, { action: 'evaluate', satisfaction: 5 }, dispatcher, T0 + 3 * HOUR, ctx))).toBe(
      'illegal_transition',
    );
    const three = applyAction(c, { action: 'evaluate', satisfaction: 3 }, dispatcher, T0 + 2 * HOUR, ctx).case;
    expect(three.state).toBe('closed');
    const bad = applyAction(c, { action: 'evaluate', satisfaction: 2 }, dispatcher, T0 + 2 * HOUR, ctx).case;
    expect(bad).toMatchObject({
      state: 'registered',
      reopenCount: 1,
      closedAt: null,
      closedOnTime: null,
      assignee: null,
    });
    expect(bad.deadline).toBe(T0 + 2 * HOUR + 3 * 24 * HOUR);
    expect(codeOf(() => applyAction(c, { action: 'evaluate', satisfaction: 6 }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
    expect(codeOf(() => applyAction(c, { action: 'evaluate', satisfaction: 2.5 }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
  });
  it('escalate climbs community → street → district, then refuses', () => {
    let c = fresh();
    c = applyAction(c, { action: 'escalate' }, dispatcher, T0, ctx).case;
    expect(c.level).toBe('street');
    c = applyAction(c, { action: 'escalate' }, dispatcher, T0, ctx).case;
    expect(c.level).toBe('district');
    expect(c.state).toBe('reported');
    expect(codeOf(() => applyAction(c, { action: 'escalate' }, dispatcher, T0, ctx))).toBe('illegal_transition');
  });
  it('whistle sets report-by deadlines (default from the table); only a whistled department reports', () => {
    const c = dispatchedTo();
    const w = applyAction(c, { action: 'whistle', departments: ['police', 'water'] }, dispatcher, T0 + HOUR, ctx).case;
    expect(w.whistles.map((x) => [x.department, x.deadline, x.reportedAt])).toEqual([
      ['police', T0 + HOUR + 24 * HOUR, null],
      ['water', T0 + HOUR + 24 * HOUR, null],
    ]);
    const explicit = applyAction(
      c,
      { action: 'whistle', departments: ['police'], deadline: T0 + 2 * HOUR },
      dispatcher,
      T0 + HOUR,
      ctx,
    );
    expect(explicit.case.whistles[0].deadline).toBe(T0 + 2 * HOUR);
    // police reports
    const r = applyAction(
      w,
      { action: 'report', department: 'police', note: 'on site' },
      dept('police'),
      T0 + 2 * HOUR,
      ctx,
    ).case;
    expect(r.whistles[0].reportedAt).toBe(T0 + 2 * HOUR);
    // not twice
    expect(
      codeOf(() => applyAction(r, { action: 'report', department: 'police', note: '' }, dept('police'), T0, ctx)),
    ).toBe('illegal_transition');
    // fire was not whistled: outside its scope altogether
    expect(
      codeOf(() => applyAction(w, { action: 'report', department: 'fire', note: '' }, dept('fire'), T0, ctx)),
    ).toBe('outside_scope');
    // police may not report for water
    expect(
      codeOf(() => applyAction(w, { action: 'report', department: 'water', note: '' }, dept('police'), T0, ctx)),
    ).toBe('forbidden');
    // the assignee department, not whistled, cannot report
    expect(
      codeOf(() => applyAction(w, { action: 'report', department: 'urban_management', note: '' }, um, T0, ctx)),
    ).toBe('illegal_transition');
    expect(codeOf(() => applyAction(c, { action: 'whistle', departments: [] }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
    expect(codeOf(() => applyAction(c, { action: 'whistle', departments: ['a', 'a'] }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
  });
  it('supervise marks; extend moves the deadline later with a reason, only while dispatched or in progress', () => {
    const c = dispatchedTo();
    const s = applyAction(c, { action: 'supervise', note: 'hurry' }, commander('district'), T0 + HOUR, ctx).case;
    expect(s.supervised).toBe(true);
    expect(s.superviseCount).toBe(1);
    const later = (c.deadline as number) + HOUR;
    const e = applyAction(c, { action: 'extend', deadline: later, reason: 'parts' }, dispatcher, T0 + HOUR, ctx).case;
    expect(e.deadline).toBe(later);
    expect(
      codeOf(() =>
        applyAction(c, { action: 'extend', deadline: (c.deadline as number) - 1, reason: 'x' }, dispatcher, T0, ctx),
      ),
    ).toBe('validation_failed');
    expect(codeOf(() => applyAction(c, { action: 'extend', deadline: later, reason: '' }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
    expect(
      codeOf(() => applyAction(fresh(), { action: 'extend', deadline: later, reason: 'x' }, dispatcher, T0, ctx)),
    ).toBe('illegal_transition');
    // departments ask by comment; extend is the centre's
    expect(codeOf(() => applyAction(c, { action: 'extend', deadline: later, reason: 'x' }, um, T0, ctx))).toBe(
      'forbidden',
    );
  });
  it('extending an overdue case clears overdue', () => {
    const c = dispatchedTo();
    const t = (c.deadline as number) + HOUR;
    const s = applyAction(c, { action: 'supervise' }, SYSTEM_ACTOR, t, ctx).case;
    expect(s.overdue).toBe(true);
    const e = applyAction(s, { action: 'extend', deadline: t + HOUR, reason: 'x' }, dispatcher, t + 1, ctx).case;
    expect(e.overdue).toBe(false);
  });
  it('comment works in every state, even terminal, and needs a note', () => {
    const rej = applyAction(fresh(), { action: 'reject', reason: 'x' }, dispatcher, T0, ctx).case;
    expect(applyAction(rej, { action: 'comment', note: 'fyi' }, dispatcher, T0, ctx).case.version).toBe(
      rej.version + 1,
    );
    expect(codeOf(() => applyAction(rej, { action: 'comment', note: '' }, dispatcher, T0, ctx))).toBe(
      'validation_failed',
    );
    expect(codeOf(() => applyAction(rej, { action: 'whistle', departments: ['x'] }, dispatcher, T0, ctx))).toBe(
      'illegal_transition',
    );
  });
  it('an unknown action is refused', () => {
    expect(codeOf(() => applyAction(fresh(), { action: 'teleport' } as unknown as CaseAction, admin, T0, ctx))).toBe(
      'validation_failed',
    );
  });
  it('does not modify its input', () => {
    const c = dispatchedTo();
    const before = JSON.stringify(c);
    applyAction(c, { action: 'whistle', departments: ['police'] }, dispatcher, T0, ctx);
    applyAction(c, { action: 'claim' }, um, T0, ctx);
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('versions', () => {
  it('a stale version is refused; the current one is accepted and bumped by one', () => {
    const c = fresh();
    expect(codeOf(() => applyAction(c, { action: 'comment', note: 'x' }, dispatcher, T0, { ...ctx, version: 0 }))).toBe(
      'stale_version',
    );
    expect(applyAction(c, { action: 'comment', note: 'x' }, dispatcher, T0, { ...ctx, version: 1 }).case.version).toBe(
      2,
    );
  });
  it('scope is checked before the version (outsiders learn nothing)', () => {
    const out = actor('dispatcher', { grid: '120107' });
    expect(codeOf(() => applyAction(fresh(), { action: 'comment', note: 'x' }, out, T0, { ...ctx, version: 9 }))).toBe(
      'outside_scope',
    );
  });
});

describe('permissions', () => {
  const reg = (): Case => run(fresh(), [[{ action: 'register', category: 'x', priority: 3 }, dispatcher]]);

  it('grid scope: the case grid code must start with the actor prefix', () => {
    expect(can(actor('dispatcher', { grid: '120106001' }), 'register', fresh())).toBe(true);
    expect(can(actor('dispatcher', { grid: '120106002' }), 'register', fresh())).toBe(false);
    expect(
      codeOf(() =>
        applyAction(
          fresh(),
          { action: 'register', category: 'x', priority: 1 },
          actor('dispatcher', { grid: '120106002' }),
          T0,
          ctx,
        ),
      ),
    ).toBe('outside_scope');
    const nowhere = fresh({ grid: { district: null, street: null, community: null, grid: null } });
    expect(can(dispatcher, 'register', nowhere)).toBe(false);
    expect(can(actor('dispatcher', { grid: null }), 'register', nowhere)).toBe(true);
  });
  it('department scope: only cases assigned or whistled to it', () => {
    const c = dispatchedTo('urban_management');
    expect(can(um, 'claim', c)).toBe(true);
    expect(can(dept('water'), 'comment', c)).toBe(false);
    const w = applyAction(c, { action: 'whistle', departments: ['water'] }, dispatcher, T0, ctx).case;
    expect(can(dept('water'), 'comment', w)).toBe(true);
    expect(can(dept('water'), 'claim', w)).toBe(false);
    expect(can(actor('department', { department: null }), 'comment', c)).toBe(false);
  });
  it('roles: viewer nothing, analyst comment only, gridworker no dispatch, department no register', () => {
    const c = reg();
    expect(allowedActions(c, viewer)).toEqual([]);
    expect(allowedActions(c, actor('analyst'))).toEqual(['comment']);
    expect(can(worker, 'dispatch', c)).toBe(false);
    expect(can(um, 'register', fresh())).toBe(false);
    expect(codeOf(() => applyAction(c, { action: 'comment', note: 'x' }, viewer, T0, ctx))).toBe('forbidden');
    expect(
      codeOf(() => applyAction(c, { action: 'dispatch', to: { kind: 'user', id: 'gw-1' } }, worker, T0, ctx)),
    ).toBe('forbidden');
  });
  it('command level: a community commander cannot act on a street-level case; a street one can', () => {
    const s = applyAction(reg(), { action: 'escalate' }, commander('community'), T0, ctx).case;
    expect(s.level).toBe('street');
    expect(can(commander('community'), 'dispatch', s)).toBe(false);
    expect(can(commander('community'), 'comment', s)).toBe(true);
    expect(can(commander('street'), 'dispatch', s)).toBe(true);
    expect(can(commander('district'), 'dispatch', s)).toBe(true);
    expect(codeOf(() => applyAction(s, { action: 'escalate' }, commander('community'), T0, ctx))).toBe('forbidden');
    // a commander without a level counts as community
    const noLevel: Actor = { id: 'c', role: 'commander', scope: { grid: null, department: null } };
    expect(can(noLevel, 'dispatch', s)).toBe(false);
    // a dispatcher without a level is the dispatch centre
    expect(can(dispatcher, 'dispatch', s)).toBe(true);
    expect(can(actor('dispatcher', { level: 'community' }), 'dispatch', s)).toBe(false);
  });
  it('admin and system may do everything, everywhere', () => {
    const out = fresh({ grid: { district: '999999', street: null, community: null, grid: null } });
    expect(allowedActions(out, admin)).toEqual([
      'register',
      'reject',
      'merge',
      'escalate',
      'whistle',
      'supervise',
      'comment',
    ]);
    expect(allowedActions(out, SYSTEM_ACTOR)).toContain('register');
  });
  it('allowedActions follows the state', () => {
    expect(allowedActions(fresh(), dispatcher)).toEqual([
      'register',
      'reject',
      'merge',
      'escalate',
      'whistle',
      'supervise',
      'comment',
    ]);
    expect(allowedActions(dispatchedTo(), um)).toEqual(['claim', 'return', 'comment']);
    expect(allowedActions(inProgress(), um)).toEqual(['handle', 'comment']);
    expect(allowedActions(handled(), worker)).toEqual(['verify', 'comment']);
    expect(allowedActions(closed(), dispatcher)).toEqual(['evaluate', 'comment']);
  });
});
