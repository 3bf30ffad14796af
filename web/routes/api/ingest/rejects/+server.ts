import { json } from '@sveltejs/kit';
import { api, num, requireRole } from '$lib/server/api.ts';
import { deviceCondition, queryFilter, scopeOf } from '../../../../../ingest/auth/scope.ts';
import { getServices } from '$lib/server/platform.ts';
import { listRejects } from '../../../../../ingest/store/ingest.ts';

/**
 * Recent rejected MQTT messages with their reasons (bounded retention), newest first.
 * `limit` (≤ 1000), `before` (an id, for the next page), `reason`. Operators' tool: admin and analysts.
 * A scoped analyst sees only rejects whose client id is a device in its read scope (ingest/auth/scope.ts).
 */
export const GET = api(async (event) => {
  const scope = scopeOf(requireRole(event, 'analyst'));
  const p = event.url.searchParams;
  const rejects = await listRejects(getServices().db, {
    limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 1000 }) ?? 100,
    before: num(p.get('before'), 'before', { int: true, min: 1 }) ?? null,
    reason: queryFilter(p, 'reason', /^[a-z_]{1,64}$/, 'a reject reason'),
    ...(scope.all ? {} : { deviceScope: deviceCondition(scope, 4, 'd.id', 'd.grid') }),
  });
  return json({ rejects, next: rejects.length ? rejects[rejects.length - 1].id : null });
});
