/**
 * `/api/stats`: core's indicators (core/cases/stats.ts — closeRate, onTimeCloseRate, reworkRate,
 * satisfactionRate, overdue, avgHandleMinutes, by category, source and department) over the cases in the
 * actor's scope ∩ the requested grid scope, plus open work by state and the device online ratio.
 */
import type { Actor } from '../../core/cases/types.ts';
import { inScope } from '../../core/cases/machine.ts';
import { caseStats, type CaseStats, type StatsWindow } from '../../core/cases/stats.ts';
import { casesForStats, countByState, deviceOnline, type CaseScope } from '../store/cases.ts';
import type { CaseService } from './service.ts';

export interface ScopedStats extends CaseStats {
  scope: string | null;
  from: string;
  to: string;
  byState: Record<string, number>;
  devices: { online: number; total: number; onlineRatio: number | null };
}

/** The grid prefix both the actor's scope and the request allow; `false` when they do not meet. */
export function narrowScope(actorPrefix: string | null, requested: string | null): string | null | false {
  if (!requested) return actorPrefix;
  if (!actorPrefix || requested.startsWith(actorPrefix)) return requested;
  if (actorPrefix.startsWith(requested)) return actorPrefix;
  return false;
}

export async function caseStatsFor(
  svc: CaseService,
  actor: Actor,
  window: StatsWindow,
  requested: string | null,
): Promise<ScopedStats> {
  const base = svc.scopeOf(actor);
  const prefix = narrowScope(base.gridPrefix, requested);
  const scope: CaseScope =
    prefix === false ? { gridPrefix: null, department: null, none: true } : { ...base, gridPrefix: prefix };
  const [cases, byState, devices] = await Promise.all([
    casesForStats(svc.db, scope, window),
    countByState(svc.db, scope),
    prefix === false ? Promise.resolve({ online: 0, total: 0 }) : deviceOnline(svc.db, prefix),
  ]);
  const stats = caseStats(
    cases.filter((c) => inScope(actor, c)),
    window,
  );
  return {
    scope: prefix === false ? requested : prefix,
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    ...stats,
    byState,
    devices: { ...devices, onlineRatio: devices.total === 0 ? null : devices.online / devices.total },
  };
}
