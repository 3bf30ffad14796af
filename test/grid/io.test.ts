/**
 * Grid import/export round trips (GeoJSON, KML, zipped Shapefile), datum conversion on import, and
 * the refusal of a broken set.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { afterAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../core/errors.ts';
import { wgs84ToBd09, wgs84ToGcj02 } from '../../core/geo/transform.ts';
import { buildGridIndex } from '../../core/grid/join.ts';
import type { TopologyReport } from '../../core/grid/topology.ts';
import { exportGrids, importGrids, type GridFeature } from '../../ingest/grids/io.ts';
import { latticeGrids, mulberry32 } from './synthetic.ts';

const fixtures = join(import.meta.dirname, '../fixtures/topology');
const tmp = mkdtempSync(join(tmpdir(), 'onegrid-io-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The hierarchy fixture plus Chinese names. */
function hierarchy(): Feature[] {
  const fc = JSON.parse(readFileSync(join(fixtures, 'valid.geojson'), 'utf8'));
  for (const f of fc.features) f.properties.name = `测试${f.properties.name}（样例）`;
  return fc.features;
}

/** A base-grid set with a MultiPolygon grid and a grid with a hole. */
function special(): Feature[] {
  return latticeGrids({ cols: 6, rows: 5, seed: 9, edgeVertices: 2, special: true }).map((g) => ({
    type: 'Feature',
    properties: { code: g.code, name: `网格${g.code.slice(-3)}` },
    geometry: g.geometry,
  }));
}

/** Rings as sorted vertex lists rounded to 1e-9 (Shapefile reverses ring order and may start elsewhere). */
function shape(g: Polygon | MultiPolygon): string[] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  return polys
    .flatMap((p) =>
      p.map((r) =>
        r
          .slice(0, -1)
          .map(([x, y]) => `${x.toFixed(9)},${y.toFixed(9)}`)
          .sort()
          .join(' '),
      ),
    )
    .sort();
}

function expectSameSet(a: Feature[], b: GridFeature[], props: string[]) {
  expect(b.length).toBe(a.length);
  const byCode = new Map(b.map((f) => [f.properties.code, f]));
  for (const f of a) {
    const g = byCode.get(f.properties!.code)!;
    expect(g, f.properties!.code).toBeDefined();
    for (const p of props) expect(g.properties[p], `${f.properties!.code}.${p}`).toEqual(f.properties![p]);
    expect(shape(g.geometry)).toEqual(shape(f.geometry as Polygon));
  }
}

/** Both sets join 5,000 random points to the same base grids. */
function expectSameJoin(a: Feature[], b: GridFeature[]) {
  const base = (fs: Feature[]) =>
    fs
      .filter((f) => String(f.properties!.code).length === 15)
      .map((f) => ({ code: f.properties!.code, geometry: f.geometry as Polygon }));
  const ia = buildGridIndex(base(a)),
    ib = buildGridIndex(base(b));
  const [x0, y0, x1, y1] = ia.bbox;
  const rnd = mulberry32(3);
  for (let i = 0; i < 5000; i++) {
    const x = x0 + rnd() * (x1 - x0),
      y = y0 + rnd() * (y1 - y0);
    expect(ib.join(x, y).grid).toBe(ia.join(x, y).grid);
  }
}

