import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService, caseView } from '$lib/server/cases.ts';

/** One case by id or code (e.g. HQ-20261123-0001); 404 outside the user's scope. */
export const GET = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const c = await caseService().getByIdOrCode(event.params.id ?? '', actor);
  return json(caseView(c, actor));
});
