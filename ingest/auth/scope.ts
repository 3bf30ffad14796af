/**
 * Read scope: the ONE rule deciding what a signed-in user may see, used by every API route, the `/live`
 * hub and the video relay (CONTRACT.md "A user never sees or changes anything outside its scope";
 * GB/T 22239-2019 8.1.4.2 access control by least privilege).
 *
 * - admin: everything.
 * - a user with a grid scope (`scope_grid`, a grid-code prefix: street, community or base grid): rows whose
 *   grid code starts with it. A row without a grid (a device outside every grid, a case outside the map)
 *   is outside every grid scope.
 * - a department handler (role `department`, or any user with `scope_department`): the cases assigned or
 *   whistled to its department (core's `inScope`), the devices and cameras linked to those cases (the
 *   cameras on the case, the device that raised it) and the events of those devices — nothing
 *   district-wide: no heatmap of the district, no patrols, no other camera's video. A grid scope, when it
 *   also has one, narrows that further. Grid boundaries it sees are those framing its cases' grids.
 *   A department user without a department sees nothing.
 * - any other role without a grid scope (a district-level analyst, dispatcher or viewer): the district.
 *
 * Query filters never widen a scope: an empty or blank filter is "absent" (see `gridFilter`).
 */
import { DomainError } from '../../core/errors.ts';
import type { Queryable } from '../store/db.ts';

export interface ScopeUser {
  role: string;
  scopeGrid: string | null;
  scopeDepartment: string | null;
}

export interface Scope {
  /** Sees everything (admin, or a district-level user without grid or department scope). */
  readonly all: boolean;
  /** Sees nothing (a department user without a department). */
  readonly none: boolean;
  /** Grid-code prefix rows must start with; null = no grid limit. */
  readonly grids: string | null;
  /** Only what is linked to this department's cases; null = no department limit. */
  readonly department: string | null;
}

export const ALL: Scope = Object.freeze({ all: true, none: false, grids: null, department: null });
export const NONE: Scope = Object.freeze({ all: false, none: true, grids: null, department: null });

/** The read scope of a user (see the module comment for the rule). */
export function scopeOf(u: ScopeUser): Scope {
  if (u.role === 'admin') return ALL;
  const grids = u.scopeGrid?.trim() ? u.scopeGrid.trim() : null;
  const department = u.scopeDepartment?.trim() ? u.scopeDepartment.trim() : null;
  if (u.role === 'department' && !department) return NONE;
  if (!grids && !department) return ALL;
  return Object.freeze({ all: false, none: false, grids, department });
}

/**
 * Whether data keyed only by a grid code (heatmap points, patrol tracks, a grid's indicators) is visible.
 * Department scopes see no grid-keyed data: it is district-wide by nature, not linked to their cases.
 */
export function gridVisible(s: Scope, code: string | null | undefined): boolean {
  if (s.all) return true;
  if (s.none || s.department) return false;
  return !!code && code.startsWith(s.grids!);
}

/**
 * A requested grid-code prefix narrowed to the scope: the prefix to filter by (null = no filter needed),
 * or `false` when the request lies outside the scope (answer an empty list).
 */
export function narrowGrid(s: Scope, requested: string | null): string | null | false {
  const mine = s.grids;
  if (!requested) return mine;
  if (!mine || requested.startsWith(mine)) return requested;
  if (mine.startsWith(requested)) return mine;
  return false;
}

/**
 * A query filter read from the URL: trimmed; absent, empty or blank → null (never "match everything");
 * otherwise it must match `pattern`, else 400 `validation_failed` naming the parameter.
 */
export function queryFilter(params: URLSearchParams, name: string, pattern: RegExp, what: string): string | null {
  const raw = params.get(name);
  if (raw === null) return null;
  const v = raw.trim();
  if (v === '') return null;
  if (!pattern.test(v)) throw new DomainError('validation_failed', `${name} must be ${what}`, { field: name });
  return v;
}

