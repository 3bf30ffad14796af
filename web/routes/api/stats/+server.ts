import { json } from '@sveltejs/kit';
import { api, fail, requireUser } from '$lib/server/api.ts';
import { gridFilter } from '../../../../ingest/auth/scope.ts';
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
  const actor = actorFor(requireUser(event));
  const p = event.url.searchParams;
  const now = Date.now();
  const to = time(p.get('to'), 'to', now + 1);
  const from = time(p.get('from'), 'from', to - 30 * DAY);
  if (!(from < to)) fail('validation_failed', 'from must be before to', { field: 'from' });
  const requested = gridFilter(p, 'scope');
  return json(await caseStatsFor(caseService(), actor, { from, to }, requested));
});
