// Property tests: random sequences of actions by random actors against the machine's own table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.ts';
import { allowedActions, allowedTransitions, applyAction, levelRank, SYSTEM_ACTOR } from './machine.ts';
import { timerDue } from './sla.ts';
import type { Actor, Case, CaseAction, CaseActionName, TrailEntryDraft } from './types.ts';
import { CASE_ACTIONS, CASE_STATES, COMMAND_LEVELS, SLA_STATES } from './types.ts';
import {
  actor,
  admin,
  commander,
  ctx,
  dept,
  dispatcher,
  fresh,
  HOUR,
  T0,
  viewer,
  worker,
} from './fixtures.test-util.ts';

const ACTORS: Actor[] = [
  admin,
  SYSTEM_ACTOR,
  dispatcher,
  actor('dispatcher', { level: 'street', id: 'disp-street' }),
  actor('dispatcher', { grid: '120107', id: 'disp-elsewhere' }),
  commander('community'),
  commander('street'),
  commander('district'),
  dept('urban_management'),
  dept('police'),
  dept('water'),
  worker,
  actor('gridworker', { id: 'gw-2' }),
  viewer,
  actor('analyst'),
];
const DEPTS = ['urban_management', 'police', 'water'];
const DAY = 24 * HOUR;

/** Field values for any action; `make` builds the named action from them (mostly valid, sometimes not). */
interface Fields {
  category: string;
  priority: 1 | 2 | 3 | 4;
  reason: string;
  into: string;
  to: { kind: 'department' | 'user'; id: string };
  deadline: number | undefined;
  departments: string[];
  department: string;
  result: string;
  pass: boolean;
  satisfaction: number;
  note: string;
}
const fieldsArb: fc.Arbitrary<Fields> = fc.record({
  category: fc.constantFrom('city_appearance.exposed_garbage', 'fire.fire_alarm', 'street_order'),
  priority: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
  reason: fc.constantFrom('dup', 'not ours', 'more time', 'x', ''),
  into: fc.constantFrom('c0', 'c0', 'c1'),
  to: fc.oneof(
    fc.record({ kind: fc.constant('department' as const), id: fc.constantFrom(...DEPTS) }),
    fc.record({ kind: fc.constant('user' as const), id: fc.constantFrom('gw-1', 'gw-2') }),
  ),
  deadline: fc.option(fc.integer({ min: -HOUR, max: 10 * DAY }), { nil: undefined }),
  departments: fc.subarray(DEPTS, { minLength: 0 }),
  department: fc.constantFrom(...DEPTS),
  result: fc.constantFrom('done', 'done', ''),
  pass: fc.boolean(),
  satisfaction: fc.integer({ min: 0, max: 6 }),
  note: fc.constantFrom('note', 'note', ''),
});

function make(name: CaseActionName, f: Fields): CaseAction {
  switch (name) {
    case 'register':
      return { action: name, category: f.category, priority: f.priority };
    case 'reject':
    case 'return':
      return { action: name, reason: f.reason };
    case 'merge':
      return { action: name, into: f.into };
    case 'dispatch':
      return { action: name, to: f.to, ...(f.deadline !== undefined ? { deadline: f.deadline } : {}) };
    case 'claim':
    case 'escalate':
    case 'supervise':
      return { action: name };
    case 'whistle':
      return {
        action: name,
        departments: f.departments,
        ...(f.deadline !== undefined ? { deadline: f.deadline } : {}),
      };
    case 'report':
      return { action: name, department: f.department, note: f.note };
    case 'extend':
      return { action: name, deadline: f.deadline ?? DAY, reason: f.reason };
    case 'handle':
      return { action: name, result: f.result };
    case 'verify':
      return { action: name, pass: f.pass };
    case 'evaluate':
      return { action: name, satisfaction: f.satisfaction };
    case 'comment':
      return { action: name, note: f.note };
  }
}

