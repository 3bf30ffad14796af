/**
 * How often the wall's map needs a new frame when nothing but time changes. Pure; no DOM.
 */

/** The SIMULATED walkers' pace, m/s (the demo's patrols walk at it: ingest/demo/patrols.ts WALK_MPS). */
export const WALKING_PACE_MPS = 1.3;

/** Bounds of the walkers' redraw interval, ms: never faster than 1 fps, never staler than 10 s. */
export const PATROL_REDRAW_MIN_MS = 1_000;
export const PATROL_REDRAW_MAX_MS = 10_000;

/**
 * Web Mercator ground metres per CSS pixel at `zoom` and latitude `lat` (degrees), for maplibre's 512-pixel
 * tiles: 2π·6,378,137 m · cos(lat) / (512 · 2^zoom). Pitch is ignored (the ground under the centre).
 */
export function metresPerPixel(zoom: number, lat: number): number {
  return (2 * Math.PI * 6_378_137 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** zoom);
}

/**
 * Milliseconds a walker at `paceMps` takes to cross one pixel at `zoom` and `lat`, held within
 * [PATROL_REDRAW_MIN_MS, PATROL_REDRAW_MAX_MS]: the wall redraws walking patrols that often and no more
 * (at district zoom ~12 a pixel is ~15 m, over 10 s of walking; at street zoom 14, ~2.9 s; close up, 1 s).
 */
export function patrolRedrawMs(zoom: number, lat: number, paceMps = WALKING_PACE_MPS): number {
  const ms = (metresPerPixel(zoom, lat) / paceMps) * 1000;
  if (!Number.isFinite(ms)) return PATROL_REDRAW_MIN_MS;
  return Math.min(PATROL_REDRAW_MAX_MS, Math.max(PATROL_REDRAW_MIN_MS, ms));
}
