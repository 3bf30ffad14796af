/**
 * Grid set import and export: GeoJSON, zipped Shapefile, KML and KMZ.
 *
 * Import reads what real files carry and refuses what it cannot read safely, with a message that says
 * what is wrong and how to fix it (DomainError, never a silent guess that empties every join):
 *
 * - **Coordinates.** The source CRS comes from, in order: the `crs` option (`--crs`: `wgs84`, `gcj02`,
 *   `bd09`, or an EPSG code such as `EPSG:4490`, `4527`, `EPSG:4548`, `3857`, with the definitions of the
 *   `epsg-index` package and proj4), a Shapefile's `.prj` (OGC or ESRI WKT, read by proj4), a GeoJSON
 *   `crs` member (`urn:ogc:def:crs:EPSG::4527`, `EPSG:4527`, `…CRS84`). Output is WGS-84 [lng, lat].
 *   CGCS2000 (EPSG:4490) is taken as WGS-84: the two differ by centimetres. With no CRS declared,
 *   coordinates that are not degrees, or degrees outside the configured region (`region`,
 *   GRID_REGION), are refused (`bad_request`); reprojected coordinates outside the region are refused too.
 * - **Text encoding.** `encoding` option, else a Shapefile's `.cpg` (`GBK`, `936`, `CP936`, `UTF-8`, …),
 *   else the DBF header's language driver id (byte 29; 0x4D → GBK, code page 936), else the XML prolog of
 *   KML; undeclared text is read as UTF-8, or as GBK when it is not valid UTF-8 (GBK-encoded GeoJSON).
 *   Text that still decodes to U+FFFD is refused (`bad_request`), never stored.
 * - **Fields.** Code from `codeField` or `code`/`CODE`/`adcode`/…; name from `nameField` or
 *   `name`/`NAME`/…; level from `levelField` or `level` (a number or a kind word, DataV's `district` /
 *   `street` included); DataV's `parent` object (`{adcode}`) understood. Errors name the feature by its
 *   name or code and list the properties found.
 * - **Geometry.** Unclosed rings are closed and repeated consecutive vertices dropped (reported in
 *   `repairs`), polygons are taken out of GeometryCollections, a feature without a polygon geometry is
 *   refused by name.
 * - **Limits.** `maxBytes` caps the file and its unzipped members, `maxFeatures` the feature count; KML
 *   with a DOCTYPE is refused (entity expansion).
 *
 * Then the topology of the set is validated (core/grid/topology.ts) and a broken set refused:
 * DomainError('topology_invalid', …, report). Nothing here touches the store.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon, Position } from 'geojson';
import shpwrite from '@mapbox/shp-write';
import { kml as kmlToGeoJSON } from '@tmcw/togeojson';
import { DOMParser } from '@xmldom/xmldom';
import { unzipSync, zipSync } from 'fflate';
import iconv from 'iconv-lite';
import proj4 from 'proj4';
import { parseShp, combine } from 'shpjs';
import tokml from 'tokml';
import {
  type CodeProfile,
  CODE_PROFILES,
  DEFAULT_PROFILE,
  DomainError,
  LEVEL_KINDS,
  convertGeometry,
  levelOf,
  validateTopology,
  type Datum,
  type TopologyReport,
} from '../../core/index.ts';

export type GridFormat = 'geojson' | 'kml' | 'kmz' | 'shp';
export const GRID_FORMATS: readonly GridFormat[] = ['geojson', 'kml', 'kmz', 'shp'];

/** [minLng, minLat, maxLng, maxLat] in degrees. */
export type Region = readonly [number, number, number, number];
/** Mainland China and its islands, generously: the default GRID_REGION. */
export const CHINA_REGION: Region = [73, 3, 136, 54];

export interface GridProperties {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  [k: string]: unknown;
}
export type GridFeature = Feature<Polygon | MultiPolygon, GridProperties>;
export type GridFeatureCollection = FeatureCollection<Polygon | MultiPolygon, GridProperties>;

export interface ImportOptions {
  /** Default: from the file extension, else sniffed from the content (a zip holding .kml is KMZ). */
  format?: GridFormat;
  /** Source CRS: wgs84 | gcj02 | bd09 | an EPSG code (`EPSG:4548`, `4527`, …). Overrides .prj and `crs`. */
  crs?: string;
  /** Text encoding of names (`gbk`, `utf-8`, `936`, …). Overrides .cpg, the DBF code page and the XML prolog. */
  encoding?: string;
  codeField?: string;
  nameField?: string;
  levelField?: string;
  /** Topology tolerance in m² (default 1). */
  tolerance?: number;
  profile?: CodeProfile;
  /** Run topology validation and refuse a broken set (default true). */
  validate?: boolean;
  /** The region every grid must lie in, WGS-84 degrees (default CHINA_REGION). */
  region?: Region;
  /** Largest file, and largest total of unzipped members, in bytes (default 256 MiB). */
  maxBytes?: number;
  /** Most features in one file (default 100,000). */
  maxFeatures?: number;
}

