/**
 * HTTP shapes of account errors that need more than the `{"error":{"code","message"}}` envelope:
 * `rate_limited` → 429 with `Retry-After` (seconds, RFC 9110 10.2.3), `account_locked` → 423 with
 * `Retry-After` until the lock ends.
 */
import { isDomainError } from '../../core/errors.ts';

export function retryAfterResponse(e: unknown): Response | null {
  if (!isDomainError(e) || (e.code !== 'rate_limited' && e.code !== 'account_locked')) return null;
  const d = (e.details ?? {}) as { retryAfterS?: number; until?: string };
  const s = d.retryAfterS ?? (d.until ? Math.max(1, Math.ceil((Date.parse(d.until) - Date.now()) / 1000)) : 60);
  return new Response(JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } }), {
    status: e.code === 'rate_limited' ? 429 : 423,
    headers: { 'content-type': 'application/json', 'retry-after': String(s), 'cache-control': 'no-store' },
  });
}

/** The path prefixes a user who must first change its password (or enrol TOTP) may still call. */
export function allowedWhileGated(path: string, gate: 'password' | 'totp'): boolean {
  if (path === '/api/session' || path === '/api/session/password') return true;
  return gate === 'totp' && (path === '/api/session/totp' || path.startsWith('/api/session/totp/'));
}
