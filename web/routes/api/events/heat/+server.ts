import { json } from '@sveltejs/kit';
import { api, num, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { eventCondition } from '../../../../../ingest/auth/scope.ts';

/**
 * Events of the last `hours` (default 24, at most 168) inside the user's scope, for the wall's heatmap:
 * `[[lng, lat, weight]]`, WGS-84. Points are binned to about 10 m (4 decimals) and weighted by severity
 * (critical 4, major 3, minor 2, info or none 1), so the answer stays small however busy the day was.
 * Scope (ingest/auth/scope.ts): a grid scope sees its grids' events; a department handler only the events
 * of the devices linked to its cases, never the district's heatmap.
 */
export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const hours = num(event.url.searchParams.get('hours'), 'hours', { min: 1, max: 168 }) ?? 24;
  if (scope.none) return json([], { headers: { 'cache-control': 'private, no-store' } });
  const cond = eventCondition(scope, 2);
  const r = await getServices().db.query<{ lng: number; lat: number; w: number }>(
    `SELECT round(lng::numeric, 4)::float8 AS lng, round(lat::numeric, 4)::float8 AS lat,
            sum(CASE severity WHEN 'critical' THEN 4 WHEN 'major' THEN 3 WHEN 'minor' THEN 2 ELSE 1 END)::float8 AS w
       FROM events
      WHERE ts > now() - make_interval(secs => $1::float8 * 3600)
        AND lng IS NOT NULL AND lat IS NOT NULL
        AND ${cond.sql}
      GROUP BY 1, 2
      ORDER BY w DESC
      LIMIT 20000`,
    [hours, ...cond.params],
  );
  return json(
    r.rows.map((p) => [p.lng, p.lat, p.w]),
    { headers: { 'cache-control': 'private, no-store' } },
  );
});