export const IMPORT_LIMITS = { maxBytes: 256 * 1024 * 1024, maxFeatures: 100_000 } as const;

export interface ImportResult extends GridFeatureCollection {
  /** The topology report (ok when the import returned). */
  report?: TopologyReport;
  /** What was read: the CRS and where it came from, the text encoding and where it came from. */
  source?: { format: GridFormat; crs: string; encoding: string | null };
  /** What was repaired, one line per feature ("120106001001001: closed 1 ring"). */
  repairs?: string[];
}

// ---------------------------------------------------------------------------------------------------
// Formats and containers

function isZip(buf: Uint8Array): boolean {
  return buf[0] === 0x50 && buf[1] === 0x4b;
}

function sniff(buf: Uint8Array): GridFormat {
  if (isZip(buf)) return 'shp'; // refined to kmz once the members are listed
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x3c) return 'kml'; // "<"
  if (buf[i] === 0x7b) return 'geojson'; // "{"
  throw new DomainError('bad_request', 'cannot tell the format of the grid file: give format geojson, kml, kmz or shp');
}

function formatOfPath(path: string): GridFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.geojson' || ext === '.json') return 'geojson';
  if (ext === '.kml') return 'kml';
  if (ext === '.kmz') return 'kmz';
  if (ext === '.zip' || ext === '.shz') return 'shp';
  return null;
}

/**
 * A zip ends with its central directory (the End Of Central Directory record, "PK\5\6", within the
 * last 64 KiB + 22 bytes). Look before unzipping a truncated or garbage file.
 */
function hasZipDirectory(buf: Uint8Array): boolean {
  const stop = Math.max(0, buf.length - 65557);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf[i] === 0x50 && buf[i + 1] === 0x4b && buf[i + 2] === 0x05 && buf[i + 3] === 0x06) return true;
  }
  return false;
}

