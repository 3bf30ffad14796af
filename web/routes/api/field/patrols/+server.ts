import { json } from '@sveltejs/kit';
import { api, fail, requireUser, scopeOf } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { fieldService } from '$lib/server/field.ts';
import { gridVisible } from '../../../../../ingest/auth/scope.ts';
import { listUsers } from '../../../../../ingest/store/users.ts';
import { localDay, patrolSummary } from '../../../../../ingest/field/index.ts';

/**
 * Patrol figures per worker and day (`?day=YYYY-MM-DD`, default today in TZ; `?worker=username`):
 * `{day, workers: [{worker, name, grid, distanceM, durationS, coverage (0..1 of the assigned grid), gaps,
 * fixes, reports, clockFlagged}]}`. A grid worker sees only its own; others the grid workers whose assigned
 * grid lies in their scope (ingest/auth/scope.ts; department handlers see none). 400 validation_failed.
 */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const day = event.url.searchParams.get('day')?.trim() || localDay(Date.now());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || isNaN(Date.parse(day)))
    fail('validation_failed', 'day must be YYYY-MM-DD', { field: 'day' });
  const only = event.url.searchParams.get('worker')?.trim() || null;
  const scope = scopeOf(u);
  const all = await listUsers(getServices().db);
  const workers = all.filter(
    (w) =>
      w.role === 'gridworker' &&
      (u.role === 'gridworker' ? w.username === u.username : gridVisible(scope, w.scopeGrid)) &&
      (!only || w.username === only),
  );
  const f = fieldService();
  const out = [];
  for (const w of workers) out.push(await patrolSummary(f.tracks, w, day));
  return json({ day, workers: out }, { headers: { 'cache-control': 'private, no-store' } });
});
