import { describe, expect, it } from 'vitest';
import type { Polygon } from 'geojson';
import { patrolTracks, type PatrolGrid } from './patrols.ts';

function square(code: string, x: number, y: number, d = 0.002): PatrolGrid {
  const geometry: Polygon = {
    type: 'Polygon',
    coordinates: [
      [
        [x, y],
        [x + d, y],
        [x + d, y + d],
        [x, y + d],
        [x, y],
      ],
    ],
  };
  return { code, level: 4, name: `grid ${code}`, geometry };
}

const grids = [
  square('120106001001001', 117.1, 39.1),
  square('120106001001002', 117.102, 39.1),
  square('120106001002001', 117.11, 39.1),
  square('120106002001001', 117.2, 39.1),
];

describe('simulated patrol tracks', () => {
  it('gives one worker per community, marked simulated, deterministic for a given time', () => {
    const now = 1_795_000_000_000;
    const a = patrolTracks(grids, { now, scope: null });
    const b = patrolTracks(grids, { now, scope: null });
    expect(a.simulated).toBe(true);
    expect(a.trips.map((t) => t.worker)).toEqual([
      'sim-gridworker-001001',
      'sim-gridworker-001002',
      'sim-gridworker-002001',
    ]);
    expect(a).toEqual(b);
  });

  it('walks along the grid boundary with increasing timestamps covering the window', () => {
    const now = 1_795_000_000_000;
    const t = patrolTracks(grids, { now, scope: null, beforeS: 600, afterS: 1200 });
    for (const trip of t.trips) {
      expect(trip.path.length).toBe(trip.timestamps.length);
      expect(trip.timestamps[0]).toBeCloseTo(-600, 0);
      expect(trip.timestamps.at(-1)).toBeCloseTo(1200, 0);
      for (let i = 1; i < trip.timestamps.length; i++)
        expect(trip.timestamps[i]).toBeGreaterThanOrEqual(trip.timestamps[i - 1]);
      const g = grids.find((x) => x.code === trip.grid)!;
      const [[x0, y0], , [x1, y1]] = (g.geometry as Polygon).coordinates[0];
      for (const [x, y] of trip.path) {
        const onEdge =
          Math.abs(x - x0) < 1e-9 || Math.abs(x - x1) < 1e-9 || Math.abs(y - y0) < 1e-9 || Math.abs(y - y1) < 1e-9;
        expect(onEdge).toBe(true);
      }
    }
  });

  it('moves on as time passes: a track a minute later is the same walk, shifted', () => {
    const now = 1_795_000_000_000;
    const a = patrolTracks(grids, { now, scope: null }).trips[0];
    const b = patrolTracks(grids, { now: now + 60_000, scope: null }).trips[0];
    // The vertex a reaches at +60 s is one b passes at 0 s (same absolute time, same place).
    const i = a.timestamps.findIndex((s) => s > 60);
    const j = b.timestamps.findIndex((s) => Math.abs(s - (a.timestamps[i] - 60)) < 0.11);
    expect(j).toBeGreaterThanOrEqual(0);
    expect(b.path[j]).toEqual(a.path[i]);
  });

  it('keeps to the scope', () => {
    const t = patrolTracks(grids, { now: 0, scope: '120106002' });
    expect(t.trips.map((x) => x.grid)).toEqual(['120106002001001']);
  });
});