/** Unzip (fflate), refusing more than `maxBytes` unzipped in all; macOS resource forks are skipped. */
function unzip(buf: Uint8Array, maxBytes: number, what: string): Record<string, Uint8Array> {
  if (!hasZipDirectory(buf)) throw new DomainError('bad_request', `the ${what} is not a complete zip file`);
  let declared = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(buf, {
      filter: (f) => {
        if (f.name.endsWith('/') || f.name.startsWith('__MACOSX/') || /(^|\/)\._/.test(f.name)) return false;
        declared += f.originalSize;
        if (declared > maxBytes)
          throw new DomainError(
            'bad_request',
            `the ${what} unzips to more than ${fmtBytes(maxBytes)} (the import limit); split the file`,
          );
        return true;
      },
    });
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new DomainError('bad_request', `the ${what} does not unzip: ${(e as Error).message}`);
  }
  const total = Object.values(files).reduce((s, b) => s + b.length, 0);
  if (total > maxBytes)
    throw new DomainError(
      'bad_request',
      `the ${what} unzips to more than ${fmtBytes(maxBytes)} (the import limit); split the file`,
    );
  return files;
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${Math.round(n / 1024)} KiB`;
}

// ---------------------------------------------------------------------------------------------------
// Text encodings

/** A code page name or number as a WHATWG/iconv encoding label; throws bad_request when unknown. */
export function encodingOf(label: string): string {
  const l = label
    .trim()
    .toLowerCase()
    .replace(/^ansi[\s_]*/, '')
    .replace(/^(cp|windows-|ms)(?=\d)/, '');
  const table: Record<string, string> = {
    '936': 'gbk',
    gbk: 'gbk',
    gb2312: 'gbk',
    'gb-2312': 'gbk',
    '54936': 'gb18030',
    gb18030: 'gb18030',
    '950': 'big5',
    big5: 'big5',
    '65001': 'utf-8',
    'utf-8': 'utf-8',
    utf8: 'utf-8',
    '1252': 'windows-1252',
    'iso-8859-1': 'windows-1252',
    latin1: 'windows-1252',
    '949': 'euc-kr',
    '932': 'shift_jis',
  };
  const hit = table[l];
  if (hit) return hit;
  if (iconv.encodingExists(l)) return l;
  throw new DomainError(
    'bad_request',
    `unknown text encoding "${label}": use utf-8 or gbk (936), or a code page name iconv-lite knows`,
  );
}

/** dBASE language driver ids (DBF header byte 29) and their code pages (ESRI's table; 0x57 = "ANSI": none). */
const LDID: Record<number, string> = {
  0x01: 'cp437',
  0x02: 'cp850',
  0x03: 'windows-1252',
  0x4d: 'gbk', // 936 Chinese (PRC, Singapore)
  0x7a: 'gbk', // 936 Chinese (PRC) ANSI
  0x4e: 'euc-kr', // 949
  0x79: 'euc-kr',
  0x4f: 'big5', // 950
  0x78: 'big5',
  0x13: 'shift_jis', // 932
  0x7b: 'shift_jis',
  0xc8: 'windows-1250',
  0xc9: 'windows-1251',
};

function decode(buf: Uint8Array, encoding: string): string {
  return iconv.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), encoding);
}

function isUtf8(buf: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/** The encoding of undeclared text: UTF-8 when it is valid UTF-8, else GBK (GB 18030) when that reads cleanly. */
function guessEncoding(buf: Uint8Array): string {
  if (isUtf8(buf)) return 'utf-8';
  if (!decode(buf, 'gb18030').includes('\uFFFD')) return 'gbk';
  return 'utf-8'; // decodes with U+FFFD: refused by name below
}

// ---------------------------------------------------------------------------------------------------
// Coordinate reference systems

interface Crs {
  /** What to show: "EPSG:4527 (CGCS2000 / 3-degree Gauss-Kruger zone 39)". */
  label: string;
  /** Where it was declared. */
  from: 'option' | '.prj' | 'crs member' | 'none';
  datum?: Datum; // wgs84 / gcj02 / bd09
  /** A proj4 definition to WGS-84, for everything else. */
  def?: string;
}

const require = createRequire(import.meta.url);

/** Geographic CRSs on (or within centimetres of) WGS-84. */
const WGS84_LIKE = new Set([4326, 4490]);

/** Resolve an EPSG code with the definitions of the `epsg-index` package. */
function epsgCrs(n: number, from: Crs['from']): Crs {
  if (WGS84_LIKE.has(n)) return { label: `EPSG:${n}`, from, datum: 'wgs84' };
  let entry: { name?: string; proj4?: string; kind?: string };
  try {
    entry = JSON.parse(readFileSync(require.resolve(`epsg-index/s/${n}.json`), 'utf8'));
  } catch {
    throw new DomainError('bad_request', `EPSG:${n} is not a coordinate system known to the EPSG index`);
  }
  if (!entry.proj4 || !/^CRS-(PROJ|GEOG)CRS/.test(entry.kind ?? 'CRS-PROJCRS'))
    throw new DomainError(
      'bad_request',
      `EPSG:${n} (${entry.name ?? '?'}) is not a 2D coordinate system proj4 can use`,
    );
  return { label: `EPSG:${n} (${entry.name})`, from, def: entry.proj4 };
}

/**
 * A CRS named by the user or by a GeoJSON `crs` member: wgs84 | gcj02 | bd09 | EPSG:n | n |
 * urn:ogc:def:crs:EPSG::n | urn:ogc:def:crs:OGC:1.3:CRS84 | http://www.opengis.net/def/crs/EPSG/0/n.
 */
export function parseCrs(text: string, from: Crs['from'] = 'option'): Crs {
  const t = text.trim();
  const low = t.toLowerCase();
  if (low === 'wgs84' || low === 'gcj02' || low === 'bd09') return { label: low, from, datum: low as Datum };
  if (/crs84$/i.test(t) || low === 'cgcs2000') return { label: t, from, datum: 'wgs84' };
  const m =
    /^(?:epsg:+)?(\d{4,6})$/i.exec(t) ??
    /^urn:ogc:def:crs:epsg:[\d.]*:(\d{4,6})$/i.exec(t) ??
    /\/def\/crs\/epsg\/[\d.]+\/(\d{4,6})$/i.exec(t);
  if (!m)
    throw new DomainError(
      'bad_request',
      `unknown coordinate system "${t}": give wgs84, gcj02, bd09 or an EPSG code such as EPSG:4490 or EPSG:4548`,
    );
  return epsgCrs(Number(m[1]), from);
}

/** The CRS of a .prj (OGC or ESRI WKT). */
function prjCrs(wkt: string): Crs {
  const text = wkt.trim().replace(/^\uFEFF/, '');
  const name = /^\w+\["([^"]*)"/.exec(text)?.[1] ?? 'unnamed';
  if (/^GEOGCS\[/i.test(text) && /WGS[ _]?(19)?84|China[ _]2000|CGCS[ _]?2000/i.test(text))
    return { label: name, from: '.prj', datum: 'wgs84' };
  try {
    proj4(text, 'WGS84'); // parses, or throws
  } catch (e) {
    throw new DomainError(
      'bad_request',
      `the .prj does not describe a coordinate system proj4 can read ("${text.slice(0, 60)}…": ${(e as Error).message}); ` +
        `replace it, or give the CRS with --crs EPSG:…`,
    );
  }
  return { label: name, from: '.prj', def: text };
}

type XY = (x: number, y: number) => [number, number];

function mapPositions(g: Geometry, fn: XY): Geometry {
  const ring = (r: Position[]) => r.map((p) => fn(p[0], p[1]));
  if (g.type === 'Polygon') return { type: 'Polygon', coordinates: g.coordinates.map(ring) };
  if (g.type === 'MultiPolygon') return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(ring)) };
  return g;
}

function transformerOf(crs: Crs): ((g: Geometry) => Geometry) | null {
  if (crs.datum === 'wgs84' || (!crs.datum && !crs.def)) return null;
  if (crs.datum) return (g) => convertGeometry(g, crs.datum!, 'wgs84');
  const p = proj4(crs.def!, 'WGS84');
  return (g) =>
    mapPositions(g, (x, y) => {
      const [lng, lat] = p.forward([x, y]);
      return [lng, lat];
    });
}

function* positions(g: Geometry | null): Generator<Position> {
  if (!g) return;
  if (g.type === 'Polygon') for (const r of g.coordinates) yield* r;
  else if (g.type === 'MultiPolygon') for (const p of g.coordinates) for (const r of p) yield* r;
}

/** Refuse positions that are not degrees, or lie outside the region, saying which and how to fix it. */
function checkCoordinates(features: Feature[], crs: Crs, region: Region): void {
  const fix =
    crs.from === 'none'
      ? 'the file declares no coordinate system (no .prj, no GeoJSON "crs"): give it with --crs EPSG:… (e.g. EPSG:4548 for CGCS2000 Gauss-Krüger 3° CM 117°E, EPSG:4527 for zone 39 with the zone prefix, EPSG:3857), or add the .prj'
      : `they were read as ${crs.label} (from the ${crs.from}): check that it is the file's real coordinate system, or give another with --crs`;
  for (const f of features) {
    for (const p of positions(f.geometry)) {
      const [x, y] = p;
      if (!(Math.abs(x) <= 180 && Math.abs(y) <= 90)) {
        throw new DomainError(
          'bad_request',
          `the coordinates are not degrees (${labelOf(f)} has [${x}, ${y}], which looks like projected metres); ${fix}`,
        );
      }
      if (x < region[0] || x > region[2] || y < region[1] || y > region[3]) {
        const swapped = y >= region[0] && y <= region[2] && x >= region[1] && x <= region[3];
        throw new DomainError(
          'bad_request',
          `the coordinates fall outside the configured region (GRID_REGION lng ${region[0]}…${region[2]}, lat ${region[1]}…${region[3]}): ` +
            `${labelOf(f)} has [${x}, ${y}]` +
            (swapped ? ' (latitude and longitude look swapped: positions must be [lng, lat])' : '') +
            `; ${fix}, or widen GRID_REGION`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing

interface Parsed {
  features: Feature[];
  crs: Crs | null;
  encoding: string | null;
}

function geojsonOf(buf: Uint8Array, encodingOpt: string | null): Parsed {
  const encoding = encodingOpt ?? guessEncoding(buf);
  const text = decode(buf, encoding).replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DomainError('bad_request', `the GeoJSON does not parse: ${(e as Error).message}`);
  }
  const j = json as { type?: string; features?: unknown; crs?: { type?: string; properties?: { name?: unknown } } };
  let crs: Crs | null = null;
  if (j?.crs) {
    const name = j.crs.properties?.name;
    if (typeof name !== 'string')
      throw new DomainError('bad_request', 'the GeoJSON "crs" member has no properties.name: give the CRS with --crs');
    crs = parseCrs(name, 'crs member');
  }
  if (j?.type === 'FeatureCollection' && Array.isArray(j.features))
    return { features: j.features as Feature[], crs, encoding };
  if (j?.type === 'Feature') return { features: [json as Feature], crs, encoding };
  throw new DomainError('bad_request', 'the GeoJSON is not a FeatureCollection');
}

function kmlOf(buf: Uint8Array, encodingOpt: string | null): Parsed {
  const head = Buffer.from(buf.subarray(0, 4096)).toString('latin1');
  const declared = /^\s*(?:\uFEFF|\u00EF\u00BB\u00BF)?<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/i.exec(head)?.[1];
  const encoding = encodingOpt ?? (declared ? encodingOf(declared) : guessEncoding(buf));
  const text = decode(buf, encoding).replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(text))
    throw new DomainError(
      'bad_request',
      'KML with a DOCTYPE is refused (entity declarations can expand without bound); remove the DOCTYPE',
    );
  let doc: Document;
  try {
    doc = new DOMParser().parseFromString(text.replace(/^<\?xml[^>]*\?>/, ''), 'text/xml') as unknown as Document;
  } catch (e) {
    throw new DomainError('bad_request', `the KML does not parse: ${(e as Error).message}`);
  }
  return { features: kmlToGeoJSON(doc).features as Feature[], crs: null, encoding };
}

const EXT = (name: string) => extname(name).toLowerCase();
const BASE = (name: string) => name.slice(0, name.length - extname(name).length);

function shapefileOf(files: Record<string, Uint8Array>, encodingOpt: string | null): Parsed {
  const names = Object.keys(files);
  const layers = [...new Set(names.filter((n) => EXT(n) === '.shp').map(BASE))];
  if (layers.length === 0) {
    const dbf = names.filter((n) => ['.dbf', '.shx', '.prj', '.cpg'].includes(EXT(n)));
    throw new DomainError(
      'bad_request',
      dbf.length
        ? `the Shapefile zip has no .shp member (the geometry): found ${dbf.join(', ')}`
        : `the zip holds no Shapefile (.shp) and no KML: found ${names.join(', ') || 'nothing'}`,
    );
  }
  const member = (base: string, ext: string) => {
    const key = names.find((n) => BASE(n) === base && EXT(n) === ext);
    return key ? files[key] : undefined;
  };
  const features: Feature[] = [];
  let crs: Crs | null = null;
  let encoding: string | null = null;
  for (const base of layers) {
    const shp = member(base, '.shp')!;
    const dbf = member(base, '.dbf');
    if (!dbf)
      throw new DomainError(
        'bad_request',
        `the Shapefile ${base} is missing its .dbf member (the attributes: codes and names): add ${base}.dbf to the zip`,
      );
    const prj = member(base, '.prj');
    const cpg = member(base, '.cpg');
    let enc = encodingOpt;
    if (!enc && cpg) {
      const label = Buffer.from(cpg).toString('latin1').trim();
      if (label) enc = encodingOf(label);
    }
    if (!enc && dbf.length > 29 && LDID[dbf[29]]) enc = LDID[dbf[29]];
    if (!enc) enc = guessEncoding(dbf.subarray(32));
    const layerCrs = prj ? prjCrs(Buffer.from(prj).toString('latin1')) : null;
    if (crs && layerCrs && crs.label !== layerCrs.label)
      throw new DomainError(
        'bad_request',
        `the Shapefile layers have different coordinate systems: import them one by one`,
      );
    crs ??= layerCrs;
    encoding ??= enc;
    let fc: FeatureCollection;
    try {
      fc = combine([parseShp(shp), readDbf(dbf, enc)]) as FeatureCollection;
    } catch (e) {
      if (e instanceof DomainError) throw e;
      throw new DomainError('bad_request', `the Shapefile ${base} does not parse: ${(e as Error).message}`);
    }
    features.push(...fc.features);
  }
  return { features, crs, encoding };
}

/** Rows of a dBASE III table decoded with iconv-lite (any code page); N/F as numbers, L as booleans. */
function readDbf(dbf: Uint8Array, enc: string): Record<string, unknown>[] {
  const dv = new DataView(dbf.buffer, dbf.byteOffset, dbf.byteLength);
  const records = dv.getUint32(4, true);
  const headerLen = dv.getUint16(8, true);
  const recLen = dv.getUint16(10, true);
  const fields: { name: string; type: string; len: number }[] = [];
  for (let off = 32; off + 32 <= headerLen && dbf[off] !== 0x0d; off += 32) {
    fields.push({
      name: decode(dbf.subarray(off, off + 11), enc).replace(/\0.*$/s, ''),
      type: String.fromCharCode(dbf[off + 11]),
      len: dbf[off + 16],
    });
  }
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < records; r++) {
    let off = headerLen + r * recLen + 1; // the deletion flag
    const row: Record<string, unknown> = {};
    for (const f of fields) {
      const raw = decode(dbf.subarray(off, off + f.len), enc)
        .replace(/\0/g, '')
        .trim();
      off += f.len;
      row[f.name] =
        f.type === 'N' || f.type === 'F' || f.type === 'O'
          ? parseFloat(raw)
          : f.type === 'L'
            ? /^[yt]/i.test(raw)
            : raw;
    }
    rows.push(row);
  }
  return rows;
}

/** Read features out of a buffer of the given format (no conversion, no validation). */
export async function parseGrids(buf: Uint8Array, format: GridFormat): Promise<Feature[]> {
  return (await parseAny(buf, format, null, IMPORT_LIMITS.maxBytes)).features;
}

async function parseAny(
  buf: Uint8Array,
  format: GridFormat,
  encoding: string | null,
  maxBytes: number,
): Promise<Parsed & { format: GridFormat }> {
  if (format === 'geojson') return { ...geojsonOf(buf, encoding), format };
  if (format === 'kml') return { ...kmlOf(buf, encoding), format };
  const files = unzip(buf, maxBytes, format === 'kmz' ? 'KMZ' : 'Shapefile zip');
  const kmls = Object.keys(files).filter((n) => EXT(n) === '.kml');
  const hasShp = Object.keys(files).some((n) => EXT(n) === '.shp');
  if (format === 'kmz' || (kmls.length > 0 && !hasShp)) {
    if (kmls.length === 0) throw new DomainError('bad_request', 'the KMZ holds no .kml document');
    const doc = kmls.find((n) => n.toLowerCase() === 'doc.kml') ?? kmls[0];
    return { ...kmlOf(files[doc], encoding), format: 'kmz' };
  }
  return { ...shapefileOf(files, encoding), format };
}

// ---------------------------------------------------------------------------------------------------
// Properties and geometry

function labelOf(f: Feature, i?: number, o: ImportOptions = {}): string {
  const p = (f.properties ?? {}) as Record<string, unknown>;
  const name = pick(p, o.nameField && p[o.nameField] ? o.nameField : undefined, NAME_FIELDS)[1];
  const code = pick(p, o.codeField && p[o.codeField] ? o.codeField : undefined, CODE_FIELDS)[1];
  const n = str(name),
    c = str(code);
  if (n && c) return `${c} ${n}`;
  if (n) return `"${n}"`;
  if (c) return c;
  // Neither found: the first values that say which feature it is.
  const shown = Object.entries(p)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .slice(0, 2)
    .map(([k, v]) => `${k}=${String(v)}`);
  const at = i === undefined ? 'a feature' : `feature ${i + 1}`;
  return shown.length ? `${at} (${shown.join(', ')})` : `${at} (no properties)`;
}

function propsFound(f: Feature): string {
  const keys = Object.keys(f.properties ?? {});
  return keys.length ? keys.join(', ') : 'none';
}

const CODE_FIELDS = [
  'code',
  'CODE',
  'Code',
  'adcode',
  'ADCODE',
  'Adcode',
  'gridcode',
  'GRIDCODE',
  'grid_code',
  'GRID_CODE',
  'WGBM', // 网格编码 in pinyin initials, as Chinese GIS tables name it
  'wgbm',
  'BM',
  '网格编码',
  '编码',
  '代码',
];
const NAME_FIELDS = [
  'name',
  'NAME',
  'Name',
  'MC',
  'mc',
  'WGMC', // 网格名称
  'wgmc',
  'gridname',
  'GRIDNAME',
  'grid_name',
  'GRID_NAME',
  '网格名称',
  '名称',
];
const LEVEL_FIELDS = ['level', 'LEVEL', 'Level', 'JB', '级别', '层级'];
const LEVEL_WORDS: Record<string, number> = { district: 1, street: 2, community: 3, grid: 4 };

function pick(
  p: Record<string, unknown>,
  explicit: string | undefined,
  candidates: string[],
): [string | null, unknown] {
  if (explicit) return [explicit, p[explicit]];
  for (const k of candidates) if (p[k] !== undefined && p[k] !== null && p[k] !== '') return [k, p[k]];
  return [null, undefined];
}

function str(v: unknown): string {
  return typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
}

/** Properties put into the shape the platform uses; the code decides level, parent and kind when absent. */
function normalise(f: Feature, i: number, profile: CodeProfile, o: ImportOptions): Feature {
  const p = { ...(f.properties ?? {}) } as Record<string, unknown>;
  for (const [opt, field] of [
    ['--code-field', o.codeField],
    ['--name-field', o.nameField],
    ['--level-field', o.levelField],
  ] as const) {
    if (field && !(field in p))
      throw new DomainError(
        'bad_request',
        `${labelOf(f, i, o)} has no property "${field}" (${opt}); properties found: ${propsFound(f)}`,
      );
  }
  const [codeKey, rawCode] = pick(p, o.codeField, CODE_FIELDS);
  const code = str(rawCode);
  if (!code)
    throw new DomainError(
      'bad_request',
      `${labelOf(f, i, o)} has no grid code (looked for ${o.codeField ?? CODE_FIELDS.join('/')}); properties found: ${propsFound(f)}. Name the code column with --code-field`,
    );
  const level = levelOf(code, profile);
  const [nameKey, rawName] = pick(p, o.nameField, NAME_FIELDS);
  const [levelKey, rawLevel] = pick(p, o.levelField, LEVEL_FIELDS);
  const props: Record<string, unknown> = { ...p };
  for (const k of [codeKey, nameKey, levelKey]) if (k) delete props[k];
  props.code = code;
  let numLevel = NaN;
  if (typeof rawLevel === 'string' && LEVEL_WORDS[rawLevel.trim().toLowerCase()])
    numLevel = LEVEL_WORDS[rawLevel.trim().toLowerCase()];
  else if (rawLevel !== undefined && rawLevel !== null && rawLevel !== '') numLevel = Number(rawLevel);
  props.level = Number.isFinite(numLevel) ? numLevel : level || null;
  props.name = str(rawName) || code;
  // DataV: parent is {adcode: 120100}; a district (level 1) is a root here whatever its parent says.
  const rawParent = p.parent as unknown;
  const parentValue =
    rawParent && typeof rawParent === 'object' ? str((rawParent as { adcode?: unknown }).adcode) : str(rawParent);
  props.parent = level === 1 ? null : parentValue || (level > 1 ? code.slice(0, profile.lengths[level - 2]) : null);
  props.kind = typeof p.kind === 'string' && p.kind ? p.kind : level ? LEVEL_KINDS[level - 1] : null;
  if (typeof props.households === 'string' && props.households !== '' && Number.isFinite(Number(props.households)))
    props.households = Number(props.households);
  if (props.sample === 'true' || props.sample === 'T') props.sample = true;
  if (props.sample === 'false' || props.sample === 'F') props.sample = false;
  return { type: 'Feature', properties: props, geometry: f.geometry };
}

/**
 * A polygonal geometry, cleaned: polygons taken out of a GeometryCollection (other members dropped),
 * rings closed, repeated consecutive positions dropped, positions cut to [x, y]. Throws, naming the
 * feature, when there is no polygon.
 */
function cleanGeometry(f: Feature, label: string, repairs: string[]): Polygon | MultiPolygon {
  const g = f.geometry;
  if (!g)
    throw new DomainError(
      'bad_request',
      `${label} has no geometry (null): draw its boundary, or remove the feature from the file`,
    );
  let polys: Position[][][];
  if (g.type === 'Polygon') polys = [g.coordinates];
  else if (g.type === 'MultiPolygon') polys = g.coordinates;
  else if (g.type === 'GeometryCollection') {
    polys = g.geometries.flatMap((x) =>
      x.type === 'Polygon' ? [x.coordinates] : x.type === 'MultiPolygon' ? x.coordinates : [],
    );
    if (polys.length === 0)
      throw new DomainError('bad_request', `${label} is a GeometryCollection without a polygon: a grid is an area`);
    if (g.geometries.length !== polys.length) repairs.push(`${label}: took the polygons out of a GeometryCollection`);
  } else throw new DomainError('bad_request', `${label} is a ${g.type}, not a polygon: a grid is an area`);
  let closed = 0,
    dropped = 0;
  const out = polys.map((rings) =>
    rings.map((ring) => {
      if (!Array.isArray(ring)) return ring;
      const r: Position[] = [];
      for (const p of ring) {
        if (!Array.isArray(p)) return ring; // left to the topology check
        const q = [p[0], p[1]];
        const last = r[r.length - 1];
        if (last && last[0] === q[0] && last[1] === q[1]) {
          dropped++;
          continue;
        }
        r.push(q);
      }
      if (r.length > 1 && (r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1])) {
        r.push([r[0][0], r[0][1]]);
        closed++;
      }
      return r;
    }),
  );
  if (closed) repairs.push(`${label}: closed ${closed} ring${closed > 1 ? 's' : ''}`);
  if (dropped) repairs.push(`${label}: dropped ${dropped} repeated vert${dropped > 1 ? 'ices' : 'ex'}`);
  return out.length === 1 && g.type === 'Polygon'
    ? { type: 'Polygon', coordinates: out[0] }
    : { type: 'MultiPolygon', coordinates: out };
}

