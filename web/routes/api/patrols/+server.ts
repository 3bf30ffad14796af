import { json } from '@sveltejs/kit';
import type { Polygon, MultiPolygon } from 'geojson';
import { api, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { patrolTracks, type PatrolGrid } from '../../../../ingest/demo/patrols.ts';

// Base grids parsed once per published version (the GeoJSON string is already cached by GridService).
let cached: { version: number | null; grids: PatrolGrid[] } | null = null;

function baseGrids(): PatrolGrid[] {
  const s = getServices();
  if (!cached || cached.version !== s.grids.version) {
    const fc = JSON.parse(s.grids.geojson({ level: 4 })) as {
      features: { geometry: Polygon | MultiPolygon; properties: { code: string; level: number; name: string } }[];
    };
    cached = {
      version: s.grids.version,
      grids: fc.features.map((f) => ({ ...f.properties, geometry: f.geometry })),
    };
  }
  return cached.grids;
}

/**
 * SIMULATED grid-worker patrol tracks for the wall's TripsLayer (ingest/demo/patrols.ts), within the user's
 * scope. Only while the simulated fleet runs; otherwise an empty list. Timestamps are seconds from `t0`.
 * Patrols are grid-keyed: a department handler (no grid of its own) gets none (ingest/auth/scope.ts).
 */
export const GET = api((event) => {
  const scope = scopeFor(event);
  const s = getServices();
  const empty = { simulated: true, t0: Date.now(), beforeS: 0, afterS: 0, trips: [] };
  if (!s.demo || scope.none || scope.department)
    return json(empty, { headers: { 'cache-control': 'private, no-store' } });
  const tracks = patrolTracks(baseGrids(), { now: Date.now(), scope: scope.grids });
  return json(tracks, { headers: { 'cache-control': 'private, no-store' } });
});
