import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { accounts } from '../../../users/accounts.ts';

/** Confirm TOTP enrolment with a current code: `{"code": "123456"}` → 200 `{"user"}`; 401 on a wrong code. */
export const POST = api(async (event) => {
  const u = requireUser(event);
  const body = (await readJson(event, 1024)) as { code?: unknown };
  if (typeof body?.code !== 'string') fail('validation_failed', 'body must be {"code": string}', { field: 'code' });
  await accounts().confirmTotp(u.username, body.code, event.getClientAddress());
  return json({ user: await getServices().sessions.user(event.locals.token) });
});
