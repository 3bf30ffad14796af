/**
 * The sample fleet: cameras, smart-fire detectors with their community gateways, and environmental sensors.
 * Every device sits at an interior point of one lattice cell, so the base grid it lies in is known by
 * construction; it is then checked against an exact point-in-polygon lookup over the base-grid polygons.
 */
import Flatbush from 'flatbush';
import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Polygon } from 'geojson';
import { pointInCell, type DistrictGeometry } from './district.ts';
import { shuffle, substream } from './prng.ts';
import type { DeviceKind, FleetDevice } from './types.ts';

const S_FLEET = 40;
export const FLEET_COUNTS = {
  eagleEye: 60,
  skynet: 400,
  smartFireCommunities: 40,
  smokePerCommunity: 35,
  heatPerCommunity: 15,
  waterLevel: 100,
  gas: 100,
  manhole: 100,
} as const;

/** Reporting intervals in seconds by kind (heartbeat loss is raised after 3 × this). */
const INTERVAL_S: Record<DeviceKind, number> = {
  camera: 60,
  gateway: 60,
  smoke: 300,
  heat: 300,
  gas: 300,
  water_level: 600,
  manhole: 600,
};

export function buildFleet(
  geo: DistrictGeometry,
  gridCodes: string[],
  communityNames: string[],
  streetNames: string[],
  seed: number,
): FleetDevice[] {
  const rand = substream(seed, S_FLEET);
  const inside: number[] = [];
  const byCommunity: number[][] = communityNames.map(() => []);
  const byStreet: number[][] = streetNames.map(() => []);
  for (let c = 0; c < geo.grid.length; c++) {
    if (geo.grid[c] < 0) continue;
    inside.push(c);
    byCommunity[geo.community[c]].push(c);
    byStreet[geo.street[c]].push(c);
  }
  const pick = (cells: number[]) => cells[Math.floor(rand() * cells.length)];
  const num = (n: number) => String(n).padStart(4, '0');
  const devices: FleetDevice[] = [];
  const place = (cell: number) => {
    const loc = pointInCell(geo.lattice, cell, 0.3 + 0.4 * rand(), 0.3 + 0.4 * rand());
    return { location: loc, grid: gridCodes[geo.grid[cell]] };
  };
  const camera = (id: string, name: string, source: 'eagle-eye' | 'skynet', cell: number) => {
    const { location, grid } = place(cell);
    devices.push({
      id,
      kind: 'camera',
      name,
      location,
      grid,
      source,
      rtsp: `rtsp://127.0.0.1:8554/${id}`,
      intervalS: INTERVAL_S.camera,
    });
  };
  const plain = (id: string, kind: DeviceKind, name: string, cell: number, gateway?: string) => {
    const { location, grid } = place(cell);
    devices.push({ id, kind, name, location, grid, ...(gateway ? { gateway } : {}), intervalS: INTERVAL_S[kind] });
  };

  // 鹰眼 high-point cameras: spread evenly over the streets.
  const perStreet = FLEET_COUNTS.eagleEye / streetNames.length;
  for (let k = 0; k < FLEET_COUNTS.eagleEye; k++) {
    const s = Math.floor(k / perStreet);
    camera(`cam-e-${num(k + 1)}`, `${streetNames[s]}鹰眼高点${(k % perStreet) + 1}号`, 'eagle-eye', pick(byStreet[s]));
  }
  // 天网 street cameras: anywhere in the district.
  for (let k = 0; k < FLEET_COUNTS.skynet; k++) {
    const cell = pick(inside);
    camera(`cam-s-${num(k + 1)}`, `天网${communityNames[geo.community[cell]]}${num(k + 1)}`, 'skynet', cell);
  }
  // 智慧消防社区: 40 communities, each a gateway with its smoke and heat detectors.
  const fireCommunities = shuffle(
    communityNames.map((_, k) => k),
    rand,
  )
    .slice(0, FLEET_COUNTS.smartFireCommunities)
    .sort((a, b) => a - b);
  let smk = 0;
  let heat = 0;
  fireCommunities.forEach((cm, g) => {
    const gw = `gw-${num(g + 1)}`;
    plain(gw, 'gateway', `${communityNames[cm]}智慧消防网关`, pick(byCommunity[cm]));
    for (let k = 0; k < FLEET_COUNTS.smokePerCommunity; k++) {
      plain(`smk-${num(++smk)}`, 'smoke', `${communityNames[cm]}烟感${k + 1}号`, pick(byCommunity[cm]), gw);
    }
    for (let k = 0; k < FLEET_COUNTS.heatPerCommunity; k++) {
      plain(`heat-${num(++heat)}`, 'heat', `${communityNames[cm]}温感${k + 1}号`, pick(byCommunity[cm]), gw);
    }
  });
  // Environmental sensors.
  const env: [string, DeviceKind, string, number][] = [
    ['wl', 'water_level', '积水监测', FLEET_COUNTS.waterLevel],
    ['gas', 'gas', '燃气监测', FLEET_COUNTS.gas],
    ['mh', 'manhole', '井盖监测', FLEET_COUNTS.manhole],
  ];
  for (const [prefix, kind, label, count] of env) {
    for (let k = 0; k < count; k++) {
      const cell = pick(inside);
      plain(`${prefix}-${num(k + 1)}`, kind, `${communityNames[geo.community[cell]]}${label}${k + 1}号`, cell);
    }
  }
  checkFleetGrids(devices, geo.gridRings, gridCodes);
  return devices;
}

/** Throws unless every device lies strictly inside exactly one base grid, the one it names. */
export function checkFleetGrids(devices: FleetDevice[], rings: number[][][], codes: string[]): void {
  const index = new Flatbush(rings.length);
  for (const ring of rings) {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const [x, y] of ring) {
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
    }
    index.add(x0, y0, x1, y1);
  }
  index.finish();
  for (const d of devices) {
    const [x, y] = d.location;
    const hits = index.search(x, y, x, y).filter((k) =>
      booleanPointInPolygon(d.location, { type: 'Polygon', coordinates: [rings[k]] } as Polygon, {
        ignoreBoundary: true,
      }),
    );
    if (hits.length !== 1 || codes[hits[0]] !== d.grid) {
      throw new Error(
        `device ${d.id} at ${x},${y}: grid ${d.grid} but point-in-polygon gives ${hits.map((k) => codes[k]).join(',') || 'none'}`,
      );
    }
  }
}
