import { json } from '@sveltejs/kit';
import { api, fail, readJson, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { setSessionCookie } from '$lib/server/session.ts';
import { SESSION_COOKIE } from '../../../../ingest/auth/sessions.ts';
import { retryAfterResponse } from '../../../../ingest/auth/http.ts';

/**
 * Sign in: `{"username", "password", "totp"?, "device"?}` → `{"token", "user"}`, also setting an HttpOnly
 * SameSite cookie. `device: true` asks for a device session (a grid worker's phone, `/m`): 30 days, no idle
 * timeout, revoked by sign-out or an admin disabling the user or resetting its password; other roles get an
 * ordinary session. The app keeps the token and sends it as Bearer (the cookie lives 12 hours). Errors: 400 validation_failed; 401 unauthorized (wrong credentials or code); 401 totp_required
 * (password right, TOTP enrolled, code missing); 423 account_locked (5 failures in 15 min; Retry-After);
 * 429 rate_limited (too many attempts from this address; Retry-After). `user.mustChangePassword` true:
 * every other API call answers 403 password_change_required until POST /api/session/password.
 */
export const POST = api(async (event) => {
  const body = (await readJson(event, 4096)) as {
    username?: unknown;
    password?: unknown;
    totp?: unknown;
    device?: unknown;
  };
  if (typeof body?.username !== 'string' || typeof body?.password !== 'string')
    fail('validation_failed', 'body must be {"username": string, "password": string, "totp"?: string}');
  if (body.totp !== undefined && body.totp !== null && typeof body.totp !== 'string')
    fail('validation_failed', 'totp must be a string of 6 digits', { field: 'totp' });
  if (body.username.length > 64 || body.password.length > 256) fail('unauthorized', 'wrong username or password');
  try {
    const r = await getServices().sessions.login(body.username, body.password, {
      ip: event.getClientAddress(),
      totp: (body.totp as string | undefined) ?? null,
      device: body.device === true,
    });
    setSessionCookie(event.cookies, event.url, r.token);
    return json({ token: r.token, user: r.user }, { headers: { 'cache-control': 'no-store' } });
  } catch (e) {
    throw retryAfterResponse(e) ?? e;
  }
});

/** The signed-in session: `{"user", "idleTimeoutMin", "maxHours"}` (user carries mustChangePassword, totpEnabled, totpEnrolmentRequired). */
export const GET = api(async (event) => {
  const user = requireUser(event);
  const s = getServices().sessions;
  return json({ user, idleTimeoutMin: s.options.idleMin, maxHours: s.options.maxHours });
});

/** Sign out: the session ends everywhere (its sockets close, revocation.ts). 204. */
export const DELETE = api(async (event) => {
  if (event.locals.token) await getServices().sessions.logout(event.locals.token, event.getClientAddress());
  event.cookies.delete(SESSION_COOKIE, { path: '/' });
  return new Response(null, { status: 204 });
});
