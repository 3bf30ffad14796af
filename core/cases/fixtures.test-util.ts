// Shared fixtures for the case tests (not a test file itself).
import type { Actor, Case, CaseAction, CommandLevel } from './types.ts';
import { applyAction, newCase, SYSTEM_ACTOR } from './machine.ts';
import { DEFAULT_DEADLINES } from './sla.ts';

export const T0 = Date.UTC(2026, 10, 23, 1, 0, 0); // 2026-11-23 09:00 +08:00
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export const GRID = {
  district: '120106',
  street: '120106001',
  community: '120106001002',
  grid: '120106001002003',
};

export function actor(
  role: Actor['role'],
  extra: Partial<Actor> & { grid?: string | null; department?: string | null } = {},
): Actor {
  return {
    id: extra.id ?? `${role}-1`,
    role,
    ...(extra.level ? { level: extra.level } : {}),
    scope: { grid: extra.grid === undefined ? '120106' : extra.grid, department: extra.department ?? null },
  };
}

export const admin = actor('admin', { grid: null });
export const dispatcher = actor('dispatcher');
export const commander = (level: CommandLevel, grid = '120106'): Actor =>
  actor('commander', { level, grid, id: `cmd-${level}` });
export const dept = (d: string): Actor => actor('department', { department: d, id: `dept-${d}` });
export const worker = actor('gridworker', { id: 'gw-1', grid: '120106001' });
export const viewer = actor('viewer');

export const ctx = { deadlines: DEFAULT_DEADLINES };

export function fresh(overrides: Partial<Case> = {}): Case {
  const { case: c } = newCase(
    {
      title: 'Garbage pile',
      category: 'city_appearance.exposed_garbage',
      location: [117.2, 39.13],
      grid: GRID,
      source: 'hotline',
    },
    T0,
    { id: 'c1', seq: 1 },
  );
  return { ...c, ...overrides };
}

/** Apply a list of [action, actor] steps from T0 + i minutes. */
export function run(c: Case, steps: Array<[CaseAction, Actor]>, start = T0): Case {
  let cur = c;
  steps.forEach(([a, who], i) => {
    cur = applyAction(cur, a, who, start + (i + 1) * MIN, ctx).case;
  });
  return cur;
}

/** A case dispatched to the given department. */
export function dispatchedTo(department = 'urban_management'): Case {
  return run(fresh(), [
    [{ action: 'register', category: 'city_appearance.exposed_garbage', priority: 3 }, dispatcher],
    [{ action: 'dispatch', to: { kind: 'department', id: department } }, dispatcher],
  ]);
}

export { SYSTEM_ACTOR };
