/**
 * Stable text forms of the sample files: fixed key order (objects are built in that order), compact
 * coordinates, one feature or device per line so that diffs stay readable, a final newline.
 */
import type { Department, FleetDevice, GridCollection, SampleUser } from './types.ts';

export function gridsText(grids: GridCollection): string {
  return `{"type":"FeatureCollection","features":[\n${grids.features.map((f) => JSON.stringify(f)).join(',\n')}\n]}\n`;
}

export function fleetText(fleet: FleetDevice[]): string {
  return `[\n${fleet.map((d) => JSON.stringify(d)).join(',\n')}\n]\n`;
}

export function departmentsText(departments: Department[]): string {
  return `${JSON.stringify(departments, null, 2)}\n`;
}

export function usersText(users: SampleUser[]): string {
  return `${JSON.stringify(users, null, 2)}\n`;
}

/** File name → contents, as committed in geo-data/sample/. */
export function sampleFiles(d: {
  grids: GridCollection;
  fleet: FleetDevice[];
  departments: Department[];
  users: SampleUser[];
}): Record<string, string> {
  return {
    'grids.geojson': gridsText(d.grids),
    'fleet.json': fleetText(d.fleet),
    'departments.json': departmentsText(d.departments),
    'users.json': usersText(d.users),
  };
}
