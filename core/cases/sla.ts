/**
 * SLA clock (处置时限): deadlines by category and priority, whistle report-by deadlines, overdue, and the
 * timers a scheduler must fire. Pure: `now` is passed in. Durations are calendar time in milliseconds
 * (no working-hours calendar: a city command centre runs around the clock).
 */
import type { Case, CaseAction, Priority } from './types.ts';
import { SLA_STATES, OPEN_STATES } from './types.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface DeadlineTable {
  /** Time to close by priority (ms). */
  byPriority: Record<Priority, number>;
  /**
   * Overrides by category id or class id (the part before the first dot). The most specific wins:
   * `fire.fire_alarm`, then `fire`, then byPriority.
   */
  byCategory: Record<string, Partial<Record<Priority, number>>>;
  /** 报到时限: time a whistled department has to report, by priority (ms). */
  whistleByPriority: Record<Priority, number>;
}

export const DEFAULT_DEADLINES: DeadlineTable = Object.freeze({
  byPriority: { 1: 2 * HOUR, 2: 1 * DAY, 3: 3 * DAY, 4: 7 * DAY },
  byCategory: {
    fire: { 1: 30 * MIN, 2: 1 * HOUR },
    emergency: { 1: 1 * HOUR, 2: 4 * HOUR },
  },
  whistleByPriority: { 1: 30 * MIN, 2: 2 * HOUR, 3: 1 * DAY, 4: 2 * DAY },
}) as DeadlineTable;

function classOf(category: string): string {
  const i = category.indexOf('.');
  return i < 0 ? category : category.slice(0, i);
}

/** Milliseconds allowed for a case of this category and priority. */
export function durationFor(category: string, priority: Priority, table: DeadlineTable = DEFAULT_DEADLINES): number {
  const exact = table.byCategory[category]?.[priority];
  if (exact !== undefined) return exact;
  const cls = table.byCategory[classOf(category)]?.[priority];
  if (cls !== undefined) return cls;
  return table.byPriority[priority];
}

/** The deadline of a case of this category and priority registered at `now`. */
export function deadlineFor(
  category: string,
  priority: Priority,
  now: number,
  table: DeadlineTable = DEFAULT_DEADLINES,
): number {
  return now + durationFor(category, priority, table);
}

/** The report-by deadline of a whistle blown at `now` on a case of this priority. */
export function whistleDeadline(priority: Priority, now: number, table: DeadlineTable = DEFAULT_DEADLINES): number {
  return now + table.whistleByPriority[priority];
}

/** True when the case's deadline has passed and it is still in a state whose clock runs. */
export function isOverdue(c: Case, now: number): boolean {
  return c.deadline !== null && now > c.deadline && SLA_STATES.includes(c.state);
}

export type TimerKind = 'overdue' | 'whistle_unanswered';

export interface TimerDue {
  kind: TimerKind;
  /** Apply with the `system` actor. */
  action: CaseAction;
}

/**
 * The timer actions due on a case at `now`:
 * - the deadline passed and the case is not yet marked overdue → `supervise` (督办; the machine sets `overdue`);
 * - a whistle's report-by passed without a report and not yet escalated → `escalate` to the next level,
 *   or `supervise` when the case is already at district level (nothing above it). Both carry the
 *   whistles' departments so the machine marks them and the timer does not fire twice.
 */
export function timerDue(c: Case, now: number): TimerDue[] {
  const out: TimerDue[] = [];
  if (!OPEN_STATES.includes(c.state)) return out;
  if (!c.overdue && isOverdue(c, now)) {
    out.push({ kind: 'overdue', action: { action: 'supervise', note: '超期自动督办 deadline passed' } });
  }
  const late = c.whistles.filter((w) => w.reportedAt === null && w.escalatedAt === null && now > w.deadline);
  if (late.length > 0) {
    const whistles = late.map((w) => w.department);
    const note = `吹哨未报到 no report from ${whistles.join(', ')}`;
    out.push({
      kind: 'whistle_unanswered',
      action: c.level === 'district' ? { action: 'supervise', note, whistles } : { action: 'escalate', note, whistles },
    });
  }
  return out;
}

/** When the next timer on this case falls due (for the scheduler's index); null when none is pending. */
export function nextTimerAt(c: Case): number | null {
  if (!OPEN_STATES.includes(c.state)) return null;
  let next: number | null = null;
  if (!c.overdue && c.deadline !== null && SLA_STATES.includes(c.state)) next = c.deadline + 1;
  for (const w of c.whistles) {
    if (w.reportedAt === null && w.escalatedAt === null) {
      const t = w.deadline + 1;
      if (next === null || t < next) next = t;
    }
  }
  return next;
}
