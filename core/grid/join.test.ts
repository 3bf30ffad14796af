import { describe, expect, it } from 'vitest';
import type { MultiPolygon, Polygon } from 'geojson';
import { DomainError } from '../errors.ts';
import { GB14 } from './codes.ts';
import { GridJoiner, NO_GRID, buildGridIndex } from './join.ts';
import { orient, orientExact } from './orient.ts';

const sq = (x: number, y: number, s = 1): Polygon => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + s, y],
      [x + s, y + s],
      [x, y + s],
      [x, y],
    ],
  ],
});

// A 2×2 block of unit squares at (0..2, 0..2): codes 001 SW, 002 SE, 003 NW, 004 NE.
const block = () => [
  { code: '120106001002001', geometry: sq(0, 0) },
  { code: '120106001002002', geometry: sq(1, 0) },
  { code: '120106001003003', geometry: sq(0, 1) },
  { code: '120106002001004', geometry: sq(1, 1) },
];

describe('buildGridIndex / join', () => {
  const index = buildGridIndex(block());

  it('returns the four codes from the base grid prefixes', () => {
    expect(index.join(0.5, 0.5)).toEqual({
      district: '120106',
      street: '120106001',
      community: '120106001002',
      grid: '120106001002001',
    });
    expect(index.join(1.5, 1.5).street).toBe('120106002');
    expect(index.join(0.5, 1.5).community).toBe('120106001003');
  });

  it('returns nulls outside every grid, for NaN and for infinities', () => {
    expect(index.join(3, 0.5)).toBe(NO_GRID);
    expect(index.join(-0.0001, 0.5)).toEqual({ district: null, street: null, community: null, grid: null });
    expect(index.join(NaN, 0.5)).toBe(NO_GRID);
    expect(index.join(Infinity, 0.5)).toBe(NO_GRID);
  });

  it('puts a point on a shared edge or vertex in exactly one grid: east, then north', () => {
    expect(index.join(1, 0.5).grid).toBe('120106001002002'); // shared vertical edge → east grid
    expect(index.join(0.5, 1).grid).toBe('120106001003003'); // shared horizontal edge → north grid
    expect(index.join(1, 1).grid).toBe('120106002001004'); // the 4-way vertex → NE grid
  });

  it('includes the west and south outer boundary, excludes the east and north', () => {
    expect(index.join(0, 0.5).grid).toBe('120106001002001');
    expect(index.join(0.5, 0).grid).toBe('120106001002001');
    expect(index.join(0, 0).grid).toBe('120106001002001');
    expect(index.join(2, 0.5).grid).toBeNull();
    expect(index.join(0.5, 2).grid).toBeNull();
    expect(index.join(2, 2).grid).toBeNull();
  });

  it('batch-joins typed arrays to ordinals, -1 outside', () => {
    const xs = Float64Array.from([0.5, 1.5, 0.5, 1.5, 5, 1]);
    const ys = Float64Array.from([0.5, 0.5, 1.5, 1.5, 5, 1]);
    const out = index.joinBatch(xs, ys, new Int32Array(6));
    expect(Array.from(out, (o) => index.codeOf(o))).toEqual([
      '120106001002001',
      '120106001002002',
      '120106001003003',
      '120106002001004',
      null,
      '120106002001004',
    ]);
    expect(index.ordinalOf('120106001002002')).toBe(1);
    expect(index.codesOf(-1)).toBe(NO_GRID);
  });

  it('honours holes and MultiPolygons, rings open or closed, either winding', () => {
    const donut: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [0, 0],
          [3, 0],
          [3, 3],
          [0, 3],
        ], // open ring, counter-clockwise
        [
          [1, 1],
          [1, 2],
          [2, 2],
          [2, 1],
          [1, 1],
        ], // hole, clockwise
      ],
    };
    const multi: MultiPolygon = { type: 'MultiPolygon', coordinates: [sq(3, 0).coordinates, sq(3, 2).coordinates] };
    const cw: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [3, 1],
          [3, 2],
          [4, 2],
          [4, 1],
          [3, 1],
        ],
      ],
    };
    const idx = buildGridIndex([
      { code: '120106001001001', geometry: donut },
      { code: '120106001001002', geometry: sq(1, 1) },
      { code: '120106001001003', geometry: multi },
      { code: '120106001001004', geometry: cw },
    ]);
    expect(idx.join(0.5, 0.5).grid).toBe('120106001001001');
    expect(idx.join(1.5, 1.5).grid).toBe('120106001001002');
    expect(idx.join(1, 1.5).grid).toBe('120106001001002'); // hole's west edge belongs to the grid east of it
    expect(idx.join(2, 1.5).grid).toBe('120106001001001'); // hole's east edge: the donut
    expect(idx.join(3.5, 0.5).grid).toBe('120106001001003');
    expect(idx.join(3.5, 2.5).grid).toBe('120106001001003');
    expect(idx.join(3.5, 1.5).grid).toBe('120106001001004');
    expect(idx.join(3, 1.5).grid).toBe('120106001001004');
  });

  it('lets the smallest code win where grids overlap (an invalid set)', () => {
    const idx = buildGridIndex([
      { code: '120106001001002', geometry: sq(0, 0, 10) },
      { code: '120106001001001', geometry: sq(2, 2, 1) },
    ]);
    expect(idx.join(2.5, 2.5).grid).toBe('120106001001001');
    expect(idx.join(5, 5).grid).toBe('120106001001002');
  });

  it('refuses invalid and duplicate codes and non-polygons', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DomainError).code;
      }
      return null;
    };
    expect(err(() => buildGridIndex([{ code: '120106001', geometry: sq(0, 0) }]))).toBe('invalid_code');
    expect(
      err(() =>
        buildGridIndex([
          { code: '120106001001001', geometry: sq(0, 0) },
          { code: '120106001001001', geometry: sq(1, 0) },
        ]),
      ),
    ).toBe('invalid_grid');
    expect(
      err(() =>
        buildGridIndex([{ code: '120106001001001', geometry: { type: 'Point', coordinates: [0, 0] } as never }]),
      ),
    ).toBe('invalid_grid');
    expect(buildGridIndex([{ code: '12010600100101', geometry: sq(0, 0) }], GB14).join(0.5, 0.5).grid).toBe(
      '12010600100101',
    );
  });

  it('works with an empty set', () => {
    const idx = buildGridIndex([]);
    expect(idx.join(0, 0)).toBe(NO_GRID);
    expect(idx.joinBatch(new Float64Array(2), new Float64Array(2), new Int32Array(2))).toEqual(
      Int32Array.from([-1, -1]),
    );
  });
});

