import { fail, redirect } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';
import { safeNext, setSessionCookie } from '$lib/server/session.ts';
import { isDomainError } from '../../../core/errors.ts';
import type { Accounts } from '../../../ingest/auth/accounts.ts';
import type { Actions, PageServerLoad } from './$types';

const accounts = () => getServices().ext.accounts as Accounts;

/**
 * Signed in and free to go: straight on to where the user was going. Signed in but gated (a generated
 * or reset password, or REQUIRE_2FA=admin without TOTP): the page shows the change-password or the
 * two-factor enrolment form first.
 */
export const load: PageServerLoad = ({ locals, url }) => {
  const u = locals.user;
  if (u?.mustChangePassword) return { stage: 'change' as const, username: u.username };
  if (u?.totpEnrolmentRequired) return { stage: 'enrol' as const, username: u.username };
  if (u) redirect(303, safeNext(url.searchParams.get('next')));
  return { stage: 'login' as const, username: null };
};

type LoginError = 'loginFailed' | 'totpRequired' | 'totpInvalid' | 'locked' | 'rateLimited';

/** What a refused sign-in shows; the password is never echoed or put in a URL. */
function loginError(e: unknown): { status: number; error: LoginError; retryAfterS?: number } {
  if (!isDomainError(e)) throw e;
  const d = (e.details ?? {}) as { reason?: string; retryAfterS?: number; until?: string };
  if (e.code === 'totp_required') return { status: 401, error: 'totpRequired' };
  if (e.code === 'account_locked')
    return { status: 423, error: 'locked', retryAfterS: Math.ceil((Date.parse(d.until ?? '') - Date.now()) / 1000) };
  if (e.code === 'rate_limited') return { status: 429, error: 'rateLimited', retryAfterS: d.retryAfterS };
  if (d.reason === 'totp_invalid') return { status: 401, error: 'totpInvalid' };
  return { status: 401, error: 'loginFailed' };
}

function gateError(e: unknown): { status: number; error: string; reason?: string } {
  if (!isDomainError(e)) throw e;
  const d = (e.details ?? {}) as { reason?: string };
  return { status: e.status, error: e.code, reason: d.reason };
}

/**
 * The forms post here (and work before the page's script has loaded, or without it): sign in (with the
 * TOTP code when enrolled), change the password, enrol TOTP. On success the user goes on to `?next=` (a
 * path on this site, safeNext) or the wall.
 */
export const actions: Actions = {
  login: async (event) => {
    const form = await event.request.formData();
    const username = String(form.get('username') ?? '').trim();
    const password = String(form.get('password') ?? '');
    const totp = String(form.get('totp') ?? '').trim();
    if (!username || !password)
      return fail(400, {
        username,
        error: 'loginFailed' as LoginError,
        totp: false,
        retryAfterS: undefined as number | undefined,
      });
    let r;
    try {
      r = await getServices().sessions.login(username, password, { ip: event.getClientAddress(), totp: totp || null });
    } catch (e) {
      const x = loginError(e);
      return fail(x.status, {
        username,
        error: x.error,
        retryAfterS: x.retryAfterS,
        totp: x.error === 'totpRequired' || x.error === 'totpInvalid' || !!totp,
      });
    }
    setSessionCookie(event.cookies, event.url, r.token);
    if (r.user.mustChangePassword || r.user.totpEnrolmentRequired)
      redirect(303, `/login?next=${encodeURIComponent(safeNext(event.url.searchParams.get('next')))}`);
    redirect(303, safeNext(event.url.searchParams.get('next')));
  },
  password: async (event) => {
    const u = event.locals.user;
    if (!u) redirect(303, '/login');
    const form = await event.request.formData();
    const current = String(form.get('current') ?? '');
    const next = String(form.get('new') ?? '');
    if (next !== String(form.get('confirm') ?? '')) return fail(400, { changeError: 'mismatch' });
    try {
      await accounts().changeOwnPassword(u.username, current, next, {
        token: event.locals.token,
        ip: event.getClientAddress(),
      });
    } catch (e) {
      const x = gateError(e);
      return fail(x.status, { changeError: x.reason ?? x.error });
    }
    redirect(303, `/login?next=${encodeURIComponent(safeNext(event.url.searchParams.get('next')))}`);
  },
  enrol: async (event) => {
    const u = event.locals.user;
    if (!u) redirect(303, '/login');
    try {
      return { enrol: await accounts().enrolTotp(u.username) };
    } catch (e) {
      const x = gateError(e);
      return fail(x.status, { enrolError: x.error });
    }
  },
  confirm: async (event) => {
    const u = event.locals.user;
    if (!u) redirect(303, '/login');
    const form = await event.request.formData();
    try {
      await accounts().confirmTotp(u.username, String(form.get('code') ?? ''), event.getClientAddress());
    } catch (e) {
      const x = gateError(e);
      return fail(x.status, { enrolError: x.reason ?? x.error });
    }
    redirect(303, safeNext(event.url.searchParams.get('next')));
  },
};
