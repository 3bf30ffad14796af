import type { Handle, HandleServerError } from '@sveltejs/kit';
import { tokenFromHeaders } from '../ingest/auth/sessions.ts';
import { getServices } from '$lib/server/platform.ts';
import { csrfRefusal } from '$lib/server/csrf.ts';
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
  return secureHeaders(await resolve(event), event.url);
};

export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status >= 500) getServices().log.error({ err: error, path: event.url.pathname }, 'unexpected error');
  return { message: status === 404 ? 'Not found' : 'Internal error', code: status === 404 ? 'not_found' : 'internal' };
};
