import { json } from '@sveltejs/kit';
import { api, fail, num, requireRole } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { listAudit, verifyAudit } from '../../../../ingest/auth/audit.ts';

function time(v: string | null, field: string): Date | undefined {
  if (v === null || v === '') return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) fail('validation_failed', `${field} must be an ISO 8601 time`, { field });
  return new Date(t);
}

function text(v: string | null, field: string): string | undefined {
  if (v === null || v === '') return undefined;
  if (v.length > 128 || v.includes('\u0000')) fail('validation_failed', `${field} is not a valid value`, { field });
  return v;
}

/**
 * The security audit log (安全审计), admin only, newest first. Query: `from`, `to` (ISO 8601; from ≤ at <
 * to), `actor`, `kind`, `limit` (1–500, default 100), `before` (keyset: the `next` of the previous page).
 * → `{"items": AuditEntry[], "next": number|null, "verified": bool, "brokenAt": number|null}` where
 * `verified` is the check of the whole hash chain (ingest/auth/audit.ts).
 */
export const GET = api(async (event) => {
  requireRole(event);
  const p = event.url.searchParams;
  const db = getServices().db;
  const page = await listAudit(db, {
    from: time(p.get('from'), 'from'),
    to: time(p.get('to'), 'to'),
    actor: text(p.get('actor'), 'actor'),
    kind: text(p.get('kind'), 'kind'),
    before: num(p.get('before'), 'before', { int: true, min: 0 }),
    limit: num(p.get('limit'), 'limit', { int: true, min: 1, max: 500 }) ?? 100,
  });
  const v = await verifyAudit(db);
  return json({ ...page, verified: v.verified, brokenAt: v.brokenAt }, { headers: { 'cache-control': 'no-store' } });
});
