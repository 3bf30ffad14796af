import { json } from '@sveltejs/kit';
import { api, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { gridVisible } from '../../../../../../ingest/auth/scope.ts';
import { listUsers } from '../../../../../../ingest/store/users.ts';

/**
 * The grid workers (网格员) of a unit, for the wall's grid profile: `{grid, workers: [{username, name, scope}]}`,
 * the enabled users of role gridworker whose scope covers `code` or lies inside it. 404 not_found for a code
 * the user may not see (existence is not revealed); 400 invalid_code for one that is not a grid code.
 */
export const GET = api(async (event) => {
  const code = event.params.code ?? '';
  if (!/^\d{6,20}$/.test(code)) fail('invalid_code', 'code must be a grid code');
  if (!gridVisible(scopeFor(event), code)) fail('not_found', `no grid ${code}`);
  const workers = (await listUsers(getServices().db))
    .filter(
      (u) =>
        u.role === 'gridworker' &&
        !u.disabled &&
        !!u.scopeGrid &&
        (code.startsWith(u.scopeGrid) || u.scopeGrid.startsWith(code)),
    )
    .map((u) => ({ username: u.username, name: u.name, scope: u.scopeGrid }));
  return json({ grid: code, workers });
});
