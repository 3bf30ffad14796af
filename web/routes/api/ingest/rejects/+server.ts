import { json } from '@sveltejs/kit';
import { api, num, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { listRejects } from '../../../../../ingest/store/ingest.ts';

/**
 * Recent rejected MQTT messages with their reasons (bounded retention), newest first.
 * `limit` (≤ 1000), `before` (an id, for the next page), `reason`. Operators' tool: admin and analysts.
 */
export const GET = api(async (event) => {
  requireRole(event, 'analyst');
  const p = event.url.searchParams;
  const rejects = await listRejects(getServices().db, {
    limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 1000 }) ?? 100,
    before: num(p.get('before'), 'before', { int: true, min: 1 }) ?? null,
    reason: p.get('reason'),
  });
  return json({ rejects, next: rejects.length ? rejects[rejects.length - 1].id : null });
});
