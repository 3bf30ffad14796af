import { fail, redirect } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';
import { safeNext, setSessionCookie } from '$lib/server/session.ts';
import type { Actions, PageServerLoad } from './$types';

/** Already signed in: straight on to where the user was going. */
export const load: PageServerLoad = ({ locals, url }) => {
  if (locals.user) redirect(303, safeNext(url.searchParams.get('next')));
  return {};
};

/**
 * The login form posts here (and works before the page's script has loaded, or without it): on success the
 * session cookie is set and the user goes on to `?next=` (a path on this site) or the wall; on failure the
 * form comes back with the username and a message, and the password is never echoed or put in a URL.
 */
export const actions: Actions = {
  default: async ({ request, cookies, url }) => {
    const form = await request.formData();
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    if (!username || !password) return fail(400, { username, error: 'loginFailed' as const });
    const r = await getServices().sessions.login(username, password);
    if (!r) return fail(401, { username, error: 'loginFailed' as const });
    setSessionCookie(cookies, url, r.token);
    redirect(303, safeNext(url.searchParams.get('next')));
  },
};
