import { api, num, fail, scopeOf, requireUser } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';

/**
 * GeoJSON FeatureCollection of the published grids; `level=1..4`, `parent=CODE`. A scoped user gets its
 * own subtree and the ancestors framing it.
 */
export const GET = api((event) => {
  const level = num(event.url.searchParams.get('level'), 'level', { int: true, min: 1, max: 4 });
  const parent = event.url.searchParams.get('parent') ?? undefined;
  if (parent !== undefined && !/^\d{6,20}$/.test(parent)) fail('invalid_code', 'parent must be a grid code');
  const u = requireUser(event);
  const body = getServices().grids.geojson({ level, parent, scope: scopeOf(u) });
  return new Response(body, {
    headers: { 'content-type': 'application/geo+json; charset=utf-8', 'cache-control': 'private, max-age=60' },
  });
});
