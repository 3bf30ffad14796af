/**
 * Great-circle distance for radius checks (fusion, linked cameras). Coordinates are [lng, lat] in
 * degrees (WGS-84); the sphere has the IUGG mean Earth radius, which is within 0.5 % of the ellipsoid —
 * plenty for "within 200 m".
 */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Haversine distance in metres between two [lng, lat] points. */
export function haversineM(a: readonly [number, number], b: readonly [number, number]): number {
  const dLat = (b[1] - a[1]) * RAD;
  const dLng = (b[0] - a[0]) * RAD;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * RAD) * Math.cos(b[1] * RAD) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}

/** Whether b lies within `radiusM` metres of a. */
export function withinM(a: readonly [number, number], b: readonly [number, number], radiusM: number): boolean {
  return haversineM(a, b) <= radiusM;
}
