import type { Handle, HandleServerError } from '@sveltejs/kit';
import { tokenFromHeaders } from '../ingest/auth/sessions.ts';
import { getServices } from '$lib/server/platform.ts';
import { csrfRefusal } from '$lib/server/csrf.ts';

export const handle: Handle = async ({ event, resolve }) => {
  const refused = csrfRefusal(event.request, event.url);
  if (refused) return refused;
  const s = getServices();
  const token = tokenFromHeaders({
    cookie: event.request.headers.get('cookie') ?? undefined,
    authorization: event.request.headers.get('authorization') ?? undefined,
  });
  event.locals.token = token;
  event.locals.user = await s.sessions.user(token);
  const response = await resolve(event);
  response.headers.set('X-Content-Type-Options', 'nosniff');
  return response;
};

export const handleError: HandleServerError = ({ error, event, status }) => {
  if (status >= 500) getServices().log.error({ err: error, path: event.url.pathname }, 'unexpected error');
  return { message: status === 404 ? 'Not found' : 'Internal error', code: status === 404 ? 'not_found' : 'internal' };
};
