/** The session cookie, set the same way by the JSON sign-in (`POST /api/session`) and the login form. */
import type { Cookies } from '@sveltejs/kit';
import { SESSION_COOKIE } from '../../../ingest/auth/sessions.ts';
import { getServices } from './platform.ts';

export function setSessionCookie(cookies: Cookies, url: URL, token: string): void {
  cookies.set(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: url.protocol === 'https:',
    // The session's absolute lifetime (SESSION_MAX_HOURS); the idle timeout is the server's to enforce.
    maxAge: Math.floor(getServices().sessions.maxMs / 1000),
  });
}

/**
 * Where to go after signing in: `next` when it is a path on this site, else `/` (an open redirect is a
 * phishing aid: OWASP ASVS 5.1.5). Browsers strip ASCII tab/CR/LF from URLs and read `\` as `/`, so
 * `/%09/evil.example` or `/\evil.example` would leave the site; `next` is therefore refused when it holds
 * any control character or backslash, does not start with exactly one `/`, or — once resolved against
 * this origin (dot segments removed: `/a/..//evil`) — names another origin or starts with `//`. What comes
 * back is the normalised path + query + fragment.
 */
export function safeNext(next: string | null | undefined): string {
  const n = next ?? '';
  // eslint-disable-next-line no-control-regex
  if (!n.startsWith('/') || n.startsWith('//') || /[\u0000-\u001f\u007f-\u009f\\]/.test(n)) return '/';
  const base = new URL('http://onegrid.invalid');
  let u: URL;
  try {
    u = new URL(n, base);
  } catch {
    return '/';
  }
  if (u.origin !== base.origin || u.username || u.password) return '/';
  const out = u.pathname + u.search + u.hash;
  return out.startsWith('/') && !out.startsWith('//') && !out.startsWith('/\\') ? out : '/';
}
