/**
 * Grid codes (网格编码) and the four-level hierarchy they carry.
 *
 * A base-grid code is a string of decimal digits whose prefixes are the codes of its ancestors:
 * district (区县, the 6-digit administrative division code of GB/T 2260) → street (街道/乡镇) →
 * community (社区/村) → base grid (基础网格/单元网格). A join therefore only ever finds the base grid; the
 * three upper codes are prefixes of it.
 *
 * Profiles (segment lengths, in digits, for the four levels):
 *
 * | id      | layout         | digits | source |
 * |---------|----------------|--------|--------|
 * | `gb15`  | 6 + 3 + 3 + 3  | 15     | Beijing DB11/T 2157-2023 基础网格编码: division + street + community + 3-digit sequence. The default. |
 * | `gb14`  | 6 + 3 + 3 + 2  | 14     | GB/T 30428.1-2013 (ex CJ/T 213) 数字化城市管理 单元网格: division + street + community + 2-digit sequence. |
 * | `stat20`| 6 + 3 + 3 + 8  | 20     | the 12-digit statistical division code (统计用区划代码: division + township + village committee) followed by an 8-digit grid number, as some provincial grid platforms use. Chosen by us; say so when exchanging data. |
 *
 * Codes of the upper levels are the bare prefixes (a street code of `gb15` has 9 digits), never
 * zero-padded to full length. A segment below the district may not be all zeros (000 means "none").
 */
import { DomainError } from '../errors.ts';

export type GridLevel = 1 | 2 | 3 | 4;
export type GridKind = 'district' | 'street' | 'community' | 'grid';

export const LEVEL_KINDS: readonly GridKind[] = ['district', 'street', 'community', 'grid'];

export interface CodeProfile {
  readonly id: string;
  /** Digits of each level's own segment: district, street, community, base grid. */
  readonly segments: readonly [number, number, number, number];
  /** Cumulative code length at each level (derived). */
  readonly lengths: readonly [number, number, number, number];
}

function profile(id: string, segments: [number, number, number, number]): CodeProfile {
  const lengths: [number, number, number, number] = [0, 0, 0, 0];
  let n = 0;
  for (let i = 0; i < 4; i++) lengths[i] = n += segments[i];
  return Object.freeze({ id, segments: Object.freeze(segments), lengths: Object.freeze(lengths) });
}

export const GB15: CodeProfile = profile('gb15', [6, 3, 3, 3]);
export const GB14: CodeProfile = profile('gb14', [6, 3, 3, 2]);
export const STAT20: CodeProfile = profile('stat20', [6, 3, 3, 8]);
export const CODE_PROFILES: Readonly<Record<string, CodeProfile>> = Object.freeze({
  gb15: GB15,
  gb14: GB14,
  stat20: STAT20,
});
export const DEFAULT_PROFILE = GB15;

/** A profile by id, or a custom one from its four segment lengths. */
export function codeProfile(idOrSegments: string | readonly number[] = 'gb15'): CodeProfile {
  if (typeof idOrSegments === 'string') {
    const p = CODE_PROFILES[idOrSegments];
    if (!p) throw new DomainError('invalid_code', `unknown code profile "${idOrSegments}"`);
    return p;
  }
  const s = idOrSegments;
  if (s.length !== 4 || s.some((n) => !Number.isInteger(n) || n < 1 || n > 12)) {
    throw new DomainError('invalid_code', 'a code profile needs four segment lengths of 1..12 digits');
  }
  return profile(`custom${s.join('-')}`, [s[0], s[1], s[2], s[3]]);
}

export interface ParsedCode {
  code: string;
  level: GridLevel;
  kind: GridKind;
  /** The codes of this code and its ancestors, district first (length = level). */
  path: string[];
  /** The segments, district first (length = level). */
  segments: string[];
}

const DIGITS = /^[0-9]+$/;