/** `grid` (or another name) as a grid-code prefix filter: 1–20 digits; blank = absent. */
export function gridFilter(params: URLSearchParams, name = 'grid'): string | null {
  return queryFilter(params, name, /^\d{1,20}$/, 'a grid code (prefix of digits)');
}

/** A SQL condition and its parameters; `$n` placeholders numbered from the `from` given to the builder. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** The cases of a department scope (assigned or whistled), as SQL over `cases` aliased `c`. */
function departmentCases(s: Scope, p: (v: unknown) => string): string {
  const dept = p(s.department);
  const grid = s.grids ? ` AND c.grid LIKE ${p(s.grids)} || '%'` : '';
  return `(c.department = ${dept} OR ${dept} = ANY (c.whistled))${grid}`;
}

/**
 * Device ids linked to a department's cases: the cameras linked to each case, the device that reported it
 * (reporter.deviceId) and the device in a sensor case's rule key (`rule:deviceId`, ingest/cases/rules-runner.ts).
 */
function linkedDeviceIds(s: Scope, p: (v: unknown) => string): string {
  const cases = departmentCases(s, p);
  return `(SELECT jsonb_array_elements_text(c.doc -> 'linkedCameras') FROM cases c WHERE ${cases}
           UNION SELECT c.reporter ->> 'deviceId' FROM cases c WHERE ${cases} AND c.reporter ->> 'deviceId' IS NOT NULL
           UNION SELECT regexp_replace(c.rule_key, '^.*:', '') FROM cases c WHERE ${cases} AND c.rule_key IS NOT NULL)`;
}

function builder(from: number): { params: unknown[]; p: (v: unknown) => string } {
  const params: unknown[] = [];
  return {
    params,
    p: (v) => {
      params.push(v);
      return `$${from + params.length - 1}`;
    },
  };
}

/**
 * SQL condition on a `devices` row: `idCol` / `gridCol` name its id and grid columns (qualify them when
 * the query joins). Parameters are numbered from `from`.
 */
export function deviceCondition(s: Scope, from: number, idCol = 'id', gridCol = 'grid'): SqlCondition {
  if (s.all) return { sql: 'TRUE', params: [] };
  if (s.none) return { sql: 'FALSE', params: [] };
  const { params, p } = builder(from);
  const parts: string[] = [];
  if (s.grids) parts.push(`${gridCol} LIKE ${p(s.grids)} || '%'`);
  if (s.department) parts.push(`${idCol} IN ${linkedDeviceIds(s, p)}`);
  return { sql: `(${parts.join(' AND ')})`, params };
}

/** SQL condition on an `events` row (grid scope on its grid; department scope: events of linked devices). */
export function eventCondition(s: Scope, from: number, deviceCol = 'device_id', gridCol = 'grid'): SqlCondition {
  return deviceCondition(s, from, deviceCol, gridCol);
}

/** Whether the device (or camera) with this id is visible; unknown ids are not. */
export async function deviceVisible(db: Queryable, s: Scope, id: string): Promise<boolean> {
  if (s.none) return false;
  const cond = deviceCondition(s, 2);
  const r = await db.query<{ ok: number }>(`SELECT 1 AS ok FROM devices WHERE id = $1 AND ${cond.sql}`, [
    id,
    ...cond.params,
  ]);
  return r.rows.length > 0;
}

/** Grid codes of the department scope's cases (to frame its map); [] for other scopes. */
export async function departmentGridCodes(db: Queryable, s: Scope): Promise<string[]> {
  if (!s.department || s.none) return [];
  const { params, p } = builder(1);
  const r = await db.query<{ grid: string }>(
    `SELECT DISTINCT c.grid FROM cases c WHERE ${departmentCases(s, p)} AND c.grid IS NOT NULL`,
    params,
  );
  return r.rows.map((x) => x.grid);
}

/** A stable key for caching per scope (same key = same visible set). */
export function scopeKey(s: Scope): string {
  return s.all ? '*' : s.none ? '-' : `${s.grids ?? ''}|${s.department ?? ''}`;
}
