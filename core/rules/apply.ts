/**
 * From decisions to cases: the pure half of what the rules runner does with an `open_case` decision.
 * The runner supplies ids, the cameras it found within `linkCamerasRadiusM` (its spatial index over the
 * device registry) and the deadline table, then stores the case and its trail entries in one transaction.
 */
import { applyAction, newCase, SYSTEM_ACTOR, type CaseIds, type MachineContext } from '../cases/machine.ts';
import type { Case, TrailEntryDraft } from '../cases/types.ts';
import type { OpenCaseDecision } from './types.ts';

/**
 * The case for an open_case decision: intake (source sensor/camera), then — as the rule says — registered
 * and dispatched to its department by the system at once (CONTRACT.md: a fire alarm is "registered and
 * dispatched to the fire department at once").
 */
export function caseFromDecision(
  d: OpenCaseDecision,
  now: number,
  ids: CaseIds,
  ctx: MachineContext,
  linkedCameras: string[] = [],
): { case: Case; trail: TrailEntryDraft[] } {
  const first = newCase(
    {
      title: d.title,
      description: `rule ${d.rule}, device ${d.deviceId}`,
      category: d.category,
      priority: d.priority,
      location: d.location,
      grid: d.grid,
      source: d.source,
      linkedCameras,
      eventCount: d.eventCount,
    },
    now,
    ids,
    SYSTEM_ACTOR,
  );
  let c = first.case;
  const trail = [first.trail];
  if (d.autoRegister || d.autoDispatch) {
    const r = applyAction(
      c,
      { action: 'register', category: d.category, priority: d.priority, note: `rule ${d.rule}` },
      SYSTEM_ACTOR,
      now,
      ctx,
    );
    c = r.case;
    trail.push(r.trail);
  }
  if (d.autoDispatch) {
    const r = applyAction(
      c,
      { action: 'dispatch', to: { kind: 'department', id: d.autoDispatch }, note: `rule ${d.rule}` },
      SYSTEM_ACTOR,
      now,
      ctx,
    );
    c = r.case;
    trail.push(r.trail);
  }
  return { case: c, trail };
}
