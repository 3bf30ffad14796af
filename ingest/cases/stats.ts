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
import type { Queryable } from '../store/db.ts';
import { deviceCondition, scopeOf } from '../auth/scope.ts';

/**
 * Devices online / total that the actor may see (ingest/auth/scope.ts) under `prefix`: a grid scope counts
 * its grids' devices; a department scope only the devices linked to its cases, never the district's.
 */
async function devicesOnlineFor(
  db: Queryable,
  actor: Actor,
  prefix: string | null,
): Promise<{ online: number; total: number }> {
  const scope = scopeOf({
    role: actor.role,
    scopeGrid: actor.scope.grid,
    scopeDepartment: actor.scope.department ?? null,
  });
  if (!scope.department && !scope.none) return deviceOnline(db, prefix);
  if (scope.none) return { online: 0, total: 0 };
  const cond = deviceCondition(scope, 2);
  const r = await db.query<{ online: string | number; total: string | number }>(
    `SELECT count(*) FILTER (WHERE online) AS online, count(*) AS total FROM devices
      WHERE kind <> 'gateway' AND ($1::text IS NULL OR grid LIKE $1 || '%') AND ${cond.sql}`,
    [prefix, ...cond.params],
  );
  return { online: Number(r.rows[0]?.online ?? 0), total: Number(r.rows[0]?.total ?? 0) };
}

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
    prefix === false ? Promise.resolve({ online: 0, total: 0 }) : devicesOnlineFor(svc.db, actor, prefix),
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
