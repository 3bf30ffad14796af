import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from '@sveltejs/kit';
import { getServices } from '$lib/server/platform.ts';
import { jsonError } from '$lib/server/guard.ts';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Prometheus metrics. Never anonymous: `Authorization: Bearer <METRICS_TOKEN>` (the scraper's token,
 * ingest/config.ts), or an admin's session. Otherwise 401 (no credentials) or 403 (someone else).
 */
export const GET: RequestHandler = async ({ request, locals }) => {
  const { registry, config } = getServices();
  const auth = request.headers.get('authorization') ?? '';
  const bearer = /^bearer /i.test(auth) ? auth.slice(7).trim() : null;
  const byToken = !!config.metricsToken && !!bearer && sameSecret(bearer, config.metricsToken);
  if (!byToken && locals.user?.role !== 'admin')
    return locals.user
      ? jsonError(403, 'forbidden', '/metrics needs an admin session or the METRICS_TOKEN bearer token')
      : jsonError(401, 'unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN> or an admin session');
  return new Response(await registry.metrics(), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
};
