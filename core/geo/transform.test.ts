import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bd09ToGcj02,
  bd09ToWgs84,
  convertGeometry,
  convertPoint,
  gcj02ToBd09,
  gcj02ToWgs84,
  wgs84ToBd09,
  wgs84ToGcj02,
} from './transform.ts';

describe('datum transforms', () => {
  it('match the published reference values (wandergis/coordtransform test/app.js)', () => {
    const near = (a: number[], b: number[], tol = 1e-9) => {
      expect(Math.abs(a[0] - b[0])).toBeLessThan(tol);
      expect(Math.abs(a[1] - b[1])).toBeLessThan(tol);
    };
    near(wgs84ToGcj02(116.404, 39.915), [116.41024449916938, 39.91640428150164]);
    near(gcj02ToBd09(116.404, 39.915), [116.41036949371029, 39.92133699351021]);
    // Their inverses are one-step approximations; ours iterate, so agree to ~1e-5° only.
    near(bd09ToGcj02(116.404, 39.915), [116.39762729119315, 39.90865673957631], 2e-5);
    near(gcj02ToWgs84(116.404, 39.915), [116.39775550083061, 39.91359571849836], 2e-5);
  });

  it('leaves points outside China alone', () => {
    expect(wgs84ToGcj02(2.35, 48.85)).toEqual([2.35, 48.85]);
    expect(gcj02ToWgs84(-74, 40.7)).toEqual([-74, 40.7]);
  });

  it('inverts to better than 1e-6° (in fact 1e-9°) everywhere in China', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 73, max: 135, noNaN: true }),
        fc.double({ min: 18, max: 53, noNaN: true }),
        (lng, lat) => {
          const g = wgs84ToGcj02(lng, lat);
          const w = gcj02ToWgs84(g[0], g[1]);
          expect(Math.abs(w[0] - lng)).toBeLessThan(1e-9);
          expect(Math.abs(w[1] - lat)).toBeLessThan(1e-9);
          const b = wgs84ToBd09(lng, lat);
          const w2 = bd09ToWgs84(b[0], b[1]);
          expect(Math.abs(w2[0] - lng)).toBeLessThan(1e-9);
          expect(Math.abs(w2[1] - lat)).toBeLessThan(1e-9);
          // The GCJ-02 offset is hundreds of metres, not zero.
          expect(Math.hypot(g[0] - lng, g[1] - lat)).toBeGreaterThan(1e-4);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('converts geometries, keeping altitude, and is the identity between equal datums', () => {
    const poly = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [117.2, 39.1, 5],
          [117.21, 39.1],
          [117.21, 39.11],
          [117.2, 39.1, 5],
        ],
      ],
    };
    const g = convertGeometry(poly, 'wgs84', 'gcj02');
    expect(g.coordinates[0][0][2]).toBe(5);
    expect(g.coordinates[0][1]).toEqual(wgs84ToGcj02(117.21, 39.1));
    const back = convertGeometry(g, 'gcj02');
    expect(Math.abs(back.coordinates[0][1][0] - 117.21)).toBeLessThan(1e-9);
    expect(convertGeometry(poly, 'bd09', 'bd09')).toBe(poly);
    expect(convertPoint(117.2, 39.1, 'bd09', 'gcj02')).toEqual(bd09ToGcj02(117.2, 39.1));
    const gc = convertGeometry(
      { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [117.2, 39.1] }] } as never,
      'gcj02',
    ) as { geometries: { coordinates: number[] }[] };
    expect(gc.geometries[0].coordinates).toEqual(gcj02ToWgs84(117.2, 39.1));
  });
});
