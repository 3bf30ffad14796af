/**
 * The kinds of fault behind the field cases, beyond the files themselves: every CRS, encoding, field,
 * geometry and limit rule of ingest/grids/io.ts on files built here from the sample community
 * 120106001001 (景福新村社区 and its seven base grids).
 */
import type { Feature, FeatureCollection, Polygon } from 'geojson';
import { strToU8, unzipSync, zipSync } from 'fflate';
import iconv from 'iconv-lite';
import proj4 from 'proj4';
import { describe, expect, it } from 'vitest';
import { validateTopology } from '../../core/index.ts';
import { loadSampleGrids } from '../../geo-data/index.ts';
import { exportGrids, importGrids, parseCrs } from '../../ingest/grids/io.ts';

const community = loadSampleGrids().features.filter((f) => f.properties.code.startsWith('120106001001'));
const features = (): Feature<Polygon>[] =>
  community.map((f) => ({
    type: 'Feature',
    properties: { code: f.properties.code, name: f.properties.name },
    geometry: f.geometry as Polygon,
  }));
const fcOf = (fs: Feature[], extra: Record<string, unknown> = {}) =>
  ({ type: 'FeatureCollection', ...extra, features: fs }) as FeatureCollection;
const json = (v: unknown) => new Uint8Array(Buffer.from(JSON.stringify(v)));

async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toMatch(/^(bad_request|invalid_code|topology_invalid|not_found)$/);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

function project(fs: Feature<Polygon>[], def: string): Feature<Polygon>[] {
  const p = proj4('WGS84', def);
  return fs.map((f) => ({
    ...f,
    geometry: { type: 'Polygon', coordinates: f.geometry.coordinates.map((r) => r.map((q) => p.forward(q))) },
  }));
}

/** A Shapefile zip of `fs`, with members replaced (string/bytes) or removed (null). */
async function shapefile(fs: Feature[], members: Record<string, string | Uint8Array | null> = {}) {
  const files = unzipSync(new Uint8Array((await exportGrids(fs, 'shp')) as Buffer));
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(files)) {
    const ext = k.slice(k.lastIndexOf('.'));
    if (ext in members) {
      const m = members[ext];
      if (m !== null) out[k] = typeof m === 'string' ? strToU8(m) : m;
    } else out[k] = v;
  }
  for (const [ext, m] of Object.entries(members))
    if (m !== null && !Object.keys(out).some((k) => k.endsWith(ext)))
      out[`grids/grids${ext}`] = typeof m === 'string' ? strToU8(m) : m;
  return zipSync(out);
}

const names = (fc: FeatureCollection) =>
  Object.fromEntries(fc.features.map((f) => [f.properties!.code, f.properties!.name]));
const WANT = Object.fromEntries(community.map((f) => [f.properties.code, f.properties.name]));

