import { describe, expect, it } from 'vitest';
import { trailWindow } from './layers.ts';
import type { PatrolTrip } from './types.ts';

const trip = {
  worker: 'sim-1',
  grid: '120106001001001',
  gridName: 'g',
  simulated: true,
  path: [0, 1, 2, 3, 4, 5, 6].map((i) => [117 + i / 1000, 39] as [number, number]),
  timestamps: [-600, -400, -200, 0, 200, 400, 600],
} as unknown as PatrolTrip;

describe('trailWindow', () => {
  it('keeps the fixes inside the window and one on each side, so the ends still interpolate', () => {
    const w = trailWindow(trip, -300, 100);
    expect(w.timestamps).toEqual([-400, -200, 0, 200]);
    expect(w.path).toEqual(trip.path.slice(1, 5));
    expect(w.worker).toBe('sim-1');
  });

  it('returns the trip itself when the window holds it all, and two fixes for a window between two', () => {
    expect(trailWindow(trip, -1000, 1000)).toBe(trip);
    expect(trailWindow(trip, 50, 150).timestamps).toEqual([0, 200]);
  });

  it('keeps only the last fix past the end (nothing left to draw), and the first segment before the start', () => {
    expect(trailWindow(trip, 900, 1200).timestamps).toEqual([600]);
    expect(trailWindow(trip, -2000, -1500).timestamps).toEqual([-600, -400]);
  });
});
