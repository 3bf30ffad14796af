/**
 * Everything the wall shows, in one place: grids, devices, cases, the live feed, indicators, heat and
 * patrol tracks. Loaded from the API (scoped by the server to the user), kept current by `/live` batches.
 *
 * Big collections live in plain Maps and arrays that are mutated in place; a `$state` version number per
 * collection is bumped once per batch. The map's deck.gl layers use those numbers as `updateTriggers`, the
 * panels read the derived summaries recomputed once per batch — never per message.
 */
/* eslint-disable svelte/prefer-svelte-reactivity -- plain collections on purpose: one $state version number per collection is the reactive signal, bumped once per batch */
import { getJson } from './api.ts';
import type { Case, Device, GridFC, GridFeature, HeatPoint, LiveMsg, PatrolTracks, Stats } from './types.ts';

export const OPEN_STATES = new Set(['reported', 'registered', 'dispatched', 'in_progress', 'handled']);
const FEED_CAP = 60; // live feed entries kept
const CASE_CAP = 5000; // cases kept in memory; closed ones are evicted first
const FEED_EVENTS = new Set(['created', 'escalated', 'overdue', 'whistled']);

export interface FeedEntry {
  key: string;
  at: number;
  event: string;
  id: string;
  code: string;
  title: string;
  category: string;
  priority: number;
  state: string;
  level: string;
  /** The case's most detailed grid code (for the drill-down's filter). */
  grid: string;
}

/** The most detailed grid code of a case ('' outside every grid). */
export function caseGrid(c: Case): string {
  return c.grid?.grid ?? c.grid?.community ?? c.grid?.street ?? c.grid?.district ?? '';
}

export interface WhistleRow {
  key: string;
  caseId: string;
  code: string;
  title: string;
  department: string;
  deadline: number;
  late: boolean;
}

export interface GridLoad {
  open: number;
  alarm: boolean;
  overdue: boolean;
}

/** A case is an alarm on the map while open and either priority 1 or in the fire class. */
export function isAlarm(c: Case): boolean {
  return OPEN_STATES.has(c.state) && (c.priority === 1 || c.category.startsWith('fire'));
}

/**
 * The feed's word for a case message. The case service publishes the last action of a transaction
 * (`intake`, or `dispatch` when a fire alarm is registered and dispatched at once), so a case first seen
 * live and recently created is "new"; the overdue timer acts as `supervise` on an overdue case.
 */
export function feedEvent(action: string | undefined, c: Case, prev: Case | undefined, now = Date.now()): string {
  if (action === 'intake' || (!prev && now - c.createdAt < 10 * 60_000)) return 'created';
  if (action === 'escalate') return 'escalated';
  if (action === 'whistle') return 'whistled';
  if (action === 'supervise' && c.overdue) return 'overdue';
  if (c.state === 'closed' && prev && prev.state !== 'closed') return 'closed';
  return 'updated';
}