/** The level of a code (1 district … 4 base grid), or 0 when it is not a valid code of the profile. */
export function levelOf(code: string, p: CodeProfile = DEFAULT_PROFILE): GridLevel | 0 {
  if (typeof code !== 'string' || !DIGITS.test(code)) return 0;
  const level = p.lengths.indexOf(code.length) + 1;
  if (level === 0) return 0;
  if (/^0+$/.test(code.slice(0, p.lengths[0]))) return 0;
  for (let i = 1; i < level; i++) {
    const seg = code.slice(p.lengths[i - 1], p.lengths[i]);
    if (/^0+$/.test(seg)) return 0;
  }
  return level as GridLevel;
}

export function isValidCode(code: string, p: CodeProfile = DEFAULT_PROFILE, level?: GridLevel): boolean {
  const l = levelOf(code, p);
  return l !== 0 && (level === undefined || l === level);
}

/** Parse a code; throws DomainError `invalid_code` when it does not fit the profile. */
export function parseCode(code: string, p: CodeProfile = DEFAULT_PROFILE): ParsedCode {
  const level = levelOf(code, p);
  if (level === 0) {
    throw new DomainError(
      'invalid_code',
      `"${String(code)}" is not a ${p.id} grid code (digits ${p.lengths.join('/')}, no all-zero segment)`,
    );
  }
  const path: string[] = [];
  const segments: string[] = [];
  for (let i = 0; i < level; i++) {
    path.push(code.slice(0, p.lengths[i]));
    segments.push(code.slice(i === 0 ? 0 : p.lengths[i - 1], p.lengths[i]));
  }
  return { code, level, kind: LEVEL_KINDS[level - 1], path, segments };
}

/** Throws `invalid_code` unless `code` is a valid code (of `level`, when given). */
export function assertCode(code: string, p: CodeProfile = DEFAULT_PROFILE, level?: GridLevel): string {
  const parsed = parseCode(code, p);
  if (level !== undefined && parsed.level !== level) {
    throw new DomainError(
      'invalid_code',
      `"${code}" is a ${parsed.kind} code, expected a ${LEVEL_KINDS[level - 1]} code`,
    );
  }
  return code;
}

/**
 * Format a code from its segments (numbers are zero-padded to the segment width), district first.
 * `formatCode(['120106', 1, 2, 7])` → `'120106001002007'`.
 */
export function formatCode(segments: readonly (string | number)[], p: CodeProfile = DEFAULT_PROFILE): string {
  if (segments.length < 1 || segments.length > 4) {
    throw new DomainError('invalid_code', 'a code has 1 to 4 segments');
  }
  let out = '';
  segments.forEach((s, i) => {
    const width = p.segments[i];
    const str = typeof s === 'number' ? (Number.isInteger(s) && s >= 0 ? String(s).padStart(width, '0') : '') : s;
    if (str.length !== width || !DIGITS.test(str)) {
      throw new DomainError('invalid_code', `segment ${i + 1} "${String(s)}" does not fit ${width} digits`);
    }
    out += str;
  });
  return assertCode(out, p);
}

/** The parent code (one level up), or null for a district. Throws on an invalid code. */
export function parentOf(code: string, p: CodeProfile = DEFAULT_PROFILE): string | null {
  const { level } = parseCode(code, p);
  return level === 1 ? null : code.slice(0, p.lengths[level - 2]);
}

/** The ancestors of a code, district first, not including the code itself. */
export function ancestorsOf(code: string, p: CodeProfile = DEFAULT_PROFILE): string[] {
  return parseCode(code, p).path.slice(0, -1);
}

/** The code of the ancestor at `level` (or the code itself at its own level); null when deeper. */
export function ancestorAt(code: string, level: GridLevel, p: CodeProfile = DEFAULT_PROFILE): string | null {
  const parsed = parseCode(code, p);
  return level <= parsed.level ? parsed.path[level - 1] : null;
}

/** True when `code` is `prefix` itself or lies under it (a scope check: "is this grid in my street"). */
export function isWithin(code: string, prefix: string, p: CodeProfile = DEFAULT_PROFILE): boolean {
  if (levelOf(code, p) === 0 || levelOf(prefix, p) === 0) return false;
  return code.startsWith(prefix);
}

