/**
 * API helpers: the error envelope `{"error": {"code", "message"}}` of CONTRACT.md, coded errors mapped to
 * statuses, unexpected errors logged in full and shown as a generic message.
 */
import { json, type RequestEvent, type RequestHandler } from '@sveltejs/kit';
import { DomainError, httpStatusOf, isDomainError, type ErrorCode } from '../../../core/errors.ts';
import type { SessionUser } from '../../../ingest/auth/sessions.ts';
import { getServices } from './platform.ts';
import { scopeOf, type Scope } from '../../../ingest/auth/scope.ts';

export { scopeOf, type Scope };

export function apiError(status: number, code: string, message: string, details?: unknown): Response {
  return json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, { status });
}

export function fail(code: ErrorCode, message: string, details?: unknown): never {
  throw new DomainError(code, message, details);
}

/** Wrap a handler: DomainError → its status and code; anything else → 500 `internal`, logged. */
export function api<E extends RequestEvent>(
  fn: (event: E) => Promise<Response> | Response,
): (event: E) => Promise<Response> {
  return async (event) => {
    try {
      return await fn(event);
    } catch (e) {
      if (isDomainError(e)) return apiError(httpStatusOf(e.code), e.code, e.message, e.details);
      if (e instanceof Response) return e;
      // The adapter's own body limit (BODY_SIZE_LIMIT) surfaces as an error with status 413.
      if (e && typeof e === 'object' && (e as { status?: unknown }).status === 413)
        return apiError(413, 'payload_too_large', 'request body too large');
      if (e && typeof e === 'object' && 'status' in e && 'location' in e) throw e; // SvelteKit redirect
      getServices().log.error({ err: e, path: event.url.pathname }, 'unexpected API error');
      return apiError(500, 'internal', 'internal error');
    }
  };
}

export function requireUser(event: RequestEvent): SessionUser {
  const u = event.locals.user;
  if (!u)
    fail('unauthorized', 'sign in first: POST /api/session, then send the cookie or Authorization: Bearer <token>');
  return u;
}

export function requireRole(event: RequestEvent, ...roles: SessionUser['role'][]): SessionUser {
  const u = requireUser(event);
  if (u.role !== 'admin' && !roles.includes(u.role))
    fail('forbidden', `this needs one of the roles: admin, ${roles.join(', ')}`);
  return u;
}

/** Largest JSON body an API route reads (bytes); larger → 413 `payload_too_large`. */
export const MAX_JSON_BODY = 1 << 20;

export async function readJson(event: RequestEvent, maxBytes = MAX_JSON_BODY): Promise<unknown> {
  const text = await event.request.text();
  if (Buffer.byteLength(text) > maxBytes) fail('payload_too_large', `body larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    fail('bad_request', 'body is not valid JSON');
  }
}

export function num(
  v: string | null,
  name: string,
  opts: { min?: number; max?: number; int?: boolean } = {},
): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (
    !Number.isFinite(n) ||
    (opts.int && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max)
  )
    fail(
      'validation_failed',
      `${name} must be a ${opts.int ? 'whole ' : ''}number${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}${opts.max !== undefined ? ` ≤ ${opts.max}` : ''}`,
      { field: name },
    );
  return n;
}

/**
 * The read scope of the signed-in user (ingest/auth/scope.ts: the one rule every route applies); 401 when
 * nobody is signed in.
 */
export function scopeFor(event: RequestEvent): Scope {
  return scopeOf(requireUser(event));
}

export type { RequestHandler };
