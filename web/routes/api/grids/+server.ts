import { api, num, fail, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { departmentGridCodes } from '../../../../ingest/auth/scope.ts';

/**
 * GeoJSON FeatureCollection of the published grids; `level=1..4`, `parent=CODE`. A grid-scoped user gets its
 * own subtree and the ancestors framing it; a department handler the grids of its cases and their
 * ancestors (ingest/auth/scope.ts); a user who sees nothing an empty collection.
 */
export const GET = api(async (event) => {
  const level = num(event.url.searchParams.get('level'), 'level', { int: true, min: 1, max: 4 });
  const rawParent = event.url.searchParams.get('parent')?.trim();
  const parent = rawParent ? rawParent : undefined;
  if (parent !== undefined && !/^\d{6,20}$/.test(parent)) fail('invalid_code', 'parent must be a grid code');
  const scope = scopeFor(event);
  const s = getServices();
  const headers = { 'content-type': 'application/geo+json; charset=utf-8', 'cache-control': 'private, no-store' };
  if (scope.none) return new Response('{"type":"FeatureCollection","features":[]}', { headers });
  if (!scope.department) return new Response(s.grids.geojson({ level, parent, scope: scope.grids }), { headers });
  const codes = await departmentGridCodes(s.db, scope);
  const fc = JSON.parse(s.grids.geojson({ level, parent, scope: scope.grids })) as {
    features: { properties: { code: string } }[];
  };
  fc.features = fc.features.filter((f) => codes.some((c) => c.startsWith(f.properties.code)));
  return new Response(JSON.stringify(fc), { headers });
});
