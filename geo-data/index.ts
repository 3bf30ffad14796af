/**
 * geo-data: the synthetic sample district (120106, 示范区（样例数据）) and its generator.
 * The loaders read the committed files in geo-data/sample/; generateDistrict builds the same data (or a
 * denser set for benchmarks) in memory. Coordinates are [lng, lat], WGS-84.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_DIR } from './generate.ts';
import type { Department, FleetDevice, GridCollection, SampleUser } from './types.ts';

export { generateDistrict, SAMPLE_SEED, SAMPLE_DIR, type GenerateOptions } from './generate.ts';
export { sampleFiles, gridsText, fleetText, departmentsText, usersText } from './serialize.ts';
export { DEPARTMENTS } from './catalog.ts';
export { DISTRICT_CODE, DISTRICT_NAME } from './names.ts';
export { STREET_COUNT, COMMUNITY_COUNT, BASE_GRID_COUNT, CENTRE } from './district.ts';
export { FLEET_COUNTS } from './fleet.ts';
export type {
  District,
  GridCollection,
  GridFeatureProps,
  GridKind,
  GridLevel,
  FleetDevice,
  DeviceKind,
  Department,
  SampleUser,
  SampleRole,
} from './types.ts';

function readJson<T>(name: string): T {
  return JSON.parse(readFileSync(join(SAMPLE_DIR, name), 'utf8')) as T;
}

/** All four levels (district, streets, communities, base grids) as one FeatureCollection. */
export function loadSampleGrids(): GridCollection {
  return readJson<GridCollection>('grids.geojson');
}

export function loadSampleFleet(): FleetDevice[] {
  return readJson<FleetDevice[]>('fleet.json');
}

export function loadDepartments(): Department[] {
  return readJson<Department[]>('departments.json');
}

export function loadSampleUsers(): SampleUser[] {
  return readJson<SampleUser[]>('users.json');
}
