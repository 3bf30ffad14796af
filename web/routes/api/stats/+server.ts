import { json } from '@sveltejs/kit';
import { api, fail, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { deviceCondition, gridFilter, scopeOf } from '../../../../ingest/auth/scope.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';
import { caseStatsFor } from '../../../../ingest/cases/stats.ts';

const DAY = 24 * 3600_000;

function time(v: string | null, name: string, dflt: number): number {
  if (v === null || v === '') return dflt;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n))
    fail('validation_failed', `${name} must be an ISO-8601 time or epoch milliseconds`, { field: name });
  return n;
}

/**
 * Indicators for `scope` (a grid-code prefix, narrowed to the user's own scope) over [from, to) — default
 * the last 30 days: closeRate, onTimeCloseRate, reworkRate, satisfactionRate, overdue, avgHandleMinutes,
 * by category, source and department; open work by state; device online ratio. The device ratio counts
 * the devices of the read scope (ingest/auth/scope.ts): a department handler's are those linked to its cases.
 */
export const GET = api(async (event) => {
  const user = requireUser(event);
  const actor = actorFor(user);
  const p = event.url.searchParams;
  const now = Date.now();
  const to = time(p.get('to'), 'to', now + 1);
  const from = time(p.get('from'), 'from', to - 30 * DAY);
  if (!(from < to)) fail('validation_failed', 'from must be before to', { field: 'from' });
  const requested = gridFilter(p, 'scope');
  const stats = await caseStatsFor(caseService(), actor, { from, to }, requested);
  const scope = scopeOf(user);
  if (scope.department || scope.none) {
    // Grid-prefix counting would be district-wide here: count the devices this user may see instead.
    const cond = deviceCondition(scope, 2);
    const r = await getServices().db.query<{ online: string | number; total: string | number }>(
      `SELECT count(*) FILTER (WHERE online) AS online, count(*) AS total FROM devices
        WHERE kind <> 'gateway' AND ($1::text IS NULL OR grid LIKE $1 || '%') AND ${cond.sql}`,
      [requested, ...cond.params],
    );
    const online = Number(r.rows[0]?.online ?? 0);
    const total = Number(r.rows[0]?.total ?? 0);
    stats.devices = { online, total, onlineRatio: total === 0 ? null : online / total };
  }
  return json(stats);
});
