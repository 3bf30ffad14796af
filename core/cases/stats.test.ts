import { describe, expect, it } from 'vitest';
import { caseStats, isDue } from './stats.ts';
import type { Case } from './types.ts';
import { fresh, HOUR, T0 } from './fixtures.test-util.ts';

const W = { from: T0, to: T0 + 24 * HOUR };

function mk(o: Partial<Case>): Case {
  return fresh({
    state: 'dispatched',
    deadline: T0 + HOUR,
    assignee: { kind: 'department', id: 'urban_management' },
    ...o,
  });
}

describe('caseStats', () => {
  const cases: Case[] = [
    // closed on time, satisfied
    mk({ state: 'closed', closedAt: T0 + 30 * 60_000, closedOnTime: true, satisfaction: 5, createdAt: T0 }),
    // closed late after rework, dissatisfied-but-closed 3
    mk({
      state: 'closed',
      deadline: T0 + HOUR,
      closedAt: T0 + 2 * HOUR,
      closedOnTime: false,
      reworkCount: 1,
      satisfaction: 3,
      createdAt: T0,
      source: 'citizen',
      category: 'fire.fire_alarm',
      assignee: { kind: 'department', id: 'fire' },
    }),
    // open past its deadline
    mk({ deadline: T0 + 3 * HOUR, overdue: true, source: 'sensor' }),
    // open, deadline later in the window, not yet past at `to`? (deadline in window, before to → overdue)
    mk({ deadline: T0 + 30 * HOUR }), // outside window: not due
    // rejected: never due
    mk({ state: 'rejected', deadline: T0 + HOUR }),
    // closed in the window although its deadline was before it
    mk({ state: 'closed', deadline: T0 - HOUR, closedAt: T0 + HOUR, closedOnTime: false, createdAt: T0 - 2 * HOUR }),
  ];

  it('due = deadline in the window or closed in it, never rejected/merged', () => {
    expect(cases.map((c) => isDue(c, W))).toEqual([true, true, true, false, false, true]);
  });
  it('computes the indicators', () => {
    const s = caseStats(cases, W);
    expect(s.due).toBe(4);
    expect(s.closed).toBe(3);
    expect(s.closedOnTime).toBe(1);
    expect(s.closeRate).toBeCloseTo(3 / 4);
    expect(s.onTimeCloseRate).toBeCloseTo(1 / 4);
    expect(s.reworkRate).toBeCloseTo(1 / 3);
    expect(s.satisfactionRate).toBeCloseTo(1 / 2); // 5 yes, 3 no
    expect(s.overdue).toBe(3); // two closed late + one open past deadline
    expect(s.avgHandleMinutes).toBeCloseTo((30 + 120 + 180) / 3);
  });
  it('breaks down by category class, source and department', () => {
    const s = caseStats(cases, W);
    expect(Object.keys(s.byCategory)).toEqual(['city_appearance', 'fire']);
    expect(s.byCategory.fire).toMatchObject({ due: 1, closed: 1, closedOnTime: 0, reworkRate: 1 });
    expect(s.bySource.sensor).toMatchObject({ due: 1, closed: 0, overdue: 1, closeRate: 0, avgHandleMinutes: null });
    expect(s.byDepartment.fire.due).toBe(1);
    expect(s.byDepartment.urban_management.due).toBe(3);
  });
  it('empty input gives zero counts and null rates', () => {
    expect(caseStats([], W)).toMatchObject({
      due: 0,
      closeRate: null,
      onTimeCloseRate: null,
      reworkRate: null,
      satisfactionRate: null,
      avgHandleMinutes: null,
    });
  });
});
