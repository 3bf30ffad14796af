import { describe, expect, it } from 'vitest';
import {
  metresPerPixel,
  patrolRedrawMs,
  WALKING_PACE_MPS,
  PATROL_REDRAW_MAX_MS,
  PATROL_REDRAW_MIN_MS,
} from './motion.ts';
import { WALK_MPS } from '../../../ingest/demo/patrols.ts';

describe('wall motion', () => {
  it('metres per pixel: ~78 km at zoom 0 on the equator (512-px tiles), halving per zoom, cos(lat) narrower', () => {
    expect(metresPerPixel(0, 0)).toBeCloseTo(78_271.5, 0);
    expect(metresPerPixel(13, 0) * 2).toBeCloseTo(metresPerPixel(12, 0), 6);
    expect(metresPerPixel(10, 60)).toBeCloseTo(metresPerPixel(10, 0) / 2, 6);
  });

  it('redraws walking patrols as often as a walker crosses a pixel, within 1-10 s', () => {
    // Tianjin's latitude: district zoom ~12 → capped at 10 s; street zoom 14 → ~2.9 s; close up → 1 s.
    expect(patrolRedrawMs(12, 39.1)).toBe(PATROL_REDRAW_MAX_MS);
    expect(patrolRedrawMs(14, 39.1)).toBeGreaterThan(2_000);
    expect(patrolRedrawMs(14, 39.1)).toBeLessThan(3_500);
    expect(patrolRedrawMs(19, 39.1)).toBe(PATROL_REDRAW_MIN_MS);
    expect(patrolRedrawMs(Number.NaN, 39.1)).toBe(PATROL_REDRAW_MIN_MS);
  });

  it('uses the pace the demo walkers walk at', () => {
    expect(WALKING_PACE_MPS).toBe(WALK_MPS);
  });
});
