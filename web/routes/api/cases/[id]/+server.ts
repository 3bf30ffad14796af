import { json } from '@sveltejs/kit';
import { api, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService, caseView } from '$lib/server/cases.ts';
import { getServices } from '$lib/server/platform.ts';
import { listUsers } from '../../../../../ingest/store/users.ts';

/**
 * One case by id or code (e.g. HQ-20261123-0001); 404 outside the user's scope. Besides the case it names
 * `gridWorkers`: the enabled grid workers (网格员) whose scope covers the case's grid, `[{username, name}]`,
 * so that a dispatcher can dispatch to one of them (`to: {kind: "user", id: username}`).
 */
export const GET = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const c = await caseService().getByIdOrCode(event.params.id ?? '', actor);
  const code = c.grid.grid ?? c.grid.community ?? c.grid.street ?? null;
  const gridWorkers =
    code === null
      ? []
      : (await listUsers(getServices().db))
          .filter((u) => u.role === 'gridworker' && !u.disabled && u.scopeGrid && code.startsWith(u.scopeGrid))
          .map((u) => ({ username: u.username, name: u.name }));
  return json({ ...caseView(c, actor), gridWorkers });
});
