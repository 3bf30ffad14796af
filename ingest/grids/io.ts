/**
 * Grid set import and export: GeoJSON, zipped Shapefile (shpjs / @mapbox/shp-write) and KML
 * (@tmcw/togeojson with @xmldom/xmldom / tokml). Import converts GCJ-02 or BD-09 coordinates to
 * WGS-84 when told (`crs`), normalises the properties (code, level, name, parent, kind) and refuses a
 * set whose topology is broken: DomainError('topology_invalid', …, report).
 *
 * The CLI (`npx onegrid grids import|export`) and the API call these; nothing here touches the store.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon } from 'geojson';
import shpwrite from '@mapbox/shp-write';
import { kml as kmlToGeoJSON } from '@tmcw/togeojson';
import { DOMParser } from '@xmldom/xmldom';
import shp from 'shpjs';
import tokml from 'tokml';
import {
  type CodeProfile,
  DEFAULT_PROFILE,
  DomainError,
  LEVEL_KINDS,
  convertGeometry,
  levelOf,
  validateTopology,
  type Datum,
  type TopologyReport,
} from '../../core/index.ts';

export type GridFormat = 'geojson' | 'kml' | 'shp';
export const GRID_FORMATS: readonly GridFormat[] = ['geojson', 'kml', 'shp'];

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
  /** Default: from the file extension, else sniffed from the content. */
  format?: GridFormat;
  /** The datum of the input coordinates (default wgs84); converted to WGS-84. */
  crs?: Datum;
  /** Topology tolerance in m² (default 1). */
  tolerance?: number;
  profile?: CodeProfile;
  /** Run topology validation and refuse a broken set (default true). */
  validate?: boolean;
}

export interface ImportResult extends GridFeatureCollection {
  /** The topology report (ok when the import returned). */
  report?: TopologyReport;
}

function sniff(buf: Uint8Array): GridFormat {
  if (buf[0] === 0x50 && buf[1] === 0x4b) return 'shp'; // "PK": a zip
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] === 0x3c) return 'kml'; // "<"
  if (buf[i] === 0x7b) return 'geojson'; // "{"
  throw new DomainError('bad_request', 'cannot tell the format of the grid file: give format geojson, kml or shp');
}

function formatOfPath(path: string): GridFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.geojson' || ext === '.json') return 'geojson';
  if (ext === '.kml') return 'kml';
  if (ext === '.zip' || ext === '.shz') return 'shp';
  return null;
}

/**
 * A zip ends with its central directory (the End Of Central Directory record, "PK\5\6", within the
 * last 64 KiB + 22 bytes). shpjs never settles on a truncated or garbage zip, so look first.
 */
function hasZipDirectory(buf: Uint8Array): boolean {
  const stop = Math.max(0, buf.length - 65557);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf[i] === 0x50 && buf[i + 1] === 0x4b && buf[i + 2] === 0x05 && buf[i + 3] === 0x06) return true;
  }
  return false;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A KML MultiGeometry of polygons arrives as a GeometryCollection: make it the MultiPolygon it is. */
function polygonal(g: Geometry | null): Geometry | null {
  if (g?.type !== 'GeometryCollection') return g;
  const parts = g.geometries.flatMap((x) =>
    x.type === 'Polygon' ? [x.coordinates] : x.type === 'MultiPolygon' ? x.coordinates : [null],
  );
  if (parts.length === 0 || parts.some((p) => p === null)) return g;
  return { type: 'MultiPolygon', coordinates: parts as Polygon['coordinates'][] };
}

/** Read features out of a buffer of the given format (no conversion, no validation). */
export async function parseGrids(buf: Uint8Array, format: GridFormat): Promise<Feature[]> {
  if (format === 'geojson') {
    let json: unknown;
    try {
      json = JSON.parse(
        Buffer.from(buf)
          .toString('utf8')
          .replace(/^\uFEFF/, ''),
      );
    } catch (e) {
      throw new DomainError('bad_request', `the GeoJSON does not parse: ${(e as Error).message}`);
    }
    const j = json as { type?: string; features?: unknown };
    if (j?.type === 'FeatureCollection' && Array.isArray(j.features)) return j.features as Feature[];
    if (j?.type === 'Feature') return [json as Feature];
    throw new DomainError('bad_request', 'the GeoJSON is not a FeatureCollection');
  }
  if (format === 'kml') {
    const text = Buffer.from(buf).toString('utf8');
    let doc: Document;
    try {
      doc = new DOMParser().parseFromString(text, 'text/xml') as unknown as Document;
    } catch (e) {
      throw new DomainError('bad_request', `the KML does not parse: ${(e as Error).message}`);
    }
    return kmlToGeoJSON(doc).features as Feature[];
  }
  if (!hasZipDirectory(buf)) throw new DomainError('bad_request', 'the Shapefile zip is not a complete zip file');
  let out;
  try {
    out = await withTimeout(shp(buf), 60_000, 'reading the Shapefile zip took too long');
  } catch (e) {
    throw new DomainError('bad_request', `the Shapefile zip does not parse: ${(e as Error).message}`);
  }
  return (Array.isArray(out) ? out : [out]).flatMap((fc) => fc.features as Feature[]);
}

