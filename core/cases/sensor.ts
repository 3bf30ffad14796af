/**
 * Updates that the rule engine makes to a sensor-raised case, outside the people's actions of
 * CONTRACT.md: more events folded into it (repeats, fusion, storm control) and a priority raised by
 * fusion (a camera confirming a smoke alarm). Both are recorded on the trail.
 *
 * `events` does not bump `version`: during an alarm storm the count changes many times a second, and a
 * dispatcher's action must not fail with stale_version because of it. `raise_priority` does bump it:
 * priority and deadline are what people act on.
 */
import { DomainError } from '../errors.ts';
import { DEFAULT_DEADLINES, deadlineFor, isOverdue } from './sla.ts';
import type { MachineContext } from './machine.ts';
import { SYSTEM_ACTOR } from './machine.ts';
import type { Case, Priority, TrailEntryDraft } from './types.ts';
import { OPEN_STATES } from './types.ts';

export type SensorUpdate =
  | { kind: 'events'; count: number; deviceId?: string; reason?: string }
  | { kind: 'raise_priority'; priority: Priority; reason: string };

export function applySensorUpdate(
  c: Case,
  u: SensorUpdate,
  now: number,
  ctx: MachineContext,
): { case: Case; trail: TrailEntryDraft } {
  const next: Case = { ...c };
  let note: string;
  let data: Record<string, unknown>;
  if (u.kind === 'events') {
    if (!Number.isInteger(u.count) || u.count < 1) throw new DomainError('validation_failed', 'count must be ≥ 1');
    next.eventCount = c.eventCount + u.count;
    note = `+${u.count} event(s)${u.reason ? ` (${u.reason})` : ''}`;
    data = { count: u.count, eventCount: next.eventCount, ...(u.deviceId ? { deviceId: u.deviceId } : {}) };
  } else {
    if (!OPEN_STATES.includes(c.state)) {
      throw new DomainError('illegal_transition', `priority cannot change in state ${c.state}`);
    }
    if (u.priority >= c.priority) {
      throw new DomainError('illegal_transition', `priority ${u.priority} is not higher than ${c.priority}`);
    }
    next.priority = u.priority;
    if (c.deadline !== null) {
      // The clock restarts from registration with the shorter time of the higher priority, never later.
      const since = c.registeredAt ?? c.createdAt;
      next.deadline = Math.min(
        c.deadline,
        deadlineFor(c.category, u.priority, since, ctx.deadlines ?? DEFAULT_DEADLINES),
      );
      if (isOverdue(next, now)) next.overdue = true;
    }
    next.version = c.version + 1;
    note = u.reason;
    data = { from: c.priority, priority: u.priority, deadline: next.deadline };
  }
  next.updatedAt = now;
  return {
    case: next,
    trail: {
      caseId: c.id,
      action: u.kind,
      actor: SYSTEM_ACTOR.id,
      role: 'system',
      at: now,
      note,
      data,
      fromState: c.state,
      toState: c.state,
      version: next.version,
    },
  };
}