/** Refuse text that decoded to U+FFFD, naming the feature, the field and how to fix it. */
function checkText(features: Feature[], encoding: string | null): void {
  features.forEach((f, i) => {
    for (const [k, v] of Object.entries(f.properties ?? {})) {
      if (typeof v === 'string' && v.includes('\uFFFD'))
        throw new DomainError(
          'bad_request',
          `${labelOf(f, i)}: property "${k}" does not decode as ${encoding ?? 'utf-8'} ("${v}"): ` +
            `give the file's encoding with --encoding (gbk, utf-8, …) or a .cpg`,
        );
    }
  });
}

/** Codes that do not fit the profile: say the lengths found, and the profile they fit, if any. */
function checkCodes(features: Feature[], profile: CodeProfile): void {
  const bad = features.filter((f) => levelOf(String(f.properties?.code), profile) === 0);
  if (bad.length === 0) return;
  const lengths = [...new Set(bad.map((f) => String(f.properties?.code).length))].sort((a, b) => a - b);
  const fits = Object.values(CODE_PROFILES).filter(
    (p) => p.id !== profile.id && features.every((f) => levelOf(String(f.properties?.code), p) !== 0),
  );
  const lay = (p: CodeProfile) => `${p.id} (${p.segments.join('+')} = ${p.lengths[3]} digits for a base grid)`;
  throw new DomainError(
    'invalid_code',
    `${bad.length} code(s) of ${lengths.join('/')} digits do not fit the code profile ${lay(profile)}: ` +
      bad
        .slice(0, 3)
        .map((f) => labelOf(f))
        .join(', ') +
      (bad.length > 3 ? ', …' : '') +
      (fits.length
        ? `. They fit ${fits.map(lay).join(' and ')}: choose it with --profile ${fits[0].id} (or GRID_CODE_PROFILE=${fits[0].id})`
        : `. Choose the profile that matches the file with --profile gb15|gb14|stat20 (or GRID_CODE_PROFILE)`),
  );
}

