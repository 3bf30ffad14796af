import { describe, expect, it } from 'vitest';
import { applyAction, SYSTEM_ACTOR } from './machine.ts';
import {
  DEFAULT_DEADLINES,
  deadlineFor,
  durationFor,
  isOverdue,
  nextTimerAt,
  timerDue,
  whistleDeadline,
} from './sla.ts';
import type { DeadlineTable } from './sla.ts';
import { ctx, dispatchedTo, dispatcher, fresh, HOUR, MIN, T0 } from './fixtures.test-util.ts';

const DAY = 24 * HOUR;

describe('deadline table', () => {
  it('defaults by priority, with category overrides (exact, then class)', () => {
    expect(deadlineFor('city_appearance.exposed_garbage', 1, T0)).toBe(T0 + 2 * HOUR);
    expect(deadlineFor('city_appearance', 2, T0)).toBe(T0 + DAY);
    expect(deadlineFor('x', 3, T0)).toBe(T0 + 3 * DAY);
    expect(deadlineFor('x', 4, T0)).toBe(T0 + 7 * DAY);
    expect(deadlineFor('fire.fire_alarm', 1, T0)).toBe(T0 + 30 * MIN);
    expect(deadlineFor('fire', 3, T0)).toBe(T0 + 3 * DAY); // no override for P3: falls back
  });
  it('is configurable', () => {
    const t: DeadlineTable = {
      ...DEFAULT_DEADLINES,
      byCategory: { ...DEFAULT_DEADLINES.byCategory, 'fire.fire_alarm': { 1: 10 * MIN } },
    };
    expect(durationFor('fire.fire_alarm', 1, t)).toBe(10 * MIN);
    expect(durationFor('fire.suspected_fire', 1, t)).toBe(30 * MIN);
  });
  it('whistle report-by by priority', () => {
    expect(whistleDeadline(1, T0)).toBe(T0 + 30 * MIN);
    expect(whistleDeadline(3, T0)).toBe(T0 + DAY);
  });
});

describe('timers', () => {
  it('overdue only in states whose clock runs, after the deadline', () => {
    const c = dispatchedTo();
    const d = c.deadline as number;
    expect(isOverdue(c, d)).toBe(false);
    expect(isOverdue(c, d + 1)).toBe(true);
    expect(isOverdue(fresh(), T0 + 100 * DAY)).toBe(false); // reported: no deadline yet
  });
  it('a passed deadline → one automatic supervise that marks overdue, then nothing', () => {
    const c = dispatchedTo();
    const t = (c.deadline as number) + 5 * MIN;
    expect(timerDue(c, (c.deadline as number) - 1)).toEqual([]);
    expect(nextTimerAt(c)).toBe((c.deadline as number) + 1);
    const due = timerDue(c, t);
    expect(due.map((x) => [x.kind, x.action.action])).toEqual([['overdue', 'supervise']]);
    const s = applyAction(c, due[0].action, SYSTEM_ACTOR, t, ctx).case;
    expect(s).toMatchObject({ overdue: true, supervised: true });
    expect(timerDue(s, t + DAY)).toEqual([]);
    expect(nextTimerAt(s)).toBeNull();
  });
  it('an unanswered whistle escalates to the next level once; at district level it is supervised', () => {
    let c = applyAction(
      dispatchedTo(),
      { action: 'whistle', departments: ['police', 'water'] },
      dispatcher,
      T0 + HOUR,
      ctx,
    ).case;
    c = applyAction(
      c,
      { action: 'report', department: 'water', note: 'ok' },
      { id: 'w', role: 'department', scope: { grid: null, department: 'water' } },
      T0 + 2 * HOUR,
      ctx,
    ).case;
    const w = c.whistles[0].deadline;
    expect(nextTimerAt(c)).toBe(w + 1);
    const due = timerDue(c, w + 1);
    expect(due).toHaveLength(1);
    expect(due[0].kind).toBe('whistle_unanswered');
    expect(due[0].action).toMatchObject({ action: 'escalate', whistles: ['police'] });
    const e = applyAction(c, due[0].action, SYSTEM_ACTOR, w + 1, ctx).case;
    expect(e.level).toBe('street');
    expect(e.whistles.find((x) => x.department === 'police')?.escalatedAt).toBe(w + 1);
    expect(timerDue(e, w + 2)).toEqual([]);

    const district = { ...c, level: 'district' as const };
    expect(timerDue(district, w + 1)[0].action).toMatchObject({ action: 'supervise', whistles: ['police'] });
  });
  it('closed cases have no timers', () => {
    const c = { ...dispatchedTo(), state: 'closed' as const };
    expect(timerDue(c, T0 + 100 * DAY)).toEqual([]);
    expect(nextTimerAt(c)).toBeNull();
  });
});
