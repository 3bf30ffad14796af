import { json } from '@sveltejs/kit';
import { api, fail, readJson } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { setSessionCookie } from '$lib/server/session.ts';
import { SESSION_COOKIE } from '../../../../ingest/auth/sessions.ts';
import { announceRevocation } from '../../../../ingest/auth/revocation.ts';
import { sha256Hex } from '../../../../ingest/auth/secrets.ts';

/** Sign in: sets an HttpOnly SameSite cookie and returns the token for `Authorization: Bearer`. */
export const POST = api(async (event) => {
  const body = (await readJson(event)) as { username?: unknown; password?: unknown };
  if (typeof body?.username !== 'string' || typeof body?.password !== 'string')
    fail('validation_failed', 'body must be {"username": string, "password": string}');
  const r = await getServices().sessions.login(body.username, body.password);
  if (!r) fail('unauthorized', 'wrong username or password');
  setSessionCookie(event.cookies, event.url, r.token);
  return json({ token: r.token, user: r.user });
});

/** Sign out. */
export const DELETE = api(async (event) => {
  if (event.locals.token) {
    await getServices().sessions.logout(event.locals.token);
    // The session's /live and /video sockets close now (ingest/auth/sockets.ts).
    if (event.locals.user)
      announceRevocation({
        username: event.locals.user.username,
        tokenHash: sha256Hex(event.locals.token),
        reason: 'logout',
      });
  }
  event.cookies.delete(SESSION_COOKIE, { path: '/' });
  return new Response(null, { status: 204 });
});
