import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { actorFor } from '$lib/server/cases.ts';
import { fieldService } from '$lib/server/field.ts';
import { getServices } from '$lib/server/platform.ts';

/**
 * One record of the grid worker's outbox (ingest/field/actions.ts): `{key: UUID, kind: report | claim | handle |
 * comment | verify | track, createdAt?, sentAt?, …}`. The first answer to a key is stored; a repeated key gets
 * it again with `Idempotent-Replayed: true`. 201 for a new report, 200 otherwise. Errors: 400 validation_failed,
 * 403 forbidden/outside_scope, 409 conflict (key reused for another record) or stale_version, 422
 * illegal_transition or too_far (a check away from the case without an override).
 *
 * A track batch that stored fixes is told to the wall live: `{type: 'patrol', worker}` to those who may see the
 * grid of its newest fix; the wall then reloads GET /api/patrols (web/lib/wall/state.svelte.ts).
 */
export const POST = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const input = await readJson(event);
  const f = fieldService();
  const a = await f.actions.run(actor, input);
  if ((input as { kind?: unknown }).kind === 'track' && !a.replayed && Number(a.body.accepted) > 0) {
    const fixes = (input as { fixes: { lng: number; lat: number }[] }).fixes;
    const last = fixes[fixes.length - 1];
    const grid = f.tracks.gridAt(last.lng, last.lat) ?? '';
    getServices().live.publish({ type: 'patrol', worker: actor.id }, { grid });
  }
  return json(a.body, { status: a.status, headers: { 'idempotent-replayed': String(a.replayed) } });
});