describe('coordinates', () => {
  it('EPSG codes of every spelling, CGCS2000 and its Gauss-Krüger zones from the epsg-index package', () => {
    expect(parseCrs('4490').datum).toBe('wgs84');
    expect(parseCrs('EPSG:4527').label).toMatch(/zone 39/);
    expect(parseCrs('urn:ogc:def:crs:EPSG::4548').label).toMatch(/CM 117E/);
    expect(parseCrs('http://www.opengis.net/def/crs/EPSG/0/3857').def).toMatch(/merc/);
    expect(parseCrs('urn:ogc:def:crs:OGC:1.3:CRS84').datum).toBe('wgs84');
    expect(() => parseCrs('EPSG:999999')).toThrow(/not a coordinate system/);
    expect(() => parseCrs('utm50')).toThrow(/EPSG:4490/);
  });

  for (const [code, def] of [
    ['EPSG:4548', '+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m'],
    ['EPSG:3857', 'EPSG:3857'],
  ]) {
    it(`--crs ${code}; and a GeoJSON crs member naming it`, async () => {
      const projected = project(features(), def);
      const a = await importGrids(json(fcOf(projected)), { crs: code });
      const b = await importGrids(
        json(
          fcOf(projected, { crs: { type: 'name', properties: { name: `urn:ogc:def:crs:EPSG::${code.slice(5)}` } } }),
        ),
      );
      for (const fc of [a, b]) {
        const [x, y] = fc.features[1].geometry.coordinates[0][0] as number[];
        const [wx, wy] = community[1].geometry.coordinates[0][0] as number[];
        expect(Math.abs(x - wx)).toBeLessThan(1e-7);
        expect(Math.abs(y - wy)).toBeLessThan(1e-7);
      }
    });
  }

  it('an ESRI .prj of Web Mercator and of a zone-prefixed Gauss-Krüger zone is read by proj4', async () => {
    const gk39 =
      'PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]';
    const zip = await shapefile(project(features(), gk39), { '.prj': gk39 });
    const fc = await importGrids(zip);
    expect(names(fc)).toEqual(WANT);
    expect(fc.source!.crs).toBe('CGCS2000_3_Degree_GK_Zone_39');
    expect(validateTopology(fc.features as never).ok).toBe(true);
  });

  it('a .prj that does not parse is refused in a clear message', async () => {
    const zip = await shapefile(features(), { '.prj': 'PROJCS["broken",GEOGCS[' });
    expect(await refused(importGrids(zip))).toMatch(/the \.prj does not describe a coordinate system.*--crs/);
  });

  it('metres with no CRS, degrees outside the region, and swapped lat/lng are refused saying which', async () => {
    const metres = project(features(), 'EPSG:3857');
    expect(await refused(importGrids(json(fcOf(metres))))).toMatch(/not degrees.*declares no coordinate system/);
    const swapped = features().map((f) => ({
      ...f,
      geometry: { type: 'Polygon' as const, coordinates: f.geometry.coordinates.map((r) => r.map(([x, y]) => [y, x])) },
    }));
    expect(await refused(importGrids(json(fcOf(swapped))))).toMatch(/not degrees/);
    expect(await refused(importGrids(json(fcOf(features())), { region: [100, 20, 110, 30] }))).toMatch(
      /outside the configured region \(GRID_REGION/,
    );
    // A wrong declared CRS lands the grids somewhere else: refused too, naming the CRS used.
    expect(await refused(importGrids(json(fcOf(metres)), { crs: 'EPSG:4548' }))).toMatch(/read as EPSG:4548/);
  });
});

describe('text encoding', () => {
  it('GBK-encoded GeoJSON is recognised; --encoding overrides', async () => {
    const gbk = iconv.encode(JSON.stringify(fcOf(features())), 'gbk');
    expect(names(await importGrids(new Uint8Array(gbk)))).toEqual(WANT);
    expect(names(await importGrids(new Uint8Array(gbk), { encoding: 'cp936' }))).toEqual(WANT);
  });

  it('names that decode to U+FFFD are refused, naming the feature and the field', async () => {
    const latin = iconv.encode(JSON.stringify(fcOf(features())), 'gbk');
    expect(await refused(importGrids(new Uint8Array(latin), { encoding: 'utf-8' }))).toMatch(
      /120106001001.*property "name" does not decode as utf-8.*--encoding/,
    );
  });

  for (const cpg of ['GBK', 'CP936', '936', 'ANSI 936']) {
    it(`a DBF in GBK with a .cpg of "${cpg}"`, async () => {
      const gbkShp = unzipSync(new Uint8Array((await exportGrids(features(), 'shp', { encoding: 'gbk' })) as Buffer));
      const dbf = Object.entries(gbkShp).find(([k]) => k.endsWith('.dbf'))![1];
      dbf[29] = 0; // no code page in the header: the .cpg decides
      const zip = await shapefile(features(), { '.dbf': dbf, '.cpg': cpg });
      expect(names(await importGrids(zip))).toEqual(WANT);
    });
  }

  it('a UTF-8 .cpg wins over a GBK header; an unknown .cpg is refused', async () => {
    expect(names(await importGrids(await shapefile(features(), { '.cpg': 'UTF-8' })))).toEqual(WANT);
    expect(await refused(importGrids(await shapefile(features(), { '.cpg': 'KLINGON' })))).toMatch(
      /unknown text encoding "KLINGON"/,
    );
  });

  it('export writes a .cpg and the DBF code page: UTF-8 by default, GBK on request; both import back', async () => {
    for (const [encoding, cpg, ldid] of [
      ['utf-8', 'UTF-8', 0],
      ['gbk', 'GBK', 0x4d],
    ] as const) {
      const zip = (await exportGrids(features(), 'shp', { encoding })) as Buffer;
      const files = unzipSync(new Uint8Array(zip));
      const get = (ext: string) => Object.entries(files).find(([k]) => k.endsWith(ext))![1];
      expect(Buffer.from(get('.cpg')).toString()).toBe(cpg);
      expect(get('.dbf')[29]).toBe(ldid);
      const back = await importGrids(new Uint8Array(zip));
      expect(back.source!.encoding).toBe(encoding);
      expect(names(back)).toEqual(WANT);
    }
  });

  it('KML: the XML prolog gives the encoding; a DOCTYPE is refused', async () => {
    const kml = (await exportGrids(features(), 'kml')) as string;
    const gbk = iconv.encode(kml.replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0" encoding="GBK"?>'), 'gbk');
    const fc = await importGrids(new Uint8Array(gbk), { format: 'kml' });
    expect(fc.features.map((f) => f.properties.name).sort()).toEqual(Object.values(WANT).sort());
    const doctype = kml.replace(/<kml/, '<!DOCTYPE kml [<!ENTITY a "aaaa">]><kml');
    expect(await refused(importGrids(new Uint8Array(Buffer.from(doctype)), { format: 'kml' }))).toMatch(/DOCTYPE/);
  });
});

describe('fields', () => {
  it('--code-field, --name-field and --level-field; a missing one lists the properties found', async () => {
    const fs = features().map((f) => ({
      ...f,
      properties: {
        GRID_NO: f.properties!.code,
        TITLE: f.properties!.name,
        TIER: String(f.properties!.code).length === 12 ? 3 : 4,
      },
    }));
    const fc = await importGrids(json(fcOf(fs)), { codeField: 'GRID_NO', nameField: 'TITLE', levelField: 'TIER' });
    expect(names(fc)).toEqual(WANT);
    expect(await refused(importGrids(json(fcOf(fs))))).toMatch(
      /has no grid code.*properties found: GRID_NO, TITLE, TIER.*--code-field/,
    );
    expect(await refused(importGrids(json(fcOf(fs)), { codeField: 'BM' }))).toMatch(
      /feature 1 \(GRID_NO=120106001001, TITLE=景福新村社区\) has no property "BM" \(--code-field\); properties found: GRID_NO, TITLE, TIER/,
    );
  });

  it('Chinese and pinyin-initial column names are found without options (网格编码/网格名称, WGBM/WGMC)', async () => {
    for (const [c, n] of [
      ['网格编码', '网格名称'],
      ['WGBM', 'WGMC'],
    ]) {
      const fs = features().map((f) => ({ ...f, properties: { [c]: f.properties!.code, [n]: f.properties!.name } }));
      expect(names(await importGrids(json(fcOf(fs))))).toEqual(WANT);
    }
  });

  it('DataV: adcode, name, a level word and the parent object', async () => {
    const district = loadSampleGrids().features.find((f) => f.properties.level === 1)!;
    const datav = {
      type: 'Feature',
      properties: { adcode: 120106, name: '示范区', level: 'district', parent: { adcode: 120100 }, childrenNum: 0 },
      geometry: district.geometry,
    };
    const fc = await importGrids(json(fcOf([datav as Feature])));
    expect(fc.features[0].properties).toMatchObject({ code: '120106', name: '示范区', level: 1, parent: null });
  });
});

describe('geometry', () => {
  it('a null geometry is named, never placed at [0, 0]', async () => {
    const fs: Feature[] = features();
    fs[3] = { ...fs[3], geometry: null as never };
    expect(await refused(importGrids(json(fcOf(fs))))).toMatch(/120106001001003 景福新村社区第3网格 has no geometry/);
  });

  it('polygons are taken out of a GeometryCollection; a line is refused by name', async () => {
    const fs: Feature[] = features();
    fs[2] = {
      ...fs[2],
      geometry: {
        type: 'GeometryCollection',
        geometries: [fs[2].geometry as Polygon, { type: 'Point', coordinates: [117.12, 39.18] }],
      },
    };
    const fc = await importGrids(json(fcOf(fs)));
    expect(fc.repairs!.join()).toMatch(/GeometryCollection/);
    fs[2] = {
      ...fs[2],
      geometry: {
        type: 'LineString',
        coordinates: [
          [117.12, 39.18],
          [117.13, 39.19],
        ],
      },
    };
    expect(await refused(importGrids(json(fcOf(fs))))).toMatch(/120106001001002.* is a LineString, not a polygon/);
  });

  it('says which Shapefile member is missing', async () => {
    expect(await refused(importGrids(await shapefile(features(), { '.dbf': null })))).toMatch(
      /missing its \.dbf member/,
    );
    expect(await refused(importGrids(await shapefile(features(), { '.shp': null })))).toMatch(/no \.shp member.*\.dbf/);
  });
});

describe('limits', () => {
  it('caps the feature count and the unzipped size', async () => {
    expect(await refused(importGrids(json(fcOf(features())), { maxFeatures: 5 }))).toMatch(
      /8 features, more than the import limit of 5/,
    );
    const zip = await shapefile(features());
    expect(await refused(importGrids(zip, { maxBytes: 8 * 1024 }))).toMatch(/unzips to more than 8 KiB/);
  });
});
