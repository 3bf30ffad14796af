import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService } from '$lib/server/cases.ts';
import { getServices } from '$lib/server/platform.ts';
import { listUsers } from '../../../../../../ingest/store/users.ts';

/**
 * Every step of the case with actor, time, note and hash chain, and whether the chain verifies. Each entry
 * also carries `actorName`, the actor's display name from the users table (the username itself for the
 * platform's own entries and for users since removed); it is not part of the hash.
 */
export const GET = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const svc = caseService();
  const c = await svc.getByIdOrCode(event.params.id ?? '', actor);
  const t = await svc.trail(c.id, actor);
  const names = new Map((await listUsers(getServices().db)).map((u) => [u.username, u.name]));
  const entries = t.entries.map((e) => ({ ...e, actorName: names.get(e.actor) || e.actor }));
  return json({ caseId: c.id, code: c.code, ...t, entries });
});
