/** Revoke an Open311 API key (admin only): `DELETE /api/open311/keys/{id}` → 204; 404 when no such live key. */
import { api, fail, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { revokeKey } from '../../../../../../ingest/open311/index.ts';

export const DELETE = api(async (event) => {
  requireRole(event);
  if (!(await revokeKey(getServices().db, event.params.id!))) fail('not_found', 'no such live key');
  return new Response(null, { status: 204 });
});
