/**
 * The grid studio's client for /api/grids/drafts… (web/routes/api/grids/drafts, ingest/grids/drafts.ts).
 * Every mutation names the draft's `rev`; a stale one answers 409 `stale_version`. Geometry is GeoJSON,
 * positions [lng, lat].
 */
import type { MultiPolygon, Polygon } from 'geojson';
import { getJson, postJson, type Result } from '$lib/wall/api.ts';

export type DraftState = 'editing' | 'submitted' | 'approved' | 'published' | 'discarded';

export interface DraftInfo {
  id: number;
  versionId: number;
  baseVersion: number | null;
  label: string;
  state: DraftState;
  profile: string;
  rev: number;
  head: number;
  redoable: number;
  createdBy: string;
  createdAt: string;
  approvedBy: string | null;
}

export interface GridProps {
  code: string;
  level: number;
  name: string;
  parent: string | null;
  kind: string;
  households: number | null;
}

export interface StudioGrid {
  type: 'Feature';
  geometry: Polygon | MultiPolygon;
  properties: GridProps;
}

export interface TopologyProblem {
  kind: string;
  codes: string[];
  location: [number, number];
  message: string;
  areaM2?: number;
}

export interface TopologyReport {
  ok: boolean;
  problems: TopologyProblem[];
  counts: Record<number, number>;
}

/** A change set entry as POST …/changes takes it: create {after}, update {code, after (partial)}, delete {code}. */
export interface EditInput {
  op: 'create' | 'update' | 'delete';
  code?: string;
  after?: Partial<GridProps> & { geometry?: Polygon | MultiPolygon };
}

export interface MutationResult {
  draft: DraftInfo;
  report: TopologyReport;
}

export interface HistoryEntry {
  at: string;
  actor: string;
  kind: string;
  seq?: number;
  summary?: string;
  ops?: { create: number; update: number; delete: number };
  undone?: boolean;
  detail?: Record<string, unknown>;
}

export interface GridChange {
  code: string;
  level: number;
  name: string;
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

export interface RecodeEntry {
  old: string;
  new: string;
  name: string;
}

export interface RejoinChange {
  id: string;
  from: string | null;
  to: string | null;
}

export interface PublishReport {
  from: number | null;
  to: number;
  codesMapped: number;
  devicesRejoined: number;
  casesRejoined: number;
  devicesChanged: RejoinChange[];
  casesChanged: RejoinChange[];
  devicesLosingGrid: number;
  casesLosingGrid: number;
  warning: string | null;
}

const base = (id: number) => `/api/grids/drafts/${id}`;

export const studioApi = {
  list: () => getJson<{ drafts: DraftInfo[] }>('/api/grids/drafts'),
  /** A draft copied from the published set; a `profile` other than its own numbers every base grid afresh. */
  createFromPublished: (label?: string, profile?: string) =>
    postJson<{ draft: DraftInfo }>('/api/grids/drafts', {
      from: 'published',
      ...(label ? { label } : {}),
      ...(profile ? { profile } : {}),
    }),
  /** Upload a grid file: the same import as `onegrid grids import` (ingest/grids/io.ts importGrids). */
  upload: (file: File, q: { crs?: string; profile?: string; label?: string }) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
    if (!p.has('label')) p.set('label', file.name.slice(0, 200));
    return getJson<{ draft: DraftInfo; repairs?: unknown }>(`/api/grids/drafts?${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: file,
    });
  },
  get: (id: number) =>
    getJson<{ draft: DraftInfo; grids: { type: 'FeatureCollection'; features: StudioGrid[] }; report: TopologyReport }>(
      base(id),
    ),
  discard: (id: number) => getJson<null>(base(id), { method: 'DELETE' }),
  changes: (id: number, rev: number, summary: string, ops: EditInput[]) =>
    postJson<MutationResult>(`${base(id)}/changes`, { rev, summary, ops }),
  undo: (id: number, rev: number) => postJson<MutationResult>(`${base(id)}/undo`, { rev }),
  redo: (id: number, rev: number) => postJson<MutationResult>(`${base(id)}/redo`, { rev }),
  recode: (id: number, rev: number, apply: boolean, community?: string) =>
    postJson<{ map: RecodeEntry[]; result: MutationResult | null }>(`${base(id)}/recode`, {
      rev,
      apply,
      ...(community ? { community } : {}),
    }),
  submit: (id: number, rev: number) => postJson<{ draft: DraftInfo }>(`${base(id)}/submit`, { rev }),
  approve: (id: number, rev: number) => postJson<{ draft: DraftInfo }>(`${base(id)}/approve`, { rev }),
  publish: (id: number, rev: number, confirm: boolean) =>
    postJson<{ draft: DraftInfo; report: PublishReport }>(`${base(id)}/publish`, { rev, confirm }),
  history: (id: number) => getJson<{ history: HistoryEntry[] }>(`${base(id)}/history`),
  diff: (id: number) => getJson<VersionDiff>(`${base(id)}/diff`),
  /** Published base grids (for the removed ones in a diff). */
  publishedBase: () => getJson<{ features: StudioGrid[] }>('/api/grids?level=4'),
};

export type { Result };
