/**
 * What the wall reads from the API, on the client side. Wire types come from their one source (core and
 * ingest); this file only re-exports them as types and adds the shapes of endpoints that return plain JSON.
 */
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
export type { Case, CaseState, CaseSource, Priority, Whistle } from '../../../core/cases/types.ts';
import type { DeviceRow } from '../../../ingest/store/devices.ts';
export type { TrailEntry } from '../../../ingest/cases/port.ts';

export interface GridProps {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  households?: number | null;
}
export type GridFeature = Feature<Polygon | MultiPolygon, GridProps>;
export type GridFC = FeatureCollection<Polygon | MultiPolygon, GridProps>;

/** GET /api/devices (rtsp replaced by hasVideo). */
/** `liveness`: expected reporting interval and where it comes from (core/rules/liveness.ts). */
export type Device = Omit<DeviceRow, 'rtsp' | 'createdAt'> & {
  hasVideo: boolean;
  createdAt?: string;
  liveness?: { intervalS: number; source: 'device' | 'kind' | 'gateway'; gateway: string | null };
};

/** GET /api/stats (CONTRACT.md; fields are optional until the stats route lands). */
export interface Indicator {
  due?: number;
  closed?: number;
  closedOnTime?: number;
  evaluated?: number;
  closeRate?: number | null;
  onTimeCloseRate?: number | null;
  satisfactionRate?: number | null;
  overdue?: number;
}
export interface Stats extends Indicator {
  reworkRate?: number | null;
  avgHandleMinutes?: number | null;
  casesToday?: number;
  byCategory?: Record<string, Indicator & { count?: number; total?: number }>;
  bySource?: Record<string, Indicator & { count?: number; total?: number }>;
  byDepartment?: Record<string, Indicator>;
  byState?: Record<string, number>;
  devices?: { online: number; total: number; onlineRatio: number | null };
}

/**
 * GET /api/patrols: today's REAL tracks from grid workers' phones (`simulated: false`, labelled with `name`) and,
 * in demo mode only, SIMULATED ones (`simulated: true`). The server's own types (type-only: nothing of ingest
 * is bundled).
 */
import type { PatrolTrip as SimulatedTrip } from '../../../ingest/demo/patrols.ts';
import type { RealTrip } from '../../../ingest/field/tracks.ts';
export type PatrolTrip = (SimulatedTrip & { simulated: true; name?: undefined }) | RealTrip;
export interface PatrolTracks {
  /** true while the simulated fleet runs (demo mode). */
  simulated: boolean;
  /** Epoch ms the timestamps count from. */
  t0: number;
  beforeS: number;
  afterS: number;
  trips: PatrolTrip[];
}

/** A heat point: [lng, lat, weight]. */
export type HeatPoint = [number, number, number];

/** Messages of WS /live (ingest/live/hub.ts). */
export type LiveMsg =
  | { type: 'hello'; seq: number }
  | { type: 'resync'; seq: number }
  | { type: 'case'; seq: number; event?: string; action?: string; case: import('../../../core/cases/types.ts').Case }
  | { type: 'device'; seq: number; id: string; online: boolean; lastSeen?: string | number | null }
  | { type: 'kpi' | 'grid' | 'camera' | 'event' | 'patrol'; seq: number; [k: string]: unknown };

/** The JSON error envelope of the API. */
export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}