function startOfToday(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export class WallState {
  // grids, by level (1 district … 4 base grid)
  levels = $state.raw<GridFC[]>([]);
  gridsReady = $state(false);
  readonly gridByCode = new Map<string, GridFeature>();

  // devices
  devices: Device[] = [];
  readonly deviceById = new Map<string, Device>();
  deviceVersion = $state(0);
  devicesOnline = $state(0);
  devicesTotal = $state(0);

  // cases
  readonly cases = new Map<string, Case>();
  caseVersion = $state(0);
  casesAvailable = $state<boolean | null>(null);
  openCases: Case[] = [];
  alarms: Case[] = [];
  readonly gridLoad = new Map<string, GridLoad>();
  casesToday = $state(0);
  openCount = $state(0);
  overdueCount = $state(0);
  bySource = $state.raw<[string, number][]>([]);
  byCategory = $state.raw<[string, number][]>([]);
  whistles = $state.raw<WhistleRow[]>([]);
  feed = $state.raw<FeedEntry[]>([]);

  /**
   * The unit the panels speak of (drill-down): a grid-code prefix, '' for the user's whole scope. Sources,
   * categories, today's count, overdue, whistles and indicators are of this unit; the map shows all.
   */
  focus = '';
  private statsTimer: ReturnType<typeof setTimeout> | null = null;
  /** A `patrol` live message (a grid worker's track batch arrived) reloads the tracks, at most every 5 s. */
  private patrolTimer: ReturnType<typeof setTimeout> | null = null;

  // indicators, heat, patrols
  stats = $state.raw<Stats | null>(null);
  statsAvailable = $state<boolean | null>(null);
  heat = $state.raw<HeatPoint[]>([]);
  patrols = $state.raw<PatrolTracks | null>(null);

  /**
   * Told after each change of what the map draws (a live batch, a reload), with the animation frame's
   * timestamp when the change happened inside a frame's callbacks (null otherwise): the map builds its
   * layers at once instead of on its next tick, and may draw in the same frame.
   */
  private readonly listeners = new Set<(frameTime: number | null) => void>();
  onChange(fn: (frameTime: number | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  private changed(frameTime: number | null = null): void {
    for (const fn of this.listeners) fn(frameTime);
  }

  /** Last time a live device message arrived (ms); the devices poll stands down while they flow. */
  private lastDeviceMsg = 0;
  private abort = new AbortController();
  private timers: ReturnType<typeof setInterval>[] = [];

  /** Load grids first (the map needs them), the rest in parallel. */
  async load(): Promise<void> {
    this.abort.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    await Promise.all([
      this.loadGrids(signal),
      this.loadDevices(signal),
      this.loadCases(signal),
      this.loadStats(signal),
      this.loadHeat(signal),
      this.loadPatrols(signal),
    ]);
  }

  /** Periodic refreshes: indicators, heat and patrol tracks; devices when no live device news comes. */
  startTimers(): void {
    this.stopTimers();
    this.timers.push(
      setInterval(() => void this.loadStats(this.abort.signal), 60_000),
      setInterval(() => void this.loadHeat(this.abort.signal), 5 * 60_000),
      setInterval(() => void this.loadPatrols(this.abort.signal), 20 * 60_000),
      setInterval(() => {
        if (Date.now() - this.lastDeviceMsg > 60_000) void this.loadDevices(this.abort.signal);
      }, 30_000),
      setInterval(() => this.recompute(), 30_000), // deadlines pass without messages
    );
  }

  stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  dispose(): void {
    this.stopTimers();
    if (this.statsTimer) clearTimeout(this.statsTimer);
    if (this.patrolTimer) clearTimeout(this.patrolTimer);
    this.patrolTimer = null;
    this.abort.abort();
  }

  async loadGrids(signal: AbortSignal): Promise<void> {
    const levels = await Promise.all(
      [1, 2, 3, 4].map(async (l) => {
        const r = await getJson<GridFC>(`/api/grids?level=${l}`, { signal });
        return r.ok ? r.data : ({ type: 'FeatureCollection', features: [] } as GridFC);
      }),
    );
    if (signal.aborted) return;
    this.gridByCode.clear();
    for (const fc of levels) for (const f of fc.features) this.gridByCode.set(f.properties.code, f);
    this.levels = levels;
    this.gridsReady = true;
  }

  async loadDevices(signal: AbortSignal): Promise<void> {
    const r = await getJson<{ devices: Device[] }>('/api/devices?limit=10000', { signal });
    if (!r.ok || signal.aborted) return;
    // Keep object identity for known devices (the map's data array stays the same length and order).
    const fresh = r.data.devices.filter((d) => d.location);
    const sameSet = fresh.length === this.devices.length && fresh.every((d) => this.deviceById.has(d.id));
    if (sameSet) {
      for (const d of fresh) {
        const cur = this.deviceById.get(d.id)!;
        cur.online = d.online;
        cur.lastSeen = d.lastSeen;
      }
    } else {
      this.devices = fresh;
      this.deviceById.clear();
      for (const d of fresh) this.deviceById.set(d.id, d);
    }
    this.countDevices();
    this.deviceVersion++;
    this.changed();
  }

  private countDevices(): void {
    let on = 0;
    for (const d of this.devices) if (d.online) on++;
    this.devicesOnline = on;
    this.devicesTotal = this.devices.length;
  }

  async loadCases(signal: AbortSignal): Promise<void> {
    const all: Case[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 4; page++) {
      const url: string = `/api/cases?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await getJson<{ cases: Case[]; nextCursor: string | null }>(url, { signal });
      if (signal.aborted) return;
      if (!r.ok) {
        if (page === 0) this.casesAvailable = false;
        break;
      }
      this.casesAvailable = true;
      all.push(...r.data.cases);
      cursor = r.data.nextCursor;
      if (!cursor) break;
    }
    if (this.casesAvailable) {
      this.cases.clear();
      for (const c of all) this.cases.set(c.id, c);
      // The live list starts with the open cases of the scope, newest first; live news goes on top.
      const seen = new Set(this.feed.map((e) => e.id));
      const open = all
        .filter((c) => OPEN_STATES.has(c.state) && !seen.has(c.id))
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .slice(0, FEED_CAP)
        .map((c) => ({
          key: `${c.id}:${c.version}:open`,
          at: c.updatedAt,
          event: 'open',
          id: c.id,
          code: c.code,
          title: c.title,
          category: c.category,
          priority: c.priority,
          state: c.state,
          level: c.level,
          grid: caseGrid(c),
        }));
      this.feed = [...this.feed, ...open].slice(0, FEED_CAP);
      this.recompute();
      this.changed();
    }
  }

  /** Drill-down: the panels now speak of `code` ('' = the user's whole scope). */
  setFocus(code: string): void {
    if (code === this.focus) return;
    this.focus = code;
    this.stats = null;
    this.recompute();
    void this.loadStats(this.abort.signal);
  }

  async loadStats(signal: AbortSignal): Promise<void> {
    const focus = this.focus;
    const r = await getJson<Stats>(focus ? `/api/stats?scope=${focus}` : '/api/stats', { signal });
    if (signal.aborted || focus !== this.focus) return;
    this.statsAvailable = r.ok;
    if (r.ok) this.stats = r.data;
  }

  async loadHeat(signal: AbortSignal): Promise<void> {
    const r = await getJson<HeatPoint[]>('/api/events/heat?hours=24', { signal });
    if (r.ok && !signal.aborted) this.heat = r.data;
  }

  async loadPatrols(signal: AbortSignal): Promise<void> {
    const r = await getJson<PatrolTracks>('/api/patrols', { signal });
    if (r.ok && !signal.aborted) this.patrols = r.data;
  }

  /** Apply one frame's worth of live messages (`frameTime`: see `onChange`). */
  apply(batch: LiveMsg[], frameTime: number | null = null): void {
    let casesChanged = false;
    let devicesChanged = false;
    const feedAdds: FeedEntry[] = [];
    for (const m of batch) {
      if (m.type === 'case') {
        const c = m.case;
        if (!c || typeof c.id !== 'string') continue;
        const prev = this.cases.get(c.id);
        if (prev && prev.version > c.version) continue; // late, older news
        this.cases.set(c.id, c);
        casesChanged = true;
        this.casesAvailable = true;
        const event = m.event ?? feedEvent(m.action, c, prev);
        if (FEED_EVENTS.has(event))
          feedAdds.push({
            key: `${c.id}:${c.version}:${event}:${m.seq}`,
            at: Date.now(),
            event,
            id: c.id,
            code: c.code,
            title: c.title,
            category: c.category,
            priority: c.priority,
            state: c.state,
            level: c.level,
            grid: caseGrid(c),
          });
      } else if (m.type === 'kpi') {
        // The server sends each user the indicators of its own scope (ingest/live/kpi.ts).
        const { type: _t, seq: _s, ...stats } = m;
        if (!this.focus) {
          this.stats = stats as Stats;
          this.statsAvailable = true;
        } else if (!this.statsTimer) {
          // Something changed in the scope: the focused unit's indicators are fetched again, at most every 5 s.
          this.statsTimer = setTimeout(() => {
            this.statsTimer = null;
            void this.loadStats(this.abort.signal);
          }, 5_000);
        }
      } else if (m.type === 'patrol') {
        // Real tracks are live: a worker's new fixes (POST /api/field/actions kind track) reload the layer.
        this.patrolTimer ??= setTimeout(() => {
          this.patrolTimer = null;
          void this.loadPatrols(this.abort.signal);
        }, 5_000);
      } else if (m.type === 'device') {
        const d = this.deviceById.get(m.id);
        this.lastDeviceMsg = Date.now();
        if (!d) continue;
        d.online = !!m.online;
        if (m.lastSeen !== undefined && m.lastSeen !== null) d.lastSeen = new Date(m.lastSeen).toISOString();
        devicesChanged = true;
      }
    }
    if (feedAdds.length) this.feed = [...feedAdds.reverse(), ...this.feed].slice(0, FEED_CAP);
    if (casesChanged) {
      this.evict();
      this.recompute();
    }
    if (devicesChanged) {
      this.countDevices();
      this.deviceVersion++;
    }
    if (casesChanged || devicesChanged) this.changed(frameTime);
  }

  /** Bounded memory: beyond CASE_CAP, drop the oldest finished cases, then the oldest of any. */
  private evict(): void {
    if (this.cases.size <= CASE_CAP) return;
    const sorted = [...this.cases.values()].sort(
      (a, b) => Number(OPEN_STATES.has(a.state)) - Number(OPEN_STATES.has(b.state)) || a.updatedAt - b.updatedAt,
    );
    for (const c of sorted.slice(0, this.cases.size - CASE_CAP)) this.cases.delete(c.id);
  }

  /** Summaries for the map and panels, once per batch. */
  recompute(now = Date.now()): void {
    const today = startOfToday(now);
    const open: Case[] = [];
    const alarms: Case[] = [];
    const load = this.gridLoad;
    load.clear();
    const src = new Map<string, number>();
    const cat = new Map<string, number>();
    const whistles: WhistleRow[] = [];
    let casesToday = 0;
    let overdue = 0;
    let openInFocus = 0;
    const focus = this.focus;
    for (const c of this.cases.values()) {
      const inFocus = !focus || caseGrid(c).startsWith(focus);
      if (inFocus && c.createdAt >= today) {
        casesToday++;
        src.set(c.source, (src.get(c.source) ?? 0) + 1);
        const cls = c.category.split('.')[0];
        cat.set(cls, (cat.get(cls) ?? 0) + 1);
      }
      if (!OPEN_STATES.has(c.state)) continue;
      open.push(c);
      const alarm = isAlarm(c);
      if (alarm && c.location) alarms.push(c);
      if (inFocus && c.overdue) overdue++;
      if (inFocus) openInFocus++;
      const g = c.grid?.grid;
      if (g) {
        const l = load.get(g) ?? { open: 0, alarm: false, overdue: false };
        l.open++;
        l.alarm ||= alarm;
        l.overdue ||= c.overdue;
        load.set(g, l);
      }
      if (inFocus)
        for (const w of c.whistles ?? [])
          if (w.reportedAt === null || w.reportedAt === undefined)
            whistles.push({
              key: `${c.id}:${w.department}:${w.whistledAt}`,
              caseId: c.id,
              code: c.code,
              title: c.title,
              department: w.department,
              deadline: w.deadline,
              late: w.deadline < now,
            });
    }
    whistles.sort((a, b) => a.deadline - b.deadline);
    this.openCases = open.filter((c) => c.location);
    this.alarms = alarms;
    this.casesToday = casesToday;
    this.openCount = openInFocus;
    this.overdueCount = overdue;
    this.bySource = [...src].sort((a, b) => b[1] - a[1]);
    this.byCategory = [...cat].sort((a, b) => b[1] - a[1]);
    this.whistles = whistles.slice(0, 30);
    this.caseVersion++;
  }
}

/** Drill-down: district → street → community → base grid, by code length (6, 9, 12, 15). */
export class Drill {
  focus = $state('');
  /** The highest unit the user may go up to: the district, or the user's own scope. */
  root = $state('');
  constructor(private readonly wall: WallState) {}

  /** The chain from the district down to the focus, for the breadcrumbs. */
  get path(): GridFeature[] {
    const out: GridFeature[] = [];
    const f = this.focus;
    for (const n of [6, 9, 12, 15]) {
      if (f.length < n) break;
      const g = this.wall.gridByCode.get(f.slice(0, n));
      if (g) out.push(g);
    }
    return out;
  }

  get level(): number {
    return this.path.length; // 1 district … 4 base grid
  }

  get children(): GridFeature[] {
    const lvl = this.level;
    if (lvl >= 4 || !this.wall.levels[lvl]) return [];
    return this.wall.levels[lvl].features
      .filter((g) => g.properties.parent === this.focus)
      .sort((a, b) => a.properties.code.localeCompare(b.properties.code));
  }

  /** The unit one level below the focus that contains this base grid (or the grid itself at the bottom). */
  childFor(baseGridCode: string): string | null {
    if (!baseGridCode.startsWith(this.focus.slice(0, Math.min(this.focus.length, 12)))) return null;
    const next = Math.min(15, this.focus.length + 3);
    // At the bottom, a click on a neighbour in the same community moves sideways.
    return baseGridCode.slice(0, this.focus.length === 15 ? 15 : next);
  }

  up(): boolean {
    if (this.focus.length <= Math.max(6, this.root.length)) return false;
    this.focus = this.focus.slice(0, this.focus.length - 3);
    return true;
  }
}
