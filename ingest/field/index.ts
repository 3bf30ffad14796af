/**
 * The grid worker's app (网格通, `/m`), server side: idempotent outbox actions (reports, case actions, on-site
 * checks, patrol track batches), resumable photo uploads, task lists and patrol figures.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import type { CaseService } from '../cases/service.ts';
import type { GridService } from '../grids/service.ts';
import { FieldActions } from './actions.ts';
import type { TrackDeps } from './tracks.ts';

export { FieldActions, CHECK_RADIUS_M, FIELD_KINDS, type FieldAnswer } from './actions.ts';
export * from './uploads.ts';
export { tasksOf, type Tasks } from './tasks.ts';
export {
  patrolSummary,
  realTrips,
  localDay,
  MAX_FIXES_PER_BATCH,
  type PatrolSummary,
  type RealTrip,
} from './tracks.ts';

export class FieldService {
  readonly actions: FieldActions;
  readonly tracks: TrackDeps & { gridName(code: string): string };

  constructor(
    readonly cases: CaseService,
    grids: Pick<GridService, 'join' | 'get'>,
    now: () => number = Date.now,
  ) {
    const gridAt = (lng: number, lat: number): string | null => {
      try {
        return grids.join(lng, lat).grid ?? null;
      } catch {
        return null;
      }
    };
    this.tracks = {
      db: cases.db,
      gridAt,
      gridGeometry: (code: string): Polygon | MultiPolygon | null => grids.get(code)?.geometry ?? null,
      gridName: (code: string) => grids.get(code)?.name ?? '',
    };
    this.actions = new FieldActions({ ...this.tracks, cases, now });
  }
}
