/**
 * `npm run bench -- join`: the spatial join (core/grid/join.ts) on one core.
 *
 * - points/s of `joinBatch` for the 992-grid sample district and the 10× denser set (9,920 grids),
 *   1,000,000 points uniform over each set's bounding box (about 30 % fall outside every grid);
 *   best of 7 passes (the machine may be shared; the best pass is the least disturbed one);
 * - index build time (best of 10, and the first, cold-JIT build) and the index's approximate memory;
 * - baselines measured in the same run on the same points: the naive loop (turf
 *   booleanPointInPolygon over all grids, first hit wins) on a 2,000-point sample, and PostGIS
 *   (`ST_Covers` with a GiST index, points sent as arrays and unnested, 10,000 per query) on 100,000
 *   points, in the PostgreSQL that test/harness/postgres.ts starts.
 *
 * Targets (issue 3): ≥ 3,000,000 points/s for 992 grids, ≥ 100× naive, ≥ 10× PostGIS, build ≤ 200 ms.
 * Run directly: node --import tsx bench/join.ts
 */
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import pg from 'pg';
import { pathToFileURL } from 'node:url';
import { buildGridIndex, type BaseGridInput, type GridIndex } from '../core/grid/join.ts';
import { generateDistrict, loadSampleGrids } from '../geo-data/index.ts';
import { startPostgres } from '../test/harness/postgres.ts';

interface Result {
  name: string;
  metrics: Record<string, number | string | null>;
  ratios: Record<string, number | null>;
  notes: string[];
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function baseGrids(
  features: { properties: { level: number; code: string }; geometry: BaseGridInput['geometry'] }[],
): BaseGridInput[] {
  return features
    .filter((f) => f.properties.level === 4)
    .map((f) => ({ code: f.properties.code, geometry: f.geometry }));
}

function points(index: GridIndex, n: number, seed: number): { xs: Float64Array; ys: Float64Array } {
  const [x0, y0, x1, y1] = index.bbox;
  const rnd = prng(seed);
  const xs = new Float64Array(n),
    ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x0 + rnd() * (x1 - x0);
    ys[i] = y0 + rnd() * (y1 - y0);
  }
  return { xs, ys };
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

function measureSet(grids: BaseGridInput[]) {
  const builds: number[] = [];
  let index!: GridIndex;
  for (let r = 0; r < 10; r++) {
    const t0 = performance.now();
    index = buildGridIndex(grids);
    builds.push(performance.now() - t0);
  }
  const N = 1_000_000;
  const { xs, ys } = points(index, N, 20261124);
  const out = new Int32Array(N);
  const rates: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    index.joinBatch(xs, ys, out);
    rates.push(N / ((performance.now() - t0) / 1000));
  }
  // The single-point API (returns the frozen four-code object; no allocation either).
  const t0 = performance.now();
  let hits = 0;
  const M = 300_000;
  for (let i = 0; i < M; i++) if (index.join(xs[i], ys[i]).grid !== null) hits++;
  const single = M / ((performance.now() - t0) / 1000);
  let inside = 0;
  for (let i = 0; i < N; i++) if (out[i] >= 0) inside++;
  void hits;
  return {
    index,
    xs,
    ys,
    out,
    buildMinMs: Math.min(...builds),
    buildMedianMs: median(builds),
    buildFirstMs: builds[0],
    bestRate: Math.max(...rates),
    medianRate: median(rates),
    singleRate: single,
    insideShare: inside / N,
  };
}

function naive(
  grids: BaseGridInput[],
  xs: Float64Array,
  ys: Float64Array,
  n: number,
  expect: Int32Array,
  index: GridIndex,
) {
  const t0 = performance.now();
  let disagree = 0;
  for (let i = 0; i < n; i++) {
    const pt = [xs[i], ys[i]];
    let found: string | null = null;
    for (const g of grids) {
      if (booleanPointInPolygon(pt, g.geometry)) {
        found = g.code;
        break;
      }
    }
    if (found !== index.codeOf(expect[i])) disagree++;
  }
  return { rate: n / ((performance.now() - t0) / 1000), disagree };
}

