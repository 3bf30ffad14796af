/** The session cookie, set the same way by the JSON sign-in (`POST /api/session`) and the login form. */
import type { Cookies } from '@sveltejs/kit';
import { SESSION_COOKIE, SESSION_TTL_MS } from '../../../ingest/auth/sessions.ts';

export function setSessionCookie(cookies: Cookies, url: URL, token: string): void {
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: url.protocol === 'https:',
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/** Where to go after signing in: `next` when it is a path on this site (never another origin), else `/`. */
export function safeNext(next: string | null): string {
  const n = next ?? '';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/\\') ? n : '/';
}
