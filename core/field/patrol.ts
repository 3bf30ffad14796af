/**
 * Patrol tracks of grid workers (巡查轨迹), pure: clock checks, thinning, gaps, and the day's figures
 * (distance, duration, share of the assigned grid covered). Coordinates are [lng, lat] WGS-84; times epoch ms.
 * No clock and no I/O here: receipt times are passed in.
 */
import { area, buffer, intersect, featureCollection, multiLineString, feature } from '@turf/turf';
import type { MultiPolygon, Polygon } from 'geojson';
import { haversineM } from '../rules/geo.ts';

/** One GPS fix as the phone sends it. */
export interface Fix {
  /** The fix's own time (Geolocation `position.timestamp`), epoch ms. */
  t: number;
  lng: number;
  lat: number;
  /** Horizontal accuracy, metres (Geolocation `coords.accuracy`); null when unknown. */
  accuracyM: number | null;
}

/** A phone clock further than this from the server's is flagged (issue 15: "off by more than two minutes"). */
export const CLOCK_TOLERANCE_MS = 2 * 60_000;
/** Fixes worse than this are dropped: a 200 m circle says nothing about the street walked. */
export const MAX_ACCURACY_M = 100;
/** A fix closer than this to the last kept one is dropped (standing still), unless KEEP_ALIVE_MS passed. */
export const THIN_MIN_M = 5;
export const KEEP_ALIVE_MS = 60_000;
/** Two fixes further apart in time than this are a gap: not walked as far as we know, not counted. */
export const GAP_MS = 2 * 60_000;
/** A step faster than this (m/s) is a GPS jump, not a walk or a ride, and is not counted as distance. */
export const MAX_SPEED_MPS = 15;
/** Half the width of street a worker on patrol is taken to have seen, metres (coverage). */
export const SEEN_HALF_WIDTH_M = 25;

/**
 * The phone's clock error: phone time minus server receipt time, ms (network delay included, so only errors
 * well beyond it matter) and whether it is beyond CLOCK_TOLERANCE_MS.
 */
export function clockSkew(phoneTime: number, receivedAt: number): { skewMs: number; flagged: boolean } {
  const skewMs = Math.round(phoneTime - receivedAt);
  return { skewMs, flagged: Math.abs(skewMs) > CLOCK_TOLERANCE_MS };
}

/**
 * Thin a track: sorted by time, duplicates of a time dropped, fixes worse than MAX_ACCURACY_M dropped, and a
 * fix within THIN_MIN_M of the last kept one dropped unless KEEP_ALIVE_MS passed since it (so a worker standing
 * still leaves one fix a minute, and a stop is not mistaken for a gap).
 */
export function thinFixes(fixes: readonly Fix[], last: Fix | null = null): Fix[] {
  const sorted = [...fixes].sort((a, b) => a.t - b.t);
  const out: Fix[] = [];
  let prev = last;
  for (const f of sorted) {
    if (f.accuracyM !== null && f.accuracyM > MAX_ACCURACY_M) continue;
    if (prev && f.t <= prev.t) continue;
    if (prev && f.t - prev.t < KEEP_ALIVE_MS && haversineM([prev.lng, prev.lat], [f.lng, f.lat]) < THIN_MIN_M) continue;
    out.push(f);
    prev = f;
  }
  return out;
}

/** A track cut at its gaps: each part has fixes no more than GAP_MS apart. */
export function splitAtGaps(fixes: readonly Fix[]): Fix[][] {
  const parts: Fix[][] = [];
  let cur: Fix[] = [];
  for (const f of [...fixes].sort((a, b) => a.t - b.t)) {
    if (cur.length && f.t - cur[cur.length - 1].t > GAP_MS) {
      parts.push(cur);
      cur = [];
    }
    cur.push(f);
  }
  if (cur.length) parts.push(cur);
  return parts;
}

export interface PatrolDay {
  /** Metres walked: the sum of steps within the parts (gaps and GPS jumps not counted). */
  distanceM: number;
  /** Seconds on patrol: from first to last fix of each part (gaps not counted). */
  durationS: number;
  /** Share 0..1 of the assigned grid within SEEN_HALF_WIDTH_M of the track; null without a grid. */
  coverage: number | null;
  /** Number of gaps (parts − 1). */
  gaps: number;
  fixes: number;
}

/** The day's figures of one worker's track; `grid` is the worker's assigned grid polygon (or null). */
export function patrolDay(fixes: readonly Fix[], grid: Polygon | MultiPolygon | null): PatrolDay {
  const parts = splitAtGaps(fixes);
  let distanceM = 0;
  let durationMs = 0;
  for (const p of parts) {
    for (let i = 1; i < p.length; i++) {
      const d = haversineM([p[i - 1].lng, p[i - 1].lat], [p[i].lng, p[i].lat]);
      const dt = (p[i].t - p[i - 1].t) / 1000;
      if (dt > 0 && d / dt <= MAX_SPEED_MPS) distanceM += d;
    }
    durationMs += p[p.length - 1].t - p[0].t;
  }
  return {
    distanceM: Math.round(distanceM * 10) / 10,
    durationS: Math.round(durationMs / 1000),
    coverage: grid ? coverageOf(parts, grid) : null,
    gaps: Math.max(0, parts.length - 1),
    fixes: fixes.length,
  };
}

/** Share of `grid`'s area within SEEN_HALF_WIDTH_M of the track's parts (turf buffer ∩ grid ÷ grid). */
export function coverageOf(parts: readonly Fix[][], grid: Polygon | MultiPolygon): number {
  const lines = parts.filter((p) => p.length >= 2).map((p) => p.map((f) => [f.lng, f.lat]));
  const points = parts.filter((p) => p.length === 1).map((p) => [p[0].lng, p[0].lat]);
  // A single fix is a line of zero length: buffered, it is the circle seen from where the worker stood.
  for (const pt of points) lines.push([pt, pt]);
  if (!lines.length) return 0;
  const gridArea = area(feature(grid));
  if (!(gridArea > 0)) return 0;
  const seen = buffer(multiLineString(lines), SEEN_HALF_WIDTH_M, { units: 'meters' });
  if (!seen) return 0;
  const inside = intersect(featureCollection([seen as never, feature(grid) as never]));
  if (!inside) return 0;
  return Math.min(1, Math.round((area(inside) / gridArea) * 10_000) / 10_000);
}