describe('orient', () => {
  it('is exact near zero', () => {
    // Points a hair off a line: the naive determinant rounds to the wrong sign or zero.
    const ax = 0.5,
      ay = 0.5,
      bx = 12,
      by = 12;
    const cx = 24.00000000000005,
      cy = 24.0000000000001;
    expect(Math.sign(orient(ax, ay, bx, by, cx, cy))).toBe(orientExact(ax, ay, bx, by, cx, cy));
    expect(orientExact(0, 0, 1, 1, 0.5, 0.5)).toBe(0);
    expect(orientExact(0, 0, 1, 1, 0.5, 0.5 + 2 ** -53)).toBe(1);
    expect(orient(0, 0, 1, 1, 0.5, 0.5 - 2 ** -54)).toBeLessThan(0);
    expect(orientExact(1e-310, 0, 1e300, 1e300, 5e-324, 0)).toBe(1);
    expect(orientExact(1e-310, 0, 1e300, 1e300, 2e-310, 0)).toBe(-1);
  });
});

describe('GridJoiner', () => {
  it('swaps in a new index; a batch in flight keeps the index it started with', () => {
    const joiner = new GridJoiner();
    expect(joiner.join(0.5, 0.5)).toBe(NO_GRID);
    joiner.rebuild(block());
    expect(joiner.join(0.5, 0.5).grid).toBe('120106001002001');
    const v1 = joiner.index!;
    const used = joiner.joinBatch(Float64Array.of(0.5), Float64Array.of(0.5), new Int32Array(1));
    const next = buildGridIndex([{ code: '120106009009009', geometry: sq(0, 0, 2) }]);
    const prev = joiner.replace(next);
    expect(prev).toBe(v1);
    expect(used).toBe(v1); // ordinals from the earlier batch are read through the index that produced them
    expect(used!.codeOf(0)).toBe('120106001002001');
    expect(joiner.join(0.5, 0.5).grid).toBe('120106009009009');
    expect(joiner.version).toBe(2);
  });

  it('keeps the current index when a rebuild fails', () => {
    const joiner = new GridJoiner(buildGridIndex(block()));
    expect(() => joiner.rebuild([{ code: 'x', geometry: sq(0, 0) }])).toThrow(DomainError);
    expect(joiner.join(0.5, 0.5).grid).toBe('120106001002001');
  });
});
