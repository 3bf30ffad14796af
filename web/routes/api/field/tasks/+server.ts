import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';
import { tasksOf } from '../../../../../ingest/field/index.ts';

/**
 * The signed-in worker's tasks: `{dispatched: cases dispatched to me, checks: cases handled in my grid that I may
 * verify (核查), reported: my recent reports}`, each case with the `actions` I may take. Scope as everywhere.
 */
export const GET = api(async (event) => {
  const actor = actorFor(requireUser(event));
  return json(await tasksOf(caseService(), actor), { headers: { 'cache-control': 'private, no-store' } });
});
