import { describe, expect, it } from 'vitest';
import type { Polygon } from 'geojson';
import { clockSkew, coverageOf, patrolDay, splitAtGaps, thinFixes, type Fix } from './patrol.ts';

const LAT0 = 39.1;
const M_LAT = 1 / 111_195; // degrees of latitude per metre (IUGG mean radius)
const M_LNG = M_LAT / Math.cos((LAT0 * Math.PI) / 180);
const at = (x: number, y: number): [number, number] => [117.2 + x * M_LNG, LAT0 + y * M_LAT];

/** A 100 m × 100 m square grid. */
const square: Polygon = { type: 'Polygon', coordinates: [[at(0, 0), at(100, 0), at(100, 100), at(0, 100), at(0, 0)]] };

/** Walk the square's boundary: a fix every 10 m, 8 s apart (1.25 m/s). */
function walkBoundary(t0: number): Fix[] {
  const out: Fix[] = [];
  const corners = [
    [0, 0],
    [100, 0],
    [100, 100],
    [0, 100],
    [0, 0],
  ];
  let t = t0;
  for (let s = 0; s < 4; s++)
    for (let i = s === 0 ? 0 : 1; i <= 10; i++) {
      const [x0, y0] = corners[s];
      const [x1, y1] = corners[s + 1];
      const [lng, lat] = at(x0 + ((x1 - x0) * i) / 10, y0 + ((y1 - y0) * i) / 10);
      out.push({ t, lng, lat, accuracyM: 5 });
      t += 8000;
    }
  return out;
}

describe('patrol figures', () => {
  it('a walk round a 100 m square: 400 m, 320 s, three quarters of the square within 25 m', () => {
    const d = patrolDay(walkBoundary(1_000_000), square);
    expect(d.distanceM).toBeGreaterThan(396);
    expect(d.distanceM).toBeLessThan(404);
    expect(d.durationS).toBe(320);
    expect(d.gaps).toBe(0);
    // 100² − 50² = 7500 m² of 10 000 m² lie within 25 m of the boundary.
    expect(d.coverage!).toBeGreaterThan(0.72);
    expect(d.coverage!).toBeLessThan(0.78);
  });

  it('a gap (app off screen) is neither distance nor duration, and counted', () => {
    const a = walkBoundary(0).slice(0, 11); // the south side: 100 m in 80 s
    const b = walkBoundary(0)
      .slice(20, 31) // the north side, 10 minutes later
      .map((f) => ({ ...f, t: f.t + 600_000 }));
    const d = patrolDay([...a, ...b], square);
    expect(d.gaps).toBe(1);
    expect(d.durationS).toBe(160);
    expect(d.distanceM).toBeGreaterThan(198);
    expect(d.distanceM).toBeLessThan(202);
    expect(splitAtGaps([...a, ...b])).toHaveLength(2);
  });

  it('a GPS jump is not walked distance', () => {
    const fixes = walkBoundary(0).slice(0, 3);
    fixes.splice(2, 0, { t: fixes[1].t + 1000, lng: at(5000, 0)[0], lat: LAT0, accuracyM: 5 });
    expect(patrolDay(fixes, null).distanceM).toBeLessThan(25);
  });

  it('thinning drops standing still, bad accuracy and repeats, but keeps a fix a minute', () => {
    const still: Fix[] = Array.from({ length: 13 }, (_, i) => ({ t: i * 10_000, lng: 117.2, lat: LAT0, accuracyM: 5 }));
    const kept = thinFixes([...still, { t: 5000, lng: 117.3, lat: LAT0, accuracyM: 500 }, still[3]]);
    expect(kept.map((f) => f.t)).toEqual([0, 60_000, 120_000]);
    expect(thinFixes(still, kept[kept.length - 1])).toEqual([]);
  });

  it('a phone clock more than two minutes off is flagged', () => {
    expect(clockSkew(1_000_000 + 119_000, 1_000_000)).toEqual({ skewMs: 119_000, flagged: false });
    expect(clockSkew(1_000_000 - 121_000, 1_000_000)).toEqual({ skewMs: -121_000, flagged: true });
  });

  it('coverage of a single fix is the circle seen from it; none without fixes', () => {
    const c = coverageOf([[{ t: 0, lng: at(50, 50)[0], lat: at(50, 50)[1], accuracyM: 5 }]], square);
    expect(c).toBeGreaterThan(0.17); // π·25² / 100² ≈ 0.196
    expect(c).toBeLessThan(0.21);
    expect(coverageOf([], square)).toBe(0);
  });
});
