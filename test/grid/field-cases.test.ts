/**
 * Field cases (../shared/field-cases/geo/, README there): each file, by name, through the real CLI
 * (`onegrid grids import … --publish`, `grids export`, `grids list`, `grids publish`) into a scratch
 * DATA_DIR (PGlite), asserting what the README says a correct product does. The check points P1–P3 are
 * joined against the exported base grids.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGridIndex, codeProfile } from '../../core/index.ts';
import { loadSampleGrids } from '../../geo-data/index.ts';
import { runCli } from '../harness/cli.ts';
import { openDb } from '../../ingest/store/db.ts';

const GEO = resolve(import.meta.dirname, '../../../shared/field-cases/geo');
const file = (name: string) => {
  const p = join(GEO, name);
  if (!existsSync(p)) throw new Error(`field case ${name} is missing from ${GEO}`);
  return p;
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'onegrid-fc-'));
  dirs.push(d);
  return d;
}

/** Run the CLI in-process on DATA_DIR `dir`; returns its exit code and what it printed. */
async function cli(dir: string, env: Record<string, string>, ...argv: string[]) {
  const r = await runCli(argv, { DATA_DIR: dir, ADMIN_PASSWORD: 'field-case-admin-1', LOG_LEVEL: 'silent', ...env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function exported(
  dir: string,
  env: Record<string, string> = {},
): Promise<FeatureCollection<Polygon | MultiPolygon>> {
  const r = await cli(dir, env, 'grids', 'export', '--format', 'geojson');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const P = [
  { lng: 117.1244009, lat: 39.1835629, grid: '120106001001001' },
  { lng: 117.1245525, lat: 39.1822512, grid: '120106001001004' },
  { lng: 117.1253137, lat: 39.1807651, grid: '120106001001007' },
];

function expectJoins(fc: FeatureCollection<Polygon | MultiPolygon>, profile = 'gb15', codes = P.map((p) => p.grid)) {
  const index = buildGridIndex(
    fc.features
      .filter((f) => f.properties!.level === 4)
      .map((f) => ({ code: f.properties!.code, geometry: f.geometry })),
    { profile: codeProfile(profile) },
  );
  P.forEach((p, i) => expect(index.join(p.lng, p.lat).grid, `P${i + 1}`).toBe(codes[i]));
}

const NAMES: Record<string, string> = { '120106001001': '景福新村社区' };
for (let i = 1; i <= 7; i++) NAMES[`12010600100100${i}`] = `景福新村社区第${i}网格`;

function expectNames(fc: FeatureCollection) {
  expect(fc.features).toHaveLength(8);
  for (const f of fc.features) {
    const p = f.properties!;
    expect(p.name, p.code).toBe(NAMES[p.code]);
    expect(p.name).not.toMatch(/[\uFFFD\u00C0-\u00FF]/); // no U+FFFD, no Latin-1 mojibake
    expect(p.level).toBe(p.code.length === 12 ? 3 : 4);
    expect(p.parent).toBe(p.code.length === 12 ? '120106001' : '120106001001');
  }
}

/** Shoelace area in m² on a local equirectangular projection. */
function areaM2(g: Polygon | MultiPolygon): number {
  const k = (6371008.8 * Math.PI) / 180;
  const kx = k * Math.cos((39.18 * Math.PI) / 180);
  let a = 0;
  for (const poly of g.type === 'Polygon' ? [g.coordinates] : g.coordinates)
    poly.forEach((ring, r) => {
      let s = 0;
      for (let i = 0; i + 1 < ring.length; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
      a += (r === 0 ? 1 : -1) * Math.abs(s / 2) * kx * k;
    });
  return a;
}

const sample = new Map(loadSampleGrids().features.map((f) => [f.properties.code, f as Feature<Polygon>]));

async function publishedFromFile(name: string, ...extra: string[]) {
  const dir = scratch();
  const r = await cli(dir, {}, 'grids', 'import', file(name), '--publish', '--json', ...extra);
  return { dir, r };
}

describe('field cases: geo/', () => {
  it('01_gbk_ldid_no_cpg.zip: reads the DBF code page (LDID 0x4D) and decodes the names as GBK', async () => {
    const { dir, r } = await publishedFromFile('01_gbk_ldid_no_cpg.zip');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).source.encoding).toBe('gbk');
    const fc = await exported(dir);
    expectNames(fc);
    expectJoins(fc);
    // The first import into an empty data directory did not load the sample district or its devices.
    const list = JSON.parse((await cli(dir, {}, 'grids', 'list', '--json')).stdout);
    expect(list).toHaveLength(1);
    const db = await openDb({ databaseUrl: null, dataDir: dir });
    try {
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices')).rows[0].n).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('02_gbk_cpg_936.zip: reads a .cpg of "936" as GBK', async () => {
    const { dir, r } = await publishedFromFile('02_gbk_cpg_936.zip');
    expect(r.code, r.stderr).toBe(0);
    const fc = await exported(dir);
    expectNames(fc);
    expectJoins(fc);
  });

  it('03_epsg4527_crs_member.geojson: reprojects from the GeoJSON crs member (EPSG:4527)', async () => {
    const { dir, r } = await publishedFromFile('03_epsg4527_crs_member.geojson');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).source.crs).toMatch(/EPSG:4527/);
    const fc = await exported(dir);
    for (const f of fc.features)
      for (const ring of (f.geometry as Polygon).coordinates)
        for (const [x, y] of ring) expect(Math.abs(x) <= 180 && Math.abs(y) <= 90).toBe(true);
    expectNames(fc);
    expectJoins(fc);
  });

  it('04_gk_epsg4548_no_prj.zip: refused — the coordinates are not degrees and no .prj says what they are', async () => {
    const { dir, r } = await publishedFromFile('04_gk_epsg4548_no_prj.zip');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not degrees/);
    expect(r.stderr).toMatch(/no \.prj/);
    expect(r.stderr).toMatch(/--crs EPSG/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    // Nothing was stored; given the CRS, the same file imports.
    const again = await cli(dir, {}, 'grids', 'import', file('04_gk_epsg4548_no_prj.zip'), '--crs', 'EPSG:4548');
    expect(again.code, again.stderr).toBe(0);
  });

  it('05_gk_epsg4548_with_prj.zip: reprojects from the .prj; vertices within 1 cm of the sample', async () => {
    const { dir, r } = await publishedFromFile('05_gk_epsg4548_with_prj.zip');
    expect(r.code, r.stderr).toBe(0);
    const fc = await exported(dir);
    expectNames(fc);
    expectJoins(fc);
    const k = (6371008.8 * Math.PI) / 180;
    for (const f of fc.features) {
      const want = sample.get(f.properties!.code)!.geometry.coordinates[0];
      const got = (f.geometry as Polygon).coordinates[0];
      const vertices = new Set(want.map(([x, y]) => `${x},${y}`));
      expect(got.length).toBe(want.length);
      for (const [x, y] of got) {
        const nearest = Math.min(
          ...want.map(([wx, wy]) => Math.hypot((x - wx) * k * Math.cos((y * Math.PI) / 180), (y - wy) * k)),
        );
        expect(nearest, `${f.properties!.code} ${x},${y}`).toBeLessThan(0.01);
      }
      expect(vertices.size).toBeGreaterThan(3);
    }
  });

  it('06_uppercase_NAME_CODE.zip: names from NAME, level and parent from the codes', async () => {
    const { dir, r } = await publishedFromFile('06_uppercase_NAME_CODE.zip');
    expect(r.code, r.stderr).toBe(0);
    const fc = await exported(dir);
    expectNames(fc);
    expectJoins(fc);
  });

  it('07_gb14_codes.geojson: refused with gb15 (names the 14-digit length and --profile); accepted with gb14', async () => {
    const { dir, r } = await publishedFromFile('07_gb14_codes.geojson');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/14 digits/);
    expect(r.stderr).toMatch(/--profile gb14/);
    expect(r.stderr).toMatch(/GRID_CODE_PROFILE/);
    const ok = await cli(dir, {}, 'grids', 'import', file('07_gb14_codes.geojson'), '--profile', 'gb14', '--publish');
    expect(ok.code, ok.stderr).toBe(0);
    const fc = await exported(dir);
    const base = fc.features.filter((f) => f.properties!.level === 4);
    expect(base).toHaveLength(7);
    for (const f of base) expect(f.properties!.parent).toBe('120106001001');
    expectJoins(fc, 'gb14', ['12010600100101', '12010600100104', '12010600100107']);
    // The same, chosen by configuration.
    const dir2 = scratch();
    const viaEnv = await cli(dir2, { GRID_CODE_PROFILE: 'gb14' }, 'grids', 'import', file('07_gb14_codes.geojson'));
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toMatch(/profile gb14/);
  });

  it('08_multipolygon_overlapping_parts.geojson: refused, naming 120106001001003, its overlapping parts, area and place', async () => {
    const { r } = await publishedFromFile('08_multipolygon_overlapping_parts.geojson');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/topology_invalid/);
    expect(r.stderr).toMatch(
      /120106001001003: parts 1 and 2 of its MultiPolygon overlap by (\d+) m² near 117\.122\d+, 39\.182\d+/,
    );
    const area = Number(/overlap by (\d+) m²/.exec(r.stderr)![1]);
    expect(area).toBeGreaterThan(4300);
    expect(area).toBeLessThan(4700);
    expect(r.stderr).toMatch(/"kind": "parts_overlap"/);
  });

  it('09_unclosed_rings_repeated_vertices.geojson: closes rings, drops repeats, accepts all 8 with areas unchanged', async () => {
    const { dir, r } = await publishedFromFile('09_unclosed_rings_repeated_vertices.geojson');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/self/);
    const repairs: string[] = JSON.parse(r.stdout).repairs;
    expect(repairs.join('\n')).toMatch(/120106001001001.*closed 1 ring/);
    expect(repairs.join('\n')).toMatch(/120106001001004.*dropped/);
    const fc = await exported(dir);
    expectNames(fc);
    for (const f of fc.features) {
      const want = areaM2(sample.get(f.properties!.code)!.geometry);
      expect(Math.abs(areaM2(f.geometry) - want), f.properties!.code).toBeLessThan(0.01);
    }
    expectJoins(fc);
  });

  it('10_grids.kmz: read as KML — 8 features with their names and codes', async () => {
    const { dir, r } = await publishedFromFile('10_grids.kmz');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Shapefile/i);
    expect(JSON.parse(r.stdout).source.format).toBe('kmz');
    const fc = await exported(dir);
    expectNames(fc);
    expectJoins(fc);
  });

  it('11_district_outline_only.geojson: a draft is fine; publishing is refused, saying how many devices lose their grid', async () => {
    const dir = scratch();
    // A data directory that already holds the sample district and its devices.
    const first = await cli(dir, {}, 'grids', 'list', '--json');
    expect(first.code, first.stderr).toBe(0);
    const db0 = await openDb({ databaseUrl: null, dataDir: dir });
    const before = (await db0.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE grid IS NOT NULL'))
      .rows[0].n;
    await db0.close();
    expect(before).toBeGreaterThan(0);

    const r = await cli(dir, {}, 'grids', 'import', file('11_district_outline_only.geojson'), '--publish');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`leave ${before} device\\(s\\) and \\d+ open case\\(s\\) without the base grid`),
    );
    expect(r.stderr).toMatch(/no base grids/);
    expect(r.stderr).toMatch(/--force/);

    const list = JSON.parse((await cli(dir, {}, 'grids', 'list', '--json')).stdout);
    expect(list.find((v: { status: string }) => v.status === 'published').id).toBe(1);
    const draft = list.find((v: { status: string; counts: Record<number, number> }) => v.status === 'draft');
    expect(draft.counts).toEqual({ 1: 1 }); // imported as a draft: fine

    const db1 = await openDb({ databaseUrl: null, dataDir: dir });
    const after = (await db1.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE grid IS NOT NULL'))
      .rows[0].n;
    await db1.close();
    expect(after).toBe(before); // device grids never wiped silently

    // Publishing the draft is refused the same way, and goes through only on an explicit confirmation.
    const p = await cli(dir, {}, 'grids', 'publish', String(draft.id));
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/confirm with --force/);
    const forced = await cli(dir, {}, 'grids', 'publish', String(draft.id), '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    const report = JSON.parse(forced.stdout);
    expect(report.devicesLosingGrid).toBe(before);
    expect(report.warning).toMatch(/explicit confirmation/);
  });
});
