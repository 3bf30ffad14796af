import { json } from '@sveltejs/kit';
import type { Polygon, MultiPolygon } from 'geojson';
import { api, scopeFor } from '$lib/server/api.ts';
import { getServices } from '$lib/server/platform.ts';
import { patrolTracks, type PatrolGrid } from '../../../../ingest/demo/patrols.ts';
import { localDay, realTrips } from '../../../../ingest/field/index.ts';
import { fieldService } from '$lib/server/field.ts';

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
 * Grid-worker patrol tracks for the wall's TripsLayer, within the user's scope: today's REAL tracks from the
 * grid worker's app (`simulated: false` on each trip, `name` = the worker, one trip per stretch between gaps,
 * ingest/field/tracks.ts), and — only while the simulated fleet runs (demo mode) — the SIMULATED ones of
 * ingest/demo/patrols.ts (`simulated: true` on each trip and on the answer). Timestamps are seconds from `t0`
 * (negative: before it). Patrols are grid-keyed: a department handler gets none (ingest/auth/scope.ts).
 */
export const GET = api(async (event) => {
  const scope = scopeFor(event);
  const s = getServices();
  const now = Date.now();
  const headers = { 'cache-control': 'private, no-store' };
  if (scope.none || scope.department)
    return json({ simulated: s.demo, t0: now, beforeS: 0, afterS: 0, trips: [] }, { headers });
  const real = await realTrips(fieldService().tracks, { day: localDay(now), t0: now, gridPrefix: scope.grids });
  const realBeforeS = Math.ceil(Math.max(0, ...real.flatMap((t) => t.timestamps.map((x) => -x))));
  if (!s.demo) return json({ simulated: false, t0: now, beforeS: realBeforeS, afterS: 0, trips: real }, { headers });
  const sim = patrolTracks(baseGrids(), { now, scope: scope.grids });
  return json(
    {
      ...sim,
      beforeS: Math.max(sim.beforeS, realBeforeS),
      trips: [...sim.trips.map((t) => ({ ...t, simulated: true as const })), ...real],
    },
    { headers },
  );
});
