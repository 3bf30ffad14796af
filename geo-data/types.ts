/** Record types of the sample district files in geo-data/sample/. Coordinates are [lng, lat], WGS-84. */
import type { FeatureCollection, Polygon, MultiPolygon } from 'geojson';

export type GridLevel = 1 | 2 | 3 | 4;
export type GridKind = 'district' | 'street' | 'community' | 'grid';

/** Properties of every feature in grids.geojson, in this key order. */
export interface GridFeatureProps {
  /** 6 (district), 9 (street), 12 (community) or 15 (base grid) digits. */
  code: string;
  level: GridLevel;
  name: string;
  /** The parent's code; null for the district. */
  parent: string | null;
  kind: GridKind;
  /** Base grids: a few hundred; other levels: the sum of their children. */
  households: number;
  /** Always true: this is synthetic sample data, not a real district. */
  sample: true;
}

export type GridCollection = FeatureCollection<Polygon | MultiPolygon, GridFeatureProps>;

export type DeviceKind = 'camera' | 'smoke' | 'heat' | 'gas' | 'water_level' | 'manhole' | 'gateway';

export interface FleetDevice {
  id: string;
  kind: DeviceKind;
  name: string;
  /** [lng, lat], WGS-84. */
  location: [number, number];
  /** The 15-digit base grid the location lies in. */
  grid: string;
  /** Cameras only. */
  source?: 'eagle-eye' | 'skynet';
  /** Cameras only: a placeholder stream address. */
  rtsp?: string;
  /** Smoke and heat detectors: the id of the community gateway they report through. */
  gateway?: string;
  /** Expected reporting interval in seconds (heartbeat loss is 3 × this). */
  intervalS: number;
}

export interface Department {
  id: string;
  name: string;
  nameEn: string;
  categories: string[];
}

export type SampleRole = 'analyst' | 'commander' | 'dispatcher' | 'department' | 'gridworker' | 'viewer';

export interface SampleUser {
  username: string;
  role: SampleRole;
  name: string;
  scope: { grid: string | null; department: string | null };
  /** Commanders only. */
  level?: 'district' | 'street' | 'community';
}

export interface District {
  density: number;
  seed: number;
  grids: GridCollection;
  fleet: FleetDevice[];
  departments: Department[];
  users: SampleUser[];
}