/** Properties put into the shape the platform uses; the code decides level, parent and kind when absent. */
function normalise(f: Feature, profile: CodeProfile): Feature {
  const p = { ...(f.properties ?? {}) } as Record<string, unknown>;
  const rawCode = p.code ?? p.CODE ?? p.Code;
  const code = typeof rawCode === 'number' ? String(rawCode) : typeof rawCode === 'string' ? rawCode.trim() : '';
  const level = levelOf(code, profile);
  const props: Record<string, unknown> = { ...p, code };
  delete props.CODE;
  delete props.Code;
  const numLevel = p.level === undefined || p.level === null || p.level === '' ? NaN : Number(p.level);
  props.level = Number.isFinite(numLevel) ? numLevel : level || null;
  props.name = p.name === undefined || p.name === null ? code : String(p.name);
  const parent = p.parent === undefined || p.parent === null || p.parent === '' ? null : String(p.parent);
  props.parent = parent ?? (level > 1 ? code.slice(0, profile.lengths[level - 2]) : null);
  props.kind = typeof p.kind === 'string' && p.kind ? p.kind : level ? LEVEL_KINDS[level - 1] : null;
  for (const k of ['households']) {
    if (typeof props[k] === 'string' && props[k] !== '' && Number.isFinite(Number(props[k])))
      props[k] = Number(props[k]);
  }
  if (props.sample === 'true' || props.sample === 'T') props.sample = true;
  if (props.sample === 'false' || props.sample === 'F') props.sample = false;
  return { type: 'Feature', properties: props, geometry: polygonal(f.geometry) as Geometry };
}

/**
 * Import a grid set from a file path or its bytes. Returns the features in WGS-84 with normalised
 * properties; throws DomainError 'topology_invalid' (details: the report) on a broken set.
 */
export async function importGrids(input: string | Uint8Array, options: ImportOptions = {}): Promise<ImportResult> {
  const profile = options.profile ?? DEFAULT_PROFILE;
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
  format ??= sniff(buf);
  if (!GRID_FORMATS.includes(format)) throw new DomainError('bad_request', `unknown grid format "${String(format)}"`);
  const crs = options.crs ?? 'wgs84';
  if (!['wgs84', 'gcj02', 'bd09'].includes(crs))
    throw new DomainError('bad_request', `unknown crs "${String(crs)}": wgs84, gcj02 or bd09`);

  let features = (await parseGrids(buf, format)).map((f) => normalise(f, profile));
  if (crs !== 'wgs84') {
    features = features.map((f) =>
      f.geometry ? { ...f, geometry: convertGeometry(f.geometry as Geometry, crs, 'wgs84') } : f,
    );
  }
  const fc: ImportResult = { type: 'FeatureCollection', features: features as GridFeature[] };
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
}

/**
 * Export features: GeoJSON → string, KML → string, Shapefile → Buffer (a zip of .shp/.shx/.dbf/.prj,
 * WGS-84). DBF field names are cut to 10 characters by the format; ours (code, level, name, parent,
 * kind, households, sample) fit.
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
    // null is not a DBF value: empty strings keep the columns' types. The DBF writer (the `dbf`
    // package) stores one byte per UTF-16 unit, so text goes in as its UTF-8 bytes, one char each:
    // Chinese names survive, and readers that default to UTF-8 (shpjs, QGIS ≥ 3) read them back.
    const dbfText = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'utf8').toString('latin1') : v);
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
    const out = await shpwrite.zip<'nodebuffer'>(flat, {
      outputType: 'nodebuffer',
      compression: 'DEFLATE',
      folder: name,
      filename: name,
      types: { polygon: name, multipolygon: name },
    });
    return out;
  }
  throw new DomainError('bad_request', `unknown grid format "${String(format)}"`);
}
