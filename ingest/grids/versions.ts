/**
 * Grid versions: list them, store an imported set as a new version (with its code profile), and the
 * difference between two versions (added, removed and changed grids). Used by the CLI
 * (`grids list|import|diff`) and the studio's drafts API.
 */
import type { MultiPolygon, Polygon } from 'geojson';
import { DomainError, type CodeProfile } from '../../core/index.ts';
import type { Queryable } from '../store/db.ts';
import { createGridVersion, gridsOfVersion, insertGrids, type GridRow } from '../store/grids.ts';
import type { GridFeature } from './io.ts';

export interface VersionInfo {
  id: number;
  label: string;
  status: 'draft' | 'published' | 'archived';
  profile: string;
  createdBy: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  publishedAt: string | null;
  /** Grids in the version, by level (1 district … 4 base grid). */
  counts: Record<number, number>;
}

export async function listVersions(q: Queryable): Promise<VersionInfo[]> {
  const r = await q.query<{
    id: number;
    label: string;
    status: VersionInfo['status'];
    profile: string;
    created_by: string | null;
    created_at: Date | string;
    published_at: Date | string | null;
    counts: Record<string, number> | null;
  }>(
    `SELECT v.id, v.label, v.status, v.profile, v.created_by, v.created_at, v.published_at,
            (SELECT jsonb_object_agg(level, n) FROM (SELECT level, count(*)::int AS n FROM grids g
              WHERE g.version_id = v.id GROUP BY level) c) AS counts
       FROM grid_versions v ORDER BY v.id`,
  );
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return r.rows.map((v) => ({
    id: v.id,
    label: v.label,
    status: v.status,
    profile: v.profile,
    createdBy: v.created_by,
    createdAt: iso(v.created_at)!,
    publishedAt: iso(v.published_at),
    counts: Object.fromEntries(Object.entries(v.counts ?? {}).map(([k, n]) => [Number(k), n])),
  }));
}

/** Store features as a new draft version made with `profile`; returns its id. */
export async function storeVersion(
  q: Queryable,
  features: readonly GridFeature[],
  label: string,
  createdBy: string | null,
  profile: CodeProfile,
): Promise<number> {
  const v = await createGridVersion(q, label, 'draft', createdBy);
  await q.query(`UPDATE grid_versions SET profile = $2 WHERE id = $1`, [v, profile.id]);
  await insertGrids(
    q,
    v,
    features.map((f) => ({
      code: f.properties.code,
      level: f.properties.level,
      name: f.properties.name,
      parent: f.properties.parent,
      kind: f.properties.kind,
      households: typeof f.properties.households === 'number' ? f.properties.households : null,
      props: typeof f.properties.sample === 'boolean' ? { sample: f.properties.sample } : {},
      geometry: f.geometry,
    })),
  );
  return v;
}

export interface GridChange {
  code: string;
  level: number;
  name: string;
  /** What differs for a changed grid: geometry, name, parent, households. */
  fields?: string[];
}

export interface VersionDiff {
  from: number;
  to: number;
  added: GridChange[];
  removed: GridChange[];
  changed: GridChange[];
  unchanged: number;
}

function sameGeometry(a: Polygon | MultiPolygon, b: Polygon | MultiPolygon): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The grids of `a` and `b` compared by code. */
export function diffRows(a: readonly GridRow[], b: readonly GridRow[]): Omit<VersionDiff, 'from' | 'to'> {
  const before = new Map(a.map((g) => [g.code, g]));
  const after = new Map(b.map((g) => [g.code, g]));
  const out: Omit<VersionDiff, 'from' | 'to'> = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const g of b) {
    const o = before.get(g.code);
    if (!o) {
      out.added.push({ code: g.code, level: g.level, name: g.name });
      continue;
    }
    const fields: string[] = [];
    if (!sameGeometry(o.geometry, g.geometry)) fields.push('geometry');
    if (o.name !== g.name) fields.push('name');
    if (o.parent !== g.parent) fields.push('parent');
    if ((o.households ?? null) !== (g.households ?? null)) fields.push('households');
    if (fields.length) out.changed.push({ code: g.code, level: g.level, name: g.name, fields });
    else out.unchanged++;
  }
  for (const g of a) if (!after.has(g.code)) out.removed.push({ code: g.code, level: g.level, name: g.name });
  return out;
}

export async function diffVersions(q: Queryable, from: number, to: number): Promise<VersionDiff> {
  const known = await q.query<{ id: number }>(`SELECT id FROM grid_versions WHERE id = ANY($1::int[])`, [[from, to]]);
  for (const v of [from, to])
    if (!known.rows.some((r) => r.id === v)) throw new DomainError('not_found', `grid version ${v} does not exist`);
  const [a, b] = [await gridsOfVersion(q, from), await gridsOfVersion(q, to)];
  return { from, to, ...diffRows(a, b) };
}