/**
 * Import a grid set from a file path or its bytes. Returns the features in WGS-84 with normalised
 * properties; throws DomainError (bad_request, invalid_code; 'topology_invalid'
 * with the report as details) when the file cannot be imported as it is.
 */
export async function importGrids(input: string | Uint8Array, options: ImportOptions = {}): Promise<ImportResult> {
  const profile = options.profile ?? DEFAULT_PROFILE;
  const maxBytes = options.maxBytes ?? IMPORT_LIMITS.maxBytes;
  const maxFeatures = options.maxFeatures ?? IMPORT_LIMITS.maxFeatures;
  let buf: Uint8Array;
  let format = options.format ?? null;
  if (typeof input === 'string') {
    try {
      buf = await readFile(input);
    } catch (e) {
      throw new DomainError(
        'not_found',
        `cannot read ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    format ??= formatOfPath(input);
  } else buf = input;
  if (buf.length > maxBytes)
    throw new DomainError('bad_request', `the file is larger than ${fmtBytes(maxBytes)} (the import limit)`);
  format ??= sniff(buf);
  if (!GRID_FORMATS.includes(format)) throw new DomainError('bad_request', `unknown grid format "${String(format)}"`);
  const optCrs = options.crs ? parseCrs(options.crs, 'option') : null;
  const optEncoding = options.encoding ? encodingOf(options.encoding) : null;

  const parsed = await parseAny(buf, format, optEncoding, maxBytes);
  if (parsed.features.length > maxFeatures)
    throw new DomainError(
      'bad_request',
      `the file holds ${parsed.features.length} features, more than the import limit of ${maxFeatures}`,
    );
  checkText(parsed.features, parsed.encoding);
  const crs: Crs = optCrs ?? parsed.crs ?? { label: 'none declared (read as WGS-84)', from: 'none' };
  const repairs: string[] = [];
  const toWgs = transformerOf(crs);
  const features = parsed.features.map((f, i) => {
    const n = normalise(f, i, profile, options);
    const geometry = cleanGeometry(f, labelOf(n, i, options), repairs);
    return { ...n, geometry: toWgs ? (toWgs(geometry) as Polygon | MultiPolygon) : geometry };
  });
  checkCoordinates(features, crs, options.region ?? CHINA_REGION);
  checkCodes(features, profile);
  const fc: ImportResult = { type: 'FeatureCollection', features: features as GridFeature[] };
  Object.defineProperty(fc, 'source', {
    value: { format: parsed.format, crs: crs.label, encoding: parsed.encoding },
    enumerable: false,
  });
  Object.defineProperty(fc, 'repairs', { value: repairs, enumerable: false });
  if (options.validate !== false) {
    const report = validateTopology(features as never, { tolerance: options.tolerance, profile });
    if (!report.ok) {
      const first = report.problems
        .slice(0, 3)
        .map((p) => p.message)
        .join('; ');
      throw new DomainError(
        'topology_invalid',
        `the grid set has ${report.problems.length} topology problem(s): ${first}${report.problems.length > 3 ? '; …' : ''}`,
        report,
      );
    }
    Object.defineProperty(fc, 'report', { value: report, enumerable: false });
  }
  return fc;
}

export interface ExportOptions {
  /** Name of the KML document / the Shapefile layer (default "grids"). */
  name?: string;
  /** Text encoding of a Shapefile's DBF: `utf-8` (default) or `gbk` (older desktop GIS). */
  encoding?: 'utf-8' | 'gbk';
}

/**
 * Export features: GeoJSON → string, KML → string, Shapefile → Buffer (a zip of .shp/.shx/.dbf/.prj/.cpg,
 * WGS-84). The DBF's text is UTF-8 by default or GBK; the .cpg names it (`UTF-8` / `GBK`) and the DBF
 * header's language driver id says it too (0x4D for GBK, code page 936; 0 for UTF-8, which has none).
 * DBF field names are cut to 10 characters by the format; ours (code, level, name, parent, kind,
 * households, sample) fit.
 */
export async function exportGrids(
  features: readonly Feature[] | FeatureCollection,
  format: GridFormat,
  options: ExportOptions = {},
): Promise<Buffer | string> {
  const list = Array.isArray(features) ? features : (features as FeatureCollection).features;
  const fc: FeatureCollection = { type: 'FeatureCollection', features: list as Feature[] };
  const name = options.name ?? 'grids';
  if (format === 'geojson') return JSON.stringify(fc) + '\n';
  if (format === 'kml') return tokml(fc, { documentName: name, name: 'name' });
  if (format === 'shp') {
    const gbk = options.encoding === 'gbk';
    // null is not a DBF value: empty strings keep the columns' types. The DBF writer (the `dbf`
    // package) stores one byte per UTF-16 unit, so text goes in as its encoded bytes, one char each.
    const dbfText = (v: unknown) =>
      typeof v === 'string' ? (gbk ? iconv.encode(v, 'gbk') : Buffer.from(v, 'utf8')).toString('latin1') : v;
    const flat: FeatureCollection = {
      type: 'FeatureCollection',
      features: fc.features.map((f) => ({
        ...f,
        // One layer: shp-write names the Polygon and the MultiPolygon layers alike (both POLYGON), so a
        // mixed set would lose one of them; every grid goes in as a MultiPolygon.
        geometry:
          f.geometry?.type === 'Polygon' ? { type: 'MultiPolygon', coordinates: [f.geometry.coordinates] } : f.geometry,
        properties: Object.fromEntries(
          Object.entries(f.properties ?? {}).map(([k, v]) => [k, v === null || v === undefined ? '' : dbfText(v)]),
        ),
      })),
    };
    const zipped = await shpwrite.zip<'nodebuffer'>(flat, {
      outputType: 'nodebuffer',
      compression: 'DEFLATE',
      folder: name,
      filename: name,
      types: { polygon: name, multipolygon: name },
    });
    // Add the .cpg and the DBF's language driver id.
    const files = unzipSync(zipped);
    for (const [k, v] of Object.entries(files)) {
      if (EXT(k) === '.dbf') {
        v[29] = gbk ? 0x4d : 0;
        files[`${BASE(k)}.cpg`] = new TextEncoder().encode(gbk ? 'GBK' : 'UTF-8');
      }
    }
    return Buffer.from(zipSync(files, { level: 6 }));
  }
  throw new DomainError('bad_request', `unknown grid format "${String(format)}"`);
}
