/** Versioned grids: one named query per method. Geometry is GeoJSON, [lng, lat] WGS-84. */
import type { Polygon, MultiPolygon } from 'geojson';
import type { Queryable } from './db.ts';

export interface GridRow {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  households: number | null;
  props: Record<string, unknown>;
  geometry: Polygon | MultiPolygon;
}

/** A stored grid as a GeoJSON Feature with the properties of CONTRACT.md `/api/grids` (and exports). */
export function gridFeature(r: GridRow) {
  return {
    type: 'Feature' as const,
    geometry: r.geometry,
    properties: {
      code: r.code,
      level: r.level,
      name: r.name,
      parent: r.parent,
      kind: r.kind,
      households: r.households,
    },
  };
}

export interface GridInput extends Omit<GridRow, 'props' | 'households'> {
  households?: number | null;
  props?: Record<string, unknown>;
}

export async function createGridVersion(
  q: Queryable,
  label: string,
  status: 'draft' | 'published',
  createdBy: string | null,
): Promise<number> {
  const r = await q.query<{ id: number }>(
    `INSERT INTO grid_versions (label, status, created_by, published_at)
     VALUES ($1, $2, $3, CASE WHEN $2 = 'published' THEN now() END) RETURNING id`,
    [label, status, createdBy],
  );
  return r.rows[0].id;
}

/** Insert many grids in one statement per 500 rows (unnest of parallel arrays). */
export async function insertGrids(q: Queryable, versionId: number, grids: GridInput[]): Promise<void> {
  for (let i = 0; i < grids.length; i += 500) {
    const part = grids.slice(i, i + 500);
    await q.query(
      `INSERT INTO grids (version_id, code, level, name, parent, kind, households, props, geometry)
       SELECT $1, * FROM unnest($2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::int[],
                                $8::jsonb[], $9::jsonb[])`,
      [
        versionId,
        part.map((g) => g.code),
        part.map((g) => g.level),
        part.map((g) => g.name),
        part.map((g) => g.parent),
        part.map((g) => g.kind),
        part.map((g) => g.households ?? null),
        part.map((g) => JSON.stringify(g.props ?? {})),
        part.map((g) => JSON.stringify(g.geometry)),
      ],
    );
  }
}

export async function publishedVersion(q: Queryable): Promise<number | null> {
  const r = await q.query<{ id: number }>(`SELECT id FROM grid_versions WHERE status = 'published'`);
  return r.rows[0]?.id ?? null;
}

export async function gridsOfVersion(
  q: Queryable,
  versionId: number,
  filter: { level?: number; parent?: string } = {},
): Promise<GridRow[]> {
  const r = await q.query<GridRow>(
    `SELECT code, level, name, parent, kind, households, props, geometry
       FROM grids
      WHERE version_id = $1
        AND ($2::smallint IS NULL OR level = $2)
        AND ($3::text IS NULL OR parent = $3)
      ORDER BY code`,
    [versionId, filter.level ?? null, filter.parent ?? null],
  );
  return r.rows;
}
