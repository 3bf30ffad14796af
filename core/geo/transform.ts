/**
 * China's map datums: WGS-84 (GPS; what OneGrid stores), GCJ-02 (国测局, the "Mars" offset that
 * Chinese web maps such as AMap/Tencent use) and BD-09 (Baidu's further offset of GCJ-02).
 *
 * The forward formulas are the published ones (the leaked Krasovsky-ellipsoid GCJ-02 polynomial,
 * a = 6378245, ee = 0.00669342162296594323, as in eviltransform / wandergis/coordtransform; Baidu's
 * x_pi rotation for BD-09). The inverses have no closed form: they iterate the forward transform
 * (fixed point w ← w − (f(w) − g)), which converges to better than 1e-9° in a few steps, against
 * 1e-5° for the one-step "subtract the offset" inverse most libraries ship.
 *
 * GCJ-02 applies only inside China (a coarse bbox, as every implementation does); outside it the
 * transform is the identity. Coordinates are [lng, lat].
 */

export type Datum = 'wgs84' | 'gcj02' | 'bd09';
export const DATUMS: readonly Datum[] = ['wgs84', 'gcj02', 'bd09'];

type LngLat = [number, number];

const A = 6378245.0;
// Krasovsky 1940 eccentricity squared, 0.00669342162296594323 as published (this is the same double).
const EE = 0.006693421622965943;
const PI = Math.PI;
const X_PI = (PI * 3000.0) / 180.0;

/** The coarse bounding box inside which GCJ-02 applies (the usual one, not the real border). */
export function outOfChina(lng: number, lat: number): boolean {
  return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function transformLat(x: number, y: number): number {
  let ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
  ret += ((160.0 * Math.sin((y / 12.0) * PI) + 320 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
  return ret;
}

function transformLng(x: number, y: number): number {
  let ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  ret += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  ret += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
  ret += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
  return ret;
}

export function wgs84ToGcj02(lng: number, lat: number): LngLat {
  if (outOfChina(lng, lat)) return [lng, lat];
  let dLat = transformLat(lng - 105.0, lat - 35.0);
  let dLng = transformLng(lng - 105.0, lat - 35.0);
  const radLat = (lat / 180.0) * PI;
  let magic = Math.sin(radLat);
  magic = 1 - EE * magic * magic;
  const sqrtMagic = Math.sqrt(magic);
  dLat = (dLat * 180.0) / (((A * (1 - EE)) / (magic * sqrtMagic)) * PI);
  dLng = (dLng * 180.0) / ((A / sqrtMagic) * Math.cos(radLat) * PI);
  return [lng + dLng, lat + dLat];
}

export function gcj02ToBd09(lng: number, lat: number): LngLat {
  const z = Math.sqrt(lng * lng + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const theta = Math.atan2(lat, lng) + 0.000003 * Math.cos(lng * X_PI);
  return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
}

/** Invert `forward` at (lng, lat) by fixed-point iteration, starting from the one-step inverse. */
function invert(forward: (lng: number, lat: number) => LngLat, lng: number, lat: number): LngLat {
  let x = lng,
    y = lat;
  for (let i = 0; i < 30; i++) {
    const [fx, fy] = forward(x, y);
    const dx = fx - lng,
      dy = fy - lat;
    x -= dx;
    y -= dy;
    if (Math.abs(dx) < 1e-12 && Math.abs(dy) < 1e-12) break;
  }
  return [x, y];
}

export function gcj02ToWgs84(lng: number, lat: number): LngLat {
  if (outOfChina(lng, lat)) return [lng, lat];
  return invert(wgs84ToGcj02, lng, lat);
}

export function bd09ToGcj02(lng: number, lat: number): LngLat {
  // Baidu's published inverse as the start, then refined.
  const x = lng - 0.0065,
    y = lat - 0.006;
  const z = Math.sqrt(x * x + y * y) - 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) - 0.000003 * Math.cos(x * X_PI);
  let gx = z * Math.cos(theta),
    gy = z * Math.sin(theta);
  for (let i = 0; i < 10; i++) {
    const [bx, by] = gcj02ToBd09(gx, gy);
    const dx = bx - lng,
      dy = by - lat;
    gx -= dx;
    gy -= dy;
    if (Math.abs(dx) < 1e-12 && Math.abs(dy) < 1e-12) break;
  }
  return [gx, gy];
}

export function wgs84ToBd09(lng: number, lat: number): LngLat {
  const [x, y] = wgs84ToGcj02(lng, lat);
  return gcj02ToBd09(x, y);
}

export function bd09ToWgs84(lng: number, lat: number): LngLat {
  const [x, y] = bd09ToGcj02(lng, lat);
  return gcj02ToWgs84(x, y);
}

/** A point converted between datums. */
export function convertPoint(lng: number, lat: number, from: Datum, to: Datum): LngLat {
  if (from === to) return [lng, lat];
  let w: LngLat;
  if (from === 'wgs84') w = [lng, lat];
  else if (from === 'gcj02') w = gcj02ToWgs84(lng, lat);
  else w = bd09ToWgs84(lng, lat);
  if (to === 'wgs84') return w;
  if (to === 'gcj02') return wgs84ToGcj02(w[0], w[1]);
  return wgs84ToBd09(w[0], w[1]);
}

export function toWgs84(pos: readonly number[], from: Datum): number[] {
  const [x, y] = convertPoint(pos[0], pos[1], from, 'wgs84');
  return pos.length > 2 ? [x, y, ...pos.slice(2)] : [x, y];
}

type Coords = number[] | Coords[];

function mapCoords(c: Coords, fn: (p: number[]) => number[]): Coords {
  if (c.length > 0 && typeof c[0] === 'number') return fn(c as number[]);
  return (c as Coords[]).map((x) => mapCoords(x, fn));
}

/** Any GeoJSON geometry (or GeometryCollection) with its positions mapped by `fn`; a new object. */
export function mapGeometry<G extends { type: string }>(geom: G, fn: (p: number[]) => number[]): G {
  const g = geom as unknown as { type: string; coordinates?: Coords; geometries?: { type: string }[] };
  if (g.type === 'GeometryCollection') {
    return { ...geom, geometries: (g.geometries ?? []).map((x) => mapGeometry(x, fn)) };
  }
  if (!g.coordinates) return geom;
  return { ...geom, coordinates: mapCoords(g.coordinates, fn) };
}

/** A geometry converted between datums (positions keep any third value, e.g. altitude). */
export function convertGeometry<G extends { type: string }>(geom: G, from: Datum, to: Datum = 'wgs84'): G {
  if (from === to) return geom;
  return mapGeometry(geom, (p) => {
    const [x, y] = convertPoint(p[0], p[1], from, to);
    return p.length > 2 ? [x, y, ...p.slice(2)] : [x, y];
  });
}