type Position = number[];
type PolygonLike =
  { type: 'Polygon'; coordinates: Position[][] } | { type: 'MultiPolygon'; coordinates: Position[][][] };

/** Area-weighted centroid (shoelace; holes subtract); the bbox centre for a degenerate geometry. */
export function centroidOf(g: PolygonLike): [number, number] {
  const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let area = 0,
    sx = 0,
    sy = 0;
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const poly of polys) {
    for (let r = 0; r < poly.length; r++) {
      const ring = poly[r];
      if (ring.length === 0) continue;
      // Coordinates relative to the first vertex keep precision for small rings far from (0, 0).
      const x0 = ring[0][0],
        y0 = ring[0][1];
      let a = 0,
        cx = 0,
        cy = 0;
      for (let i = 0; i < ring.length; i++) {
        const x1 = ring[i][0],
          y1 = ring[i][1];
        const j = i + 1 < ring.length ? i + 1 : 0;
        const u1 = x1 - x0,
          v1 = y1 - y0,
          u2 = ring[j][0] - x0,
          v2 = ring[j][1] - y0;
        const c = u1 * v2 - u2 * v1;
        a += c;
        cx += (u1 + u2) * c;
        cy += (v1 + v2) * c;
        if (x1 < minX) minX = x1;
        if (x1 > maxX) maxX = x1;
        if (y1 < minY) minY = y1;
        if (y1 > maxY) maxY = y1;
      }
      if (a === 0) continue;
      const w = ((r === 0 ? 1 : -1) * Math.abs(a)) / 2; // signed weight: outer +, hole −
      area += w;
      sx += w * (x0 + cx / (3 * a));
      sy += w * (y0 + cy / (3 * a));
    }
  }
  if (area === 0 || !Number.isFinite(sx / area)) return [(minX + maxX) / 2, (minY + maxY) / 2];
  return [sx / area, sy / area];
}

/**
 * Number the base grids of one community west→east, north→south (DB11/T 2157-2023: 顺序码 in
 * reading order). Grids are put into rows by their centroids: taking grids from the north, a grid
 * joins the current row when its centroid lies within the vertical extent (bbox) of the row's first
 * grid; rows are then read north to south and each row west to east.
 *
 * Returns the codes in input order; `start` is the first sequence number (default 1).
 */
export function numberBaseGrids(
  community: string,
  grids: readonly (PolygonLike | { geometry: PolygonLike })[],
  p: CodeProfile = DEFAULT_PROFILE,
  start = 1,
): string[] {
  assertCode(community, p, 3);
  const width = p.segments[3];
  const max = 10 ** width - 1;
  if (grids.length + start - 1 > max) {
    throw new DomainError('invalid_code', `${grids.length} grids do not fit a ${width}-digit sequence in ${community}`);
  }
  const items = grids.map((g, i) => {
    const geom = 'geometry' in g ? g.geometry : g;
    const [cx, cy] = centroidOf(geom);
    let minY = Infinity,
      maxY = -Infinity;
    const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
    for (const poly of polys)
      for (const pt of poly[0]) {
        if (pt[1] < minY) minY = pt[1];
        if (pt[1] > maxY) maxY = pt[1];
      }
    return { i, cx, cy, minY, maxY };
  });
  // North first; ties west first so the order is total.
  items.sort((a, b) => b.cy - a.cy || a.cx - b.cx || a.i - b.i);
  const rows: (typeof items)[] = [];
  let row: typeof items = [];
  let bandLo = 0;
  for (const it of items) {
    if (row.length === 0 || it.cy < bandLo) {
      if (row.length) rows.push(row);
      row = [it];
      // The row band is the vertical extent of its first (northernmost) grid, centroid-anchored.
      bandLo = Math.min(it.minY, it.cy);
    } else row.push(it);
  }
  if (row.length) rows.push(row);
  const out = new Array<string>(grids.length);
  let seq = start;
  for (const r of rows) {
    r.sort((a, b) => a.cx - b.cx || b.cy - a.cy || a.i - b.i);
    for (const it of r) out[it.i] = community + String(seq++).padStart(width, '0');
  }
  return out;
}
