/**
 * The published grid version in memory: the join index (core) and the GeoJSON per level for the API.
 * Republishing builds the new index aside and swaps it; joins in flight keep the old one.
 */
import type { FeatureCollection, Polygon, MultiPolygon } from 'geojson';
import { DEFAULT_PROFILE, GridJoiner, buildGridIndex, type GridCodes } from '../../core/index.ts';
import type { Queryable } from '../store/db.ts';
import { gridFeature, gridsOfVersion, publishedVersion, type GridRow } from '../store/grids.ts';
import { profileOfVersion } from './publish.ts';

export interface GridProps {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  households: number | null;
}

export type GridFC = FeatureCollection<Polygon | MultiPolygon, GridProps>;

export class GridService {
  readonly joiner = new GridJoiner();
  version: number | null = null;
  private rows: GridRow[] = [];
  private byCode = new Map<string, GridRow>();
  private cache = new Map<string, string>();

  constructor(private readonly db: Queryable) {}

  /** Load the published version and build its index. */
  async load(): Promise<void> {
    const v = await publishedVersion(this.db);
    const rows = v === null ? [] : await gridsOfVersion(this.db, v);
    // The version's own code profile (gb15, gb14, stat20): base-grid codes are checked against it.
    const profile = v === null ? DEFAULT_PROFILE : (await profileOfVersion(this.db, v)).profile;
    const index = buildGridIndex(
      rows.filter((r) => r.level === 4).map((r) => ({ code: r.code, geometry: r.geometry })),
      { profile },
    );
    this.rows = rows;
    this.byCode = new Map(rows.map((r) => [r.code, r]));
    this.cache.clear();
    this.version = v;
    this.joiner.replace(index);
  }

  /** Reload when another process published a new version (CLI import, another replica). */
  async refreshIfChanged(): Promise<boolean> {
    const v = await publishedVersion(this.db);
    if (v === this.version) return false;
    await this.load();
    return true;
  }

  join(lng: number, lat: number): GridCodes {
    return this.joiner.join(lng, lat);
  }

  get(code: string): GridRow | undefined {
    return this.byCode.get(code);
  }

  get count(): number {
    return this.rows.length;
  }

  /** Serialised FeatureCollection for a level and/or parent, cached per version. */
  geojson(filter: { level?: number; parent?: string; scope?: string | null } = {}): string {
    const key = `${filter.level ?? ''}|${filter.parent ?? ''}|${filter.scope ?? ''}`;
    let s = this.cache.get(key);
    if (s === undefined) {
      const scope = filter.scope ?? null;
      const fc: GridFC = {
        type: 'FeatureCollection',
        features: this.rows
          .filter(
            (r) =>
              (filter.level === undefined || r.level === filter.level) &&
              (filter.parent === undefined || r.parent === filter.parent) &&
              // A scoped user sees its own subtree and the ancestors that frame it.
              (scope === null || r.code.startsWith(scope) || scope.startsWith(r.code)),
          )
          .map(gridFeature),
      };
      s = JSON.stringify(fc);
      if (this.cache.size > 256) this.cache.clear();
      this.cache.set(key, s);
    }
    return s;
  }
}
