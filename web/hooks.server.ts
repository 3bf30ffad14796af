import type { Handle, HandleServerError } from '@sveltejs/kit';
import { tokenFromHeaders } from '../ingest/auth/sessions.ts';
import { allowedWhileGated } from '../ingest/auth/http.ts';
import { getServices } from '$lib/server/platform.ts';
import { csrfRefusal } from '$lib/server/csrf.ts';
import { env } from '$env/dynamic/public';
import { jsonError, requestRefusal, secureHeaders } from '$lib/server/guard.ts';

export const handle: Handle = async ({ event, resolve }) => {
  const refused =
    (await requestRefusal(event.request, event.url)) ??
    csrfRefusal(event.request, event.url) ??
    // Unknown API paths answer in the API's own error format, not with the HTML error page.
    (event.route.id === null && /^\/api(\/|$)/.test(event.url.pathname)
      ? jsonError(404, 'not_found', `no API route ${event.url.pathname}`)
      : null);
  if (refused) return secureHeaders(refused, event.url);
  const s = getServices();
  const token = tokenFromHeaders({
    cookie: event.request.headers.get('cookie') ?? undefined,
    authorization: event.request.headers.get('authorization') ?? undefined,
  });
  event.locals.token = token;
  event.locals.user = await s.sessions.user(token);
  const gated = accountGate(event.locals.user, event.url);
  if (gated) return secureHeaders(gated, event.url);
  // An intranet basemap's origin (PUBLIC_BASEMAP_STYLE, CSP_EXTRA_ORIGINS) may serve the wall's tiles.
  const tiles = [env.PUBLIC_BASEMAP_STYLE?.trim(), ...s.config.cspExtraOrigins];
  return secureHeaders(await resolve(event), event.url, tiles);
};

/**
 * A generated or reset password must be changed, and under REQUIRE_2FA=admin an admin must enrol TOTP,
 * before anything else (ingest/auth/http.ts lists what stays reachable): API calls answer 403
 * `password_change_required` / `totp_enrolment_required`, pages lead to the login page's forms.
 */
function accountGate(user: App.Locals['user'], url: URL): Response | null {
  const gate = user?.mustChangePassword ? 'password' : user?.totpEnrolmentRequired ? 'totp' : null;
  if (!gate) return null;
  const path = url.pathname;
  if (/^\/api(\/|$)/.test(path)) {
    if (allowedWhileGated(path, gate)) return null;
    return gate === 'password'
      ? jsonError(403, 'password_change_required', 'change your password first: POST /api/session/password')
      : jsonError(403, 'totp_enrolment_required', 'set up two-factor sign-in first: POST /api/session/totp');
  }
  if (path === '/login' || /^\/(_app|open311|metrics|healthz)(\/|$)/.test(path)) return null;
  return new Response(null, { status: 303, headers: { location: '/login' } });
}

export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status >= 500) getServices().log.error({ err: error, path: event.url.pathname }, 'unexpected error');
  return { message: status === 404 ? 'Not found' : 'Internal error', code: status === 404 ? 'not_found' : 'internal' };
};
