/**
 * The core join against PostGIS: the sample district's base grids in a real PostgreSQL + PostGIS
 * (test/harness/postgres.ts), ~20,000 random points plus every grid vertex and points beside edges,
 * joined by `ST_Covers` with a GiST index. PostGIS reports every grid that covers a point (several on
 * a shared edge or vertex); the core join must give the same grid for every point, and on edges one of
 * those PostGIS names (or none on the east/north outer boundary, by the documented edge rule).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGridIndex, type GridIndex } from '../../core/grid/join.ts';
import { loadSampleGrids } from '../../geo-data/index.ts';
import { startPostgres, type PostgresHandle } from '../harness/postgres.ts';
import { mulberry32 } from './synthetic.ts';

let pgh: PostgresHandle;
let client: pg.Client;
let index: GridIndex;
const base = loadSampleGrids()
  .features.filter((f) => f.properties.level === 4)
  .map((f) => ({ code: f.properties.code, geometry: f.geometry }));

beforeAll(async () => {
  pgh = await startPostgres();
  client = new pg.Client({ connectionString: pgh.url });
  await client.connect();
  await client.query('CREATE TABLE grids (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)');
  for (let i = 0; i < base.length; i += 200) {
    const chunk = base.slice(i, i + 200);
    await client.query(
      `INSERT INTO grids (code, geom)
       SELECT c, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)) FROM unnest($1::text[], $2::text[]) AS t(c, g)`,
      [chunk.map((g) => g.code), chunk.map((g) => JSON.stringify(g.geometry))],
    );
  }
  await client.query('CREATE INDEX grids_geom ON grids USING gist (geom)');
  await client.query('ANALYZE grids');
  // The union of all base grids, to tell the outer boundary (where the edge rule may answer none).
  await client.query('CREATE TABLE outline AS SELECT ST_Union(geom) AS geom FROM grids');
  index = buildGridIndex(base);
});

afterAll(async () => {
  await client?.end();
  await pgh?.stop();
});

interface PgHit {
  codes: string[];
  interior: boolean; // ST_Contains: strictly inside one of them
  outer: boolean; // on the outer boundary of the whole set
}

async function postgisJoin(xs: number[], ys: number[]): Promise<PgHit[]> {
  const out: PgHit[] = xs.map(() => ({ codes: [], interior: false, outer: false }));
  const res = await client.query<{ i: string; code: string; inside: boolean }>(
    `SELECT p.i, g.code, ST_Contains(g.geom, p.pt) AS inside
       FROM (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS pt
               FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i)) p
       JOIN grids g ON ST_Covers(g.geom, p.pt)`,
    [xs, ys],
  );
  for (const r of res.rows) {
    const h = out[Number(r.i) - 1];
    h.codes.push(r.code);
    if (r.inside) h.interior = true;
  }
  const outer = await client.query<{ i: string }>(
    `SELECT u.i FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i), outline o
      WHERE ST_Intersects(ST_Boundary(o.geom), ST_SetSRID(ST_MakePoint(u.x, u.y), 4326))`,
    [xs, ys],
  );
  for (const r of outer.rows) out[Number(r.i) - 1].outer = true;
  return out;
}

function compare(
  xs: number[],
  ys: number[],
  hits: PgHit[],
): { same: number; onEdge: number; noneOnOuter: number; mismatches: string[] } {
  let same = 0,
    onEdge = 0,
    noneOnOuter = 0;
  const mismatches: string[] = [];
  hits.forEach((h, i) => {
    const core = index.join(xs[i], ys[i]).grid;
    if (h.codes.length === 1 && h.interior) {
      if (core === h.codes[0]) same++;
      else mismatches.push(`${xs[i]},${ys[i]}: PostGIS ${h.codes[0]}, core ${core}`);
    } else if (h.codes.length === 0) {
      if (core === null) same++;
      else mismatches.push(`${xs[i]},${ys[i]}: PostGIS none, core ${core}`);
    } else {
      // On a boundary: one of the grids PostGIS names, or none on the outer boundary (edge rule).
      onEdge++;
      if (core === null) noneOnOuter++;
      if (core === null ? !h.outer : !h.codes.includes(core)) {
        mismatches.push(`${xs[i]},${ys[i]}: PostGIS ${h.codes.join('|')} (boundary), core ${core}`);
      }
    }
  });
  return { same, onEdge, noneOnOuter, mismatches };
}

describe('core join vs PostGIS ST_Covers on the sample district', () => {
  it('agrees on 20,000 random points', async () => {
    const [x0, y0, x1, y1] = index.bbox;
    const rnd = mulberry32(42);
    const xs: number[] = [],
      ys: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      xs.push(x0 - 0.002 + rnd() * (x1 - x0 + 0.004));
      ys.push(y0 - 0.002 + rnd() * (y1 - y0 + 0.004));
    }
    const r = compare(xs, ys, await postgisJoin(xs, ys));
    expect(r.mismatches.slice(0, 10)).toEqual([]);
    expect(r.same).toBeGreaterThan(19_990);
  });

  it('agrees on every vertex of every grid (shared vertices: exactly one of the grids PostGIS names)', async () => {
    const seen = new Set<string>();
    const xs: number[] = [],
      ys: number[] = [];
    for (const g of base) {
      const polys = g.geometry.type === 'Polygon' ? [g.geometry.coordinates] : g.geometry.coordinates;
      for (const p of polys)
        for (const ring of p)
          for (const [x, y] of ring) {
            const k = `${x},${y}`;
            if (seen.has(k)) continue;
            seen.add(k);
            xs.push(x);
            ys.push(y);
          }
    }
    const r = compare(xs, ys, await postgisJoin(xs, ys));
    expect(r.mismatches.slice(0, 10)).toEqual([]);
    expect(r.onEdge).toBe(xs.length); // every vertex is on a boundary, and PostGIS sees it so
    // Inside the set a shared vertex always gets a grid; only outer-boundary vertices may get none.
    expect(r.noneOnOuter).toBeLessThan(xs.length / 5);
  });

  it('agrees on points a hair beside shared edges', async () => {
    const rnd = mulberry32(7);
    const xs: number[] = [],
      ys: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const g = base[Math.floor(rnd() * base.length)];
      const ring = g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0];
      const k = Math.floor(rnd() * (ring.length - 1));
      const t = rnd();
      const d = (rnd() - 0.5) * 2e-9; // ~0.1 mm either side
      xs.push(ring[k][0] + (ring[k + 1][0] - ring[k][0]) * t + d);
      ys.push(ring[k][1] + (ring[k + 1][1] - ring[k][1]) * t - d);
    }
    const r = compare(xs, ys, await postgisJoin(xs, ys));
    expect(r.mismatches.slice(0, 10)).toEqual([]);
  });
});
