import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { actorFor, caseService, caseView } from '$lib/server/cases.ts';
import { parseCaseAction } from '../../../../../../core/schemas/api.ts';
import type { CaseAction } from '../../../../../../core/cases/types.ts';

/**
 * `{"action", "version", …fields}` → the updated case. 409 stale_version when the case changed since
 * `version`; 422 illegal_transition when its state does not allow the action; 403 forbidden (role, level,
 * assignee) or outside_scope.
 */
export const POST = api(async (event) => {
  const actor = actorFor(requireUser(event));
  const body = parseCaseAction(await readJson(event));
  const svc = caseService();
  let id = event.params.id ?? '';
  if (/^[A-Z]{2,}-\d{8}-\d+$/.test(id)) id = (await svc.getByIdOrCode(id, actor).catch(() => ({ id }))).id;
  const c = await svc.act(id, body as unknown as CaseAction & { version: number }, actor);
  return json(caseView(c, actor));
});
