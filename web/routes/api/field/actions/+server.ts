import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { actorFor } from '$lib/server/cases.ts';
import { fieldService } from '$lib/server/field.ts';

/**
 * One record of the grid worker's outbox (ingest/field/actions.ts): `{key: UUID, kind: report | claim | handle |
 * comment | verify | track, createdAt?, sentAt?, …}`. The first answer to a key is stored; a repeated key gets
 * it again with `Idempotent-Replayed: true`. 201 for a new report, 200 otherwise. Errors: 400 validation_failed,
 * 403 forbidden/outside_scope, 409 conflict (key reused for another record) or stale_version, 422
 * illegal_transition or too_far (a check away from the case without an override).
 */
export const POST = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const a = await fieldService().actions.run(actor, await readJson(event));
  return json(a.body, { status: a.status, headers: { 'idempotent-replayed': String(a.replayed) } });
});
