/**
 * The grid studio's state: the drafts, the open draft's grids (as the server holds them), its topology
 * report and history, the selection, and every mutation sent to the server with the draft's `rev`.
 * The server is the source of truth: after each mutation the draft is read back, so undo/redo (server
 * change sets) and another tab's edits (409 `stale_version`: reloaded) always show what is stored.
 */
import { studioApi, type DraftInfo, type EditInput, type HistoryEntry, type Result, type StudioGrid } from './api.ts';
import type { TopologyReport, VersionDiff } from './api.ts';
import { applyLocal } from './edits.ts';

export type Notice = { kind: 'error' | 'info'; text: string } | null;

export class StudioState {
  drafts = $state.raw<DraftInfo[]>([]);
  draft = $state.raw<DraftInfo | null>(null);
  grids = $state.raw<StudioGrid[]>([]);
  /** Bumped whenever `grids` is replaced (the map redraws). */
  gridsVersion = $state(0);
  report = $state.raw<TopologyReport | null>(null);
  history = $state.raw<HistoryEntry[]>([]);
  diff = $state.raw<VersionDiff | null>(null);
  selection = $state.raw<string[]>([]);
  busy = $state(false);
  notice = $state.raw<Notice>(null);
  /** code → grid of `grids` (an index; `gridsVersion` is the reactive signal). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- replaced whole with `grids`, never mutated
  byCode = new Map<string, StudioGrid>();

  /** Text for the stale-revision notice, set by the page (it knows the language). */
  staleText = 'stale';

  get editable(): boolean {
    return this.draft?.state === 'editing';
  }

  get errors(): number {
    return this.report?.problems.length ?? 0;
  }

  async loadDrafts(): Promise<void> {
    const r = await studioApi.list();
    if (r.ok) this.drafts = r.data.drafts.filter((d) => d.state !== 'discarded');
    else this.fail(r);
  }

  fail(r: Result<unknown> & { ok: false }): void {
    this.notice = { kind: 'error', text: `${r.code}: ${r.message}` };
  }

  /** Open (or re-read) a draft: grids, report, history. */
  async open(id: number): Promise<boolean> {
    const r = await studioApi.get(id);
    if (!r.ok) {
      this.fail(r);
      return false;
    }
    const keep = this.draft?.id === id;
    this.draft = r.data.draft;
    this.grids = r.data.grids.features;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- an index rebuilt with `grids`
    this.byCode = new Map(this.grids.map((g) => [g.properties.code, g]));
    this.report = r.data.report;
    this.gridsVersion++;
    if (!keep) {
      this.selection = [];
      this.diff = null;
    } else this.selection = this.selection.filter((c) => this.byCode.has(c));
    this.drafts = this.drafts.map((d) => (d.id === id ? r.data.draft : d));
    void this.loadHistory();
    return true;
  }

  async loadHistory(): Promise<void> {
    if (!this.draft) return;
    const r = await studioApi.history(this.draft.id);
    if (r.ok) this.history = r.data.history;
  }

  close(): void {
    this.draft = null;
    this.grids = [];
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- an index rebuilt with `grids`
    this.byCode = new Map();
    this.report = null;
    this.history = [];
    this.diff = null;
    this.selection = [];
    this.gridsVersion++;
  }

  /**
   * Run a server mutation on the open draft. 409 stale_version: another tab changed it — reload and say so.
   * Returns the answer's data, or null after a failure (shown as a notice).
   */
  async mutate<T>(call: (id: number, rev: number) => Promise<Result<T>>, reload = true): Promise<T | null> {
    const d = this.draft;
    if (!d || this.busy) return null;
    this.busy = true;
    try {
      const r = await call(d.id, d.rev);
      if (!r.ok) {
        if (r.code === 'stale_version') {
          await this.open(d.id);
          this.notice = { kind: 'info', text: this.staleText };
        } else this.fail(r);
        return null;
      }
      const data = r.data as { draft?: DraftInfo; report?: TopologyReport; result?: { draft: DraftInfo } | null };
      if (data.draft) this.draft = data.draft;
      if (data.report && 'problems' in data.report) this.report = data.report;
      if (reload) await this.open(d.id);
      this.notice = null;
      return r.data;
    } finally {
      this.busy = false;
    }
  }

  /**
   * One editing operation = one change set = one undo step. The answer carries the new revision and the
   * topology report; the grids are updated here with the same change set (no re-read of the draft).
   */
  async edit(ops: EditInput[], summary: string): Promise<unknown> {
    if (!ops.length) return null;
    const d = this.draft;
    const r = await this.mutate((id, rev) => studioApi.changes(id, rev, summary, ops), false);
    if (r === null || !d) return r;
    try {
      this.setGrids(applyLocal(this.grids, ops));
      this.drafts = this.drafts.map((x) => (x.id === d.id && this.draft ? this.draft : x));
      void this.loadHistory();
    } catch {
      await this.open(d.id);
    }
    return r;
  }

  private setGrids(grids: StudioGrid[]) {
    this.grids = grids;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- an index rebuilt with `grids`
    this.byCode = new Map(grids.map((g) => [g.properties.code, g]));
    this.selection = this.selection.filter((c) => this.byCode.has(c));
    this.gridsVersion++;
  }

  undo(): Promise<unknown> {
    return this.mutate((id, rev) => studioApi.undo(id, rev));
  }

  redo(): Promise<unknown> {
    return this.mutate((id, rev) => studioApi.redo(id, rev));
  }

  async loadDiff(): Promise<void> {
    if (!this.draft) return;
    const r = await studioApi.diff(this.draft.id);
    if (r.ok) this.diff = r.data;
    else this.fail(r);
  }

  /** Base grids of the draft (level 4). */
  get baseGrids(): StudioGrid[] {
    return this.grids.filter((g) => g.properties.level === 4);
  }

  /** The next free code under `parent` at the length of its children (e.g. a new base grid's code). */
  nextCode(parent: string, childLength: number): string {
    let max = 0;
    for (const g of this.grids) {
      const c = g.properties.code;
      if (c.length === childLength && c.startsWith(parent)) max = Math.max(max, Number(c.slice(parent.length)) || 0);
    }
    return parent + String(max + 1).padStart(childLength - parent.length, '0');
  }
}