async function postgis(
  grids: BaseGridInput[],
  xs: Float64Array,
  ys: Float64Array,
  n: number,
  expect: Int32Array,
  index: GridIndex,
) {
  const pgh = await startPostgres();
  const client = new pg.Client({ connectionString: pgh.url });
  try {
    await client.connect();
    await client.query('CREATE TABLE grids (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)');
    for (let i = 0; i < grids.length; i += 500) {
      const chunk = grids.slice(i, i + 500);
      await client.query(
        `INSERT INTO grids SELECT c, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(g), 4326)) FROM unnest($1::text[], $2::text[]) t(c, g)`,
        [chunk.map((g) => g.code), chunk.map((g) => JSON.stringify(g.geometry))],
      );
    }
    await client.query('CREATE INDEX ON grids USING gist (geom)');
    await client.query('ANALYZE grids');
    const sql = `SELECT p.i, g.code
       FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)
       JOIN grids g ON ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))`;
    // Warm up (plan, caches), then time.
    await client.query(sql, [Array.from(xs.subarray(0, 1000)), Array.from(ys.subarray(0, 1000))]);
    const batch = 10_000;
    let disagree = 0;
    const t0 = performance.now();
    for (let s = 0; s < n; s += batch) {
      const res = await client.query<{ i: string; code: string }>(sql, [
        Array.from(xs.subarray(s, s + batch)),
        Array.from(ys.subarray(s, s + batch)),
      ]);
      const got = new Map<number, string>();
      for (const r of res.rows) got.set(Number(r.i) - 1 + s, r.code);
      for (let i = s; i < Math.min(n, s + batch); i++) if ((got.get(i) ?? null) !== index.codeOf(expect[i])) disagree++;
    }
    const rate = n / ((performance.now() - t0) / 1000);
    const plan = await client.query(`EXPLAIN ${sql}`, [[0], [0]]);
    const usesIndex = plan.rows.some((r: Record<string, string>) => /Index Scan|Bitmap/.test(Object.values(r)[0]));
    return { rate, disagree, usesIndex };
  } finally {
    await client.end().catch(() => {});
    await pgh.stop();
  }
}

export async function run(): Promise<Result> {
  const notes: string[] = [];
  const sample = baseGrids(loadSampleGrids().features as never);
  const dense = baseGrids(generateDistrict({ density: 10 }).grids.features as never);

  const a = measureSet(sample);
  const b = measureSet(dense);

  const nNaive = 2000;
  const nv = naive(sample, a.xs, a.ys, nNaive, a.out, a.index);
  if (nv.disagree) notes.push(`naive loop disagrees with the core join on ${nv.disagree} of ${nNaive} points`);

  let pgRate: number | null = null;
  try {
    const p = await postgis(sample, a.xs, a.ys, 100_000, a.out, a.index);
    pgRate = p.rate;
    if (p.disagree) notes.push(`PostGIS disagrees with the core join on ${p.disagree} of 100,000 points (edges?)`);
    if (!p.usesIndex) notes.push('PostGIS plan did not use the GiST index');
  } catch (e) {
    notes.push(`PostGIS baseline not measured: ${(e as Error).message.split('\n')[0]}`);
  }

  notes.push(
    `best of 7 passes over 1,000,000 points; medians: ${Math.round(a.medianRate).toLocaleString('en-US')} (992), ${Math.round(b.medianRate).toLocaleString('en-US')} (9,920) points/s`,
  );
  return {
    name: 'join',
    metrics: {
      grids_992: sample.length,
      points_per_s_992: Math.round(a.bestRate),
      single_join_per_s_992: Math.round(a.singleRate),
      build_ms_992: Math.round(a.buildMinMs * 10) / 10,
      build_ms_992_first_cold: Math.round(a.buildFirstMs * 10) / 10,
      memory_bytes_992: a.index.memoryBytes,
      cells_answered_without_pip_992: Math.round(a.index.cleanCellShare * 1000) / 1000,
      grids_9920: dense.length,
      points_per_s_9920: Math.round(b.bestRate),
      build_ms_9920: Math.round(b.buildMinMs * 10) / 10,
      memory_bytes_9920: b.index.memoryBytes,
      points_inside_share: Math.round(a.insideShare * 1000) / 1000,
      naive_turf_points_per_s_992: Math.round(nv.rate),
      postgis_points_per_s_992: pgRate === null ? null : Math.round(pgRate),
    },
    ratios: {
      vs_naive_turf: Math.round((a.bestRate / nv.rate) * 10) / 10,
      vs_postgis: pgRate === null ? null : Math.round((a.bestRate / pgRate) * 10) / 10,
      target_3M_points_per_s: Math.round((a.bestRate / 3_000_000) * 100) / 100,
      target_build_200ms: Math.round((200 / a.buildMinMs) * 100) / 100,
    },
    notes,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  const rows: [string, string][] = [
    ...Object.entries(r.metrics).map(
      ([k, v]) => [k, typeof v === 'number' ? v.toLocaleString('en-US') : String(v)] as [string, string],
    ),
    ...Object.entries(r.ratios).map(([k, v]) => [`ratio ${k}`, v === null ? '—' : `${v}×`] as [string, string]),
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  console.log(`== ${r.name} ==\n` + rows.map(([k, v]) => `${k.padEnd(w)}  ${v.padStart(14)}`).join('\n'));
  for (const n of r.notes) console.log(`note: ${n}`);
}
