/**
 * The grid studio's client for /api/grids/drafts… (web/routes/api/grids/drafts, ingest/grids/drafts.ts).
 * Every mutation names the draft's `rev`; a stale one answers 409 `stale_version`. Geometry is GeoJSON,
 * positions [lng, lat].
 */
import { getJson, postJson, type Result } from '$lib/wall/api.ts';
// The wire shapes are the server's own types (type-only imports: nothing of the server is bundled).
import type { EditInput, GridSnapshot } from '../../../core/grid/studio.ts';
import type { TopologyProblem, TopologyReport } from '../../../core/grid/topology.ts';
import type { DraftInfo, DraftState, HistoryEntry, MutationResult, RecodeEntry } from '../../../ingest/grids/drafts.ts';
import type { GridChange, VersionDiff } from '../../../ingest/grids/versions.ts';
import type { PublishReport, RejoinChange } from '../../../ingest/grids/publish.ts';

export type {
  DraftInfo,
  DraftState,
  EditInput,
  GridChange,
  HistoryEntry,
  MutationResult,
  PublishReport,
  RecodeEntry,
  RejoinChange,
  TopologyProblem,
  TopologyReport,
  VersionDiff,
};

/** A grid's properties as GET …/drafts/:id serves them (everything of a GridSnapshot but its geometry). */
export type GridProps = Omit<GridSnapshot, 'geometry'>;

/** A draft's grid as a GeoJSON Feature, positions [lng, lat]. */
export interface StudioGrid {
  type: 'Feature';
  geometry: GridSnapshot['geometry'];
  properties: GridProps;
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
