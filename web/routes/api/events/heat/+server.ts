import { json } from '@sveltejs/kit';
import { api, num, requireUser, scopeOf } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';

/**
 * Events of the last `hours` (default 24, at most 168) inside the user's scope, for the wall's heatmap:
 * `[[lng, lat, weight]]`, WGS-84. Points are binned to about 10 m (4 decimals) and weighted by severity
 * (critical 4, major 3, minor 2, info or none 1), so the answer stays small however busy the day was.
 */
export const GET = api(async (event) => {
  const u = requireUser(event);
  const hours = num(event.url.searchParams.get('hours'), 'hours', { min: 1, max: 168 }) ?? 24;
  const scope = scopeOf(u);
  const r = await getServices().db.query<{ lng: number; lat: number; w: number }>(
    `SELECT round(lng::numeric, 4)::float8 AS lng, round(lat::numeric, 4)::float8 AS lat,
            sum(CASE severity WHEN 'critical' THEN 4 WHEN 'major' THEN 3 WHEN 'minor' THEN 2 ELSE 1 END)::float8 AS w
       FROM events
      WHERE ts > now() - make_interval(secs => $1::float8 * 3600)
        AND lng IS NOT NULL AND lat IS NOT NULL
        AND ($2::text IS NULL OR grid LIKE $2::text || '%')
      GROUP BY 1, 2
      ORDER BY w DESC
      LIMIT 20000`,
    [hours, scope],
  );
  return json(
    r.rows.map((p) => [p.lng, p.lat, p.w]),
    { headers: { 'cache-control': 'private, max-age=30' } },
  );
});