describe('export then import', () => {
  for (const format of ['geojson', 'kml', 'shp'] as const) {
    it(`${format}: the four-level hierarchy with Chinese names`, async () => {
      const src = hierarchy();
      const out = await exportGrids(src, format);
      expect(typeof out === 'string' ? format !== 'shp' : format === 'shp').toBe(true);
      const back = await importGrids(typeof out === 'string' ? Buffer.from(out) : out, { format });
      expectSameSet(src, back.features, ['code', 'level', 'name', 'parent', 'kind']);
      expect(back.report?.ok).toBe(true);
    });

    it(`${format}: MultiPolygon and holes, sniffed from the bytes`, async () => {
      const src = special();
      const out = await exportGrids({ type: 'FeatureCollection', features: src }, format);
      const back = await importGrids(typeof out === 'string' ? Buffer.from(out) : out);
      expectSameSet(src, back.features, ['code', 'name']);
      expect(back.features.some((f) => f.geometry.type === 'MultiPolygon' || f.geometry.coordinates.length > 1)).toBe(
        true,
      );
      expectSameJoin(src, back.features);
    });
  }

  it('imports from a path, choosing the format by extension, and fills level, parent and kind from the code', async () => {
    const src = hierarchy().map((f) => ({ ...f, properties: { code: f.properties!.code } }));
    const path = join(tmp, 'grids.kml');
    writeFileSync(path, (await exportGrids(src, 'kml')) as string);
    const back = await importGrids(path);
    const g = back.features.find((f) => f.properties.code === '120106001002003')!;
    expect(g.properties).toMatchObject({ level: 4, parent: '120106001002', kind: 'grid' });
    expect(back.features.find((f) => f.properties.code === '120106')!.properties).toMatchObject({
      level: 1,
      parent: null,
      kind: 'district',
    });
  });
});

describe('datum conversion on import', () => {
  for (const [crs, fwd] of [
    ['gcj02', wgs84ToGcj02],
    ['bd09', wgs84ToBd09],
  ] as const) {
    it(`${crs} → WGS-84 within 1e-8°`, async () => {
      const src = hierarchy();
      const shifted = src.map((f) => ({
        ...f,
        geometry: {
          type: 'Polygon',
          coordinates: (f.geometry as Polygon).coordinates.map((r) => r.map(([x, y]) => fwd(x, y))),
        } as Polygon,
      }));
      // The offset is real (hundreds of metres): importing without `crs` puts the set elsewhere.
      const raw = await importGrids(Buffer.from((await exportGrids(shifted, 'geojson')) as string), {
        validate: false,
      });
      expect(
        Math.abs(
          (raw.features[0].geometry as Polygon).coordinates[0][0][0] -
            (src[0].geometry as Polygon).coordinates[0][0][0],
        ),
      ).toBeGreaterThan(1e-3);
      const back = await importGrids(Buffer.from((await exportGrids(shifted, 'geojson')) as string), { crs });
      for (let i = 0; i < src.length; i++) {
        const a = (src[i].geometry as Polygon).coordinates[0],
          b = (back.features[i].geometry as Polygon).coordinates[0];
        for (let k = 0; k < a.length; k++) {
          expect(Math.abs(a[k][0] - b[k][0])).toBeLessThan(1e-8);
          expect(Math.abs(a[k][1] - b[k][1])).toBeLessThan(1e-8);
        }
      }
    });
  }
});

describe('refusals', () => {
  it('refuses a broken set with topology_invalid and the report', async () => {
    try {
      await importGrids(join(fixtures, 'overlap.geojson'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('topology_invalid');
      const report = (e as DomainError).details as TopologyReport;
      expect(report.problems.map((p) => [p.kind, p.codes])).toContainEqual([
        'overlap',
        ['120106001001003', '120106001001004'],
      ]);
    }
    // …and takes it when told not to validate.
    const fc = await importGrids(join(fixtures, 'overlap.geojson'), { validate: false });
    expect(fc.features).toHaveLength(12);
  });

  it('refuses unreadable input with bad_request / not_found', async () => {
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: DomainError) => e.code,
      );
    expect(await code(importGrids(Buffer.from('not a grid file')))).toBe('bad_request');
    expect(await code(importGrids(Buffer.from('{"type": "Feature'), { format: 'geojson' }))).toBe('bad_request');
    expect(await code(importGrids(Buffer.from('PK\u0003\u0004garbage')))).toBe('bad_request');
    expect(await code(importGrids(join(tmp, 'missing.geojson')))).toBe('not_found');
    expect(await code(importGrids(Buffer.from('{}'), { format: 'geojson', crs: 'utm' as never }))).toBe('bad_request');
  });
});
