/**
 * Case indicators for a time window, after the evaluation (评价) part of the national digital-city-management
 * standard series GB/T 30428.x 数字化城市管理信息系统 (结案率, 按期结案率, 返工率, and public satisfaction
 * of 综合评价). The part number and exact clauses were not checked against the issued text while writing
 * this; where the definitions leave a choice, ours is written here:
 *
 * - due (应结案数): cases, not rejected or merged, whose deadline falls in [from, to) or that were closed in
 *   [from, to). A case with a deadline counts where its deadline falls even if it is still open.
 * - closed (结案数): due cases closed before `to`.
 * - closeRate = closed ÷ due; onTimeCloseRate (按期结案率) = closed on time ÷ due.
 * - reworkRate (返工率) = closed cases that were reworked at least once ÷ closed.
 * - satisfactionRate = evaluated due cases with satisfaction ≥ 4 ("satisfied" and "very satisfied" on the
 *   1–5 scale) ÷ evaluated due cases.
 * - overdue = due cases that missed their deadline: closed after it, or still open at `to` past it.
 * - avgHandleMinutes = mean minutes from intake (createdAt) to closing, over closed cases.
 * Rates are null when their denominator is 0. Windows are half-open, in epoch ms.
 */
import type { Case } from './types.ts';
import { classOf } from './categories.ts';

export interface StatsWindow {
  from: number;
  to: number;
}

export interface Indicators {
  due: number;
  closed: number;
  closedOnTime: number;
  closeRate: number | null;
  onTimeCloseRate: number | null;
  reworkRate: number | null;
  satisfactionRate: number | null;
  evaluated: number;
  overdue: number;
  avgHandleMinutes: number | null;
}

export interface CaseStats extends Indicators {
  /** By category class (`fire`, `street_order` …). */
  byCategory: Record<string, Indicators>;
  bySource: Record<string, Indicators>;
  /** By assigned department; `user:` + id for cases assigned to a person, `unassigned` otherwise. */
  byDepartment: Record<string, Indicators>;
}

function inWindow(t: number | null, w: StatsWindow): boolean {
  return t !== null && t >= w.from && t < w.to;
}

/** Whether a case is due in the window (see the file comment). */
export function isDue(c: Case, w: StatsWindow): boolean {
  if (c.state === 'rejected' || c.state === 'merged') return false;
  return inWindow(c.deadline, w) || inWindow(c.closedAt, w);
}

function ratio(n: number, d: number): number | null {
  return d === 0 ? null : n / d;
}

/** Indicators over cases already known to be due. */
function indicatorsOf(due: readonly Case[], w: StatsWindow): Indicators {
  let closed = 0;
  let onTime = 0;
  let reworked = 0;
  let evaluated = 0;
  let satisfied = 0;
  let overdue = 0;
  let handleMs = 0;
  for (const c of due) {
    const isClosed = c.closedAt !== null && c.closedAt < w.to;
    if (isClosed) {
      closed++;
      if (c.closedOnTime) onTime++;
      if (c.reworkCount > 0) reworked++;
      handleMs += (c.closedAt as number) - c.createdAt;
      if (c.closedOnTime === false) overdue++;
    } else if (c.deadline !== null && c.deadline < w.to) {
      overdue++;
    }
    if (c.satisfaction !== null) {
      evaluated++;
      if (c.satisfaction >= 4) satisfied++;
    }
  }
  return {
    due: due.length,
    closed,
    closedOnTime: onTime,
    closeRate: ratio(closed, due.length),
    onTimeCloseRate: ratio(onTime, due.length),
    reworkRate: ratio(reworked, closed),
    satisfactionRate: ratio(satisfied, evaluated),
    evaluated,
    overdue,
    avgHandleMinutes: closed === 0 ? null : handleMs / closed / 60_000,
  };
}

function departmentOf(c: Case): string {
  if (!c.assignee) return 'unassigned';
  return c.assignee.kind === 'department' ? c.assignee.id : `user:${c.assignee.id}`;
}

function breakdown(due: readonly Case[], w: StatsWindow, keyOf: (c: Case) => string): Record<string, Indicators> {
  const groups = new Map<string, Case[]>();
  for (const c of due) {
    const k = keyOf(c);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(c);
  }
  const out: Record<string, Indicators> = {};
  for (const k of [...groups.keys()].sort()) out[k] = indicatorsOf(groups.get(k) as Case[], w);
  return out;
}

/** Indicators of the cases (already filtered to the caller's scope) for the window. */
export function caseStats(cases: readonly Case[], window: StatsWindow): CaseStats {
  const due = cases.filter((c) => isDue(c, window));
  return {
    ...indicatorsOf(due, window),
    byCategory: breakdown(due, window, (c) => classOf(c.category)),
    bySource: breakdown(due, window, (c) => c.source),
    byDepartment: breakdown(due, window, departmentOf),
  };
}
