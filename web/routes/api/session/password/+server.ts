import { json } from '@sveltejs/kit';
import { api, readJson, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { accounts } from '../../users/accounts.ts';
import { retryAfterResponse } from '../../../../../ingest/auth/http.ts';

/**
 * Change one's own password: `{"currentPassword", "newPassword"}` → 200 `{"user"}`. The policy of
 * ingest/auth/password.ts applies (400 weak_password with details.reason); a wrong current password is
 * 401 unauthorized. The user's other sessions end; this one stays and is no longer gated.
 */
export const POST = api(async (event) => {
  const u = requireUser(event);
  const body = (await readJson(event, 4096)) as { currentPassword?: unknown; newPassword?: unknown };
  try {
    await accounts().changeOwnPassword(u.username, body?.currentPassword as string, body?.newPassword as string, {
      token: event.locals.token,
      ip: event.getClientAddress(),
    });
  } catch (e) {
    // Wrong current passwords count toward the account lock (423 with Retry-After).
    throw retryAfterResponse(e) ?? e;
  }
  return json({ user: await getServices().sessions.user(event.locals.token) });
});