interface Step {
  /** Guided steps pick among the (actor, action) pairs the buttons offer; others are anything at all. */
  guided: boolean;
  pick: number;
  name: CaseActionName;
  fields: Fields;
  who: number;
  dt: number;
  tick: boolean;
}
const stepArb: fc.Arbitrary<Step> = fc.record({
  guided: fc.boolean(),
  pick: fc.nat(),
  name: fc.constantFrom(...CASE_ACTIONS),
  fields: fieldsArb,
  who: fc.integer({ min: 0, max: ACTORS.length - 1 }),
  dt: fc.integer({ min: 0, max: 2 * DAY }),
  tick: fc.boolean(),
});

const PROGRESS: ReadonlySet<CaseActionName> = new Set([
  'register',
  'dispatch',
  'claim',
  'handle',
  'verify',
  'evaluate',
  'report',
]);

/** Resolve a step against the current case: which actor does which action. */
function resolve(s: Step, c: Case, now: number): [CaseAction, Actor] {
  let who = ACTORS[s.who];
  let name = s.name;
  if (s.guided) {
    const pairs: Array<[Actor, CaseActionName]> = [];
    for (const a of ACTORS) for (const n of allowedActions(c, a)) if (n !== 'comment') pairs.push([a, n]);
    // two times in three, walk the loop forward (the side actions are offered by many actors at once)
    const forward = pairs.filter(([, n]) => PROGRESS.has(n));
    const pool = s.pick % 3 !== 0 && forward.length > 0 ? forward : pairs;
    if (pool.length > 0) [who, name] = pool[Math.floor(s.pick / 3) % pool.length];
  }
  return [absolute(make(name, s.fields), now), who];
}

/** Deadlines in the generated actions are offsets from `now`; make them absolute. */
function absolute(a: CaseAction, now: number): CaseAction {
  if ((a.action === 'dispatch' || a.action === 'whistle') && a.deadline !== undefined)
    return { ...a, deadline: now + a.deadline };
  if (a.action === 'extend') return { ...a, deadline: now + a.deadline };
  return a;
}

const TRANSITIONS = new Set(allowedTransitions().map((t) => t.join('>')));
const CODES = new Set(['illegal_transition', 'stale_version', 'forbidden', 'outside_scope', 'validation_failed']);

function checkInvariants(c: Case, counts: { rework: number; returns: number; reopen: number; accepted: number }): void {
  expect(CASE_STATES).toContain(c.state);
  expect(COMMAND_LEVELS).toContain(c.level);
  expect(c.version).toBe(1 + counts.accepted);
  expect(c.reworkCount).toBe(counts.rework);
  expect(c.returnCount).toBe(counts.returns);
  expect(c.reopenCount).toBe(counts.reopen);
  if (c.state === 'reported') expect(c.deadline).toBeNull();
  if (SLA_STATES.includes(c.state) || c.state === 'closed') expect(c.deadline).not.toBeNull();
  if (c.overdue) expect(c.deadline).not.toBeNull();
  expect(c.closedAt !== null).toBe(c.state === 'closed');
  if (c.state === 'closed') expect(c.closedOnTime).toBe((c.closedAt as number) <= (c.deadline as number));
  else expect(c.closedOnTime).toBeNull();
  if (c.state === 'dispatched' || c.state === 'in_progress' || c.state === 'handled') expect(c.assignee).not.toBeNull();
  if (c.state === 'registered') expect(c.assignee).toBeNull();
  expect(c.mergedInto !== null).toBe(c.state === 'merged');
  if (c.state === 'handled') expect(c.handledAt).not.toBeNull();
  for (const w of c.whistles) {
    expect(w.deadline).toBeGreaterThan(w.whistledAt);
    if (w.reportedAt !== null) expect(w.reportedAt).toBeGreaterThanOrEqual(w.whistledAt);
  }
  expect(new Set(c.whistles.map((w) => w.department)).size).toBe(c.whistles.length);
}

