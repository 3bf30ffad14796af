import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';

/** Every step of the case with actor, time, note and hash chain, and whether the chain verifies. */
export const GET = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const svc = caseService();
  const c = await svc.getByIdOrCode(event.params.id ?? '', actor);
  const t = await svc.trail(c.id, actor);
  return json({ caseId: c.id, code: c.code, ...t });
});
