/**
 * One case as the drawer shows it: the case (with `actions`, the action names the user may take), its trail
 * with the verified mark, and the base grid it lies in. Acting sends the version the user saw; a 409
 * (someone else acted first) refetches and says what changed. Stale loads are cancelled.
 */
/* eslint-disable svelte/prefer-svelte-reactivity -- Dates here are formatted once, never mutated */
import { getJson, postJson } from './api.ts';
import type { Case, GridFC, TrailEntry } from './types.ts';
import type { Polygon, MultiPolygon } from 'geojson';

export type CaseWithActions = Case & { actions?: string[]; events?: unknown[] };
/** GET /api/cases/{id}: the case with the routing table's suggestion and the grid workers of its grid. */
export type CaseView = CaseWithActions & {
  suggestedDepartment?: string;
  gridWorkers?: { username: string; name: string }[];
};
/** A trail entry with its actor's display name (GET /api/cases/{id}/trail). */
export type NamedTrailEntry = TrailEntry & { actorName?: string };
/** GET /api/cases/{id}/evidence. */
export interface EvidenceItem {
  id: number;
  kind: string;
  source: string | null;
  mime: string;
  createdAt: string;
  url: string;
}

export interface Change {
  field: string;
  from: string;
  to: string;
}

/** What differs between two versions of a case, in the fields a person acting on it cares about. */
export function caseChanges(a: Case, b: Case): Change[] {
  const out: Change[] = [];
  const cmp = (field: string, x: unknown, y: unknown) => {
    const sx = JSON.stringify(x ?? null);
    const sy = JSON.stringify(y ?? null);
    if (sx !== sy) out.push({ field, from: String(x ?? '—'), to: String(y ?? '—') });
  };
  cmp('state', a.state, b.state);
  cmp('level', a.level, b.level);
  cmp('priority', a.priority, b.priority);
  cmp(
    'assignee',
    a.assignee ? `${a.assignee.kind}:${a.assignee.id}` : null,
    b.assignee ? `${b.assignee.kind}:${b.assignee.id}` : null,
  );
  cmp(
    'deadline',
    a.deadline ? new Date(a.deadline).toISOString() : null,
    b.deadline ? new Date(b.deadline).toISOString() : null,
  );
  cmp('whistles', a.whistles?.length ?? 0, b.whistles?.length ?? 0);
  cmp('overdue', a.overdue, b.overdue);
  cmp('version', a.version, b.version);
  return out;
}

export class CaseDetail {
  case = $state.raw<CaseView | null>(null);
  trail = $state.raw<NamedTrailEntry[]>([]);
  evidence = $state.raw<EvidenceItem[]>([]);
  verified = $state<boolean | null>(null);
  gridGeometry = $state.raw<Polygon | MultiPolygon | null>(null);
  error = $state('');
  busy = $state(false);
  /** After an action: `ok`, or the changes another user made (409), or an error message. */
  notice = $state.raw<{ kind: 'ok' | 'stale' | 'error'; text: string; changes?: Change[] } | null>(null);
  private abort: AbortController | null = null;

  async load(id: string): Promise<void> {
    this.abort?.abort();
    const ac = (this.abort = new AbortController());
    this.error = '';
    const [c, t, ev] = await Promise.all([
      getJson<CaseView>(`/api/cases/${encodeURIComponent(id)}`, { signal: ac.signal }),
      getJson<{ entries: NamedTrailEntry[]; verified: boolean }>(`/api/cases/${encodeURIComponent(id)}/trail`, {
        signal: ac.signal,
      }),
      getJson<{ evidence: EvidenceItem[] }>(`/api/cases/${encodeURIComponent(id)}/evidence`, { signal: ac.signal }),
    ]);
    if (ac.signal.aborted) return;
    if (!c.ok) {
      this.case = null;
      this.error = c.status === 404 && c.code !== 'not_found' ? 'unavailable' : c.message;
      return;
    }
    this.case = c.data;
    this.evidence = ev.ok ? ev.data.evidence : [];
    if (t.ok) {
      this.trail = t.data.entries;
      this.verified = t.data.verified;
    } else {
      this.trail = [];
      this.verified = null;
    }
    const community = c.data.grid?.community;
    const code = c.data.grid?.grid;
    if (community && code) {
      const g = await getJson<GridFC>(`/api/grids?level=4&parent=${community}`, { signal: ac.signal });
      if (!ac.signal.aborted && g.ok)
        this.gridGeometry = g.data.features.find((f) => f.properties.code === code)?.geometry ?? null;
    } else this.gridGeometry = null;
  }

  async act(action: string, fields: Record<string, unknown>): Promise<boolean> {
    const before = this.case;
    if (!before) return false;
    this.busy = true;
    this.notice = null;
    try {
      const r = await postJson<Case>(`/api/cases/${encodeURIComponent(before.id)}/actions`, {
        action,
        version: before.version,
        ...fields,
      });
      if (r.ok) {
        await this.load(before.id);
        this.notice = { kind: 'ok', text: action };
        return true;
      }
      if (r.status === 409) {
        await this.load(before.id);
        const now = this.case;
        this.notice = { kind: 'stale', text: r.message, changes: now ? caseChanges(before, now) : [] };
        return false;
      }
      this.notice = { kind: 'error', text: `${r.code}: ${r.message}` };
      return false;
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {
    this.abort?.abort();
  }
}