describe('case machine properties', () => {
  it('random actions by random actors: only allowed transitions, consistent counters, one trail entry each', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 10, maxLength: 80, size: 'max' }), (steps) => {
        let c = fresh();
        let now = T0;
        const counts = { rework: 0, returns: 0, reopen: 0, accepted: 0 };
        const trail: TrailEntryDraft[] = [];
        let escalations = 0;
        const apply = (a: CaseAction, who: Actor): void => {
          const before = JSON.stringify(c);
          const allowed = allowedActions(c, who);
          try {
            const r = applyAction(c, a, who, now, { ...ctx, version: c.version });
            // accepted
            expect(allowed).toContain(a.action);
            expect(TRANSITIONS.has(`${c.state}>${a.action}>${r.case.state}`)).toBe(true);
            expect(r.case.version).toBe(c.version + 1);
            expect(r.trail).toMatchObject({
              caseId: c.id,
              action: a.action,
              actor: who.id,
              role: who.role,
              at: now,
              fromState: c.state,
              toState: r.case.state,
              version: r.case.version,
            });
            if (a.action === 'extend') expect(r.case.deadline as number).toBeGreaterThan(c.deadline ?? -Infinity);
            if (a.action === 'verify' && !a.pass) counts.rework++;
            if (a.action === 'return') counts.returns++;
            if (a.action === 'evaluate' && a.satisfaction <= 2) counts.reopen++;
            if (a.action === 'escalate') escalations++;
            counts.accepted++;
            trail.push(r.trail);
            expect(JSON.stringify(c)).toBe(before); // input untouched
            c = r.case;
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            expect(CODES.has(e.code)).toBe(true);
            if (e.code === 'forbidden' || e.code === 'outside_scope') {
              // role/scope refusals agree with the buttons, except report for another department
              if (a.action !== 'report') expect(allowed).not.toContain(a.action);
            }
            expect(JSON.stringify(c)).toBe(before);
          }
        };
        for (const s of steps) {
          now += s.dt;
          if (s.tick) for (const t of timerDue(c, now)) apply(t.action, SYSTEM_ACTOR);
          const [a, who] = resolve(s, c, now);
          apply(a, who);
          checkInvariants(c, counts);
          expect(levelRank(c.level)).toBe(escalations);
          reached.add(c.state);
          if (c.reworkCount > 0) reached.add('reworked');
          if (c.reopenCount > 0) reached.add('reopened');
          if (c.overdue) reached.add('overdue');
          if (c.whistles.some((w) => w.reportedAt !== null)) reached.add('reported-whistle');
          if (c.whistles.some((w) => w.escalatedAt !== null)) reached.add('escalated-whistle');
        }
        expect(trail.length).toBe(counts.accepted);
        expect(trail.map((t) => t.version)).toEqual(trail.map((_, i) => i + 2));
      }),
      { numRuns: 100, interruptAfterTimeLimit: 20_000 },
    );
    // the generators reach every state and every counter (otherwise the property proves little)
    for (const s of [...CASE_STATES, 'reworked', 'reopened', 'overdue', 'reported-whistle', 'escalated-whistle']) {
      expect(reached, s).toContain(s);
    }
  }, 30_000);

  it('timers fire once: after applying what is due, nothing more is due at the same time', () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 40, size: 'max' }),
        fc.integer({ min: 0, max: 10 * DAY }),
        (steps, later) => {
          let c = fresh();
          let now = T0;
          for (const s of steps) {
            now += s.dt;
            try {
              const [a, who] = resolve(s, c, now);
              c = applyAction(c, a, who, now, ctx).case;
            } catch (e) {
              if (!(e instanceof DomainError)) throw e;
            }
          }
          now += later;
          for (const t of timerDue(c, now)) c = applyAction(c, t.action, SYSTEM_ACTOR, now, ctx).case;
          expect(timerDue(c, now)).toEqual([]);
        },
      ),
      { numRuns: 100, interruptAfterTimeLimit: 20_000 },
    );
  }, 30_000);
});
