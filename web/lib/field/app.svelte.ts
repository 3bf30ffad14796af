/**
 * State of the grid worker's app (/m): who is signed in, tasks, the grid, what waits in the outbox, the
 * patrol in progress. Everything shown is read from local state (IndexedDB) first and refreshed when the
 * network allows, so the app works offline after its first load.
 */
import {
  cacheGet,
  cacheSet,
  enqueue,
  pending,
  uncompressedPhotos,
  type LocalPhoto,
  type OutboxKind,
  type OutboxRecord,
} from './outbox.ts';
import { compressInBackground } from './photo.ts';
import { drain } from './sync.ts';
import { authFetch, loadToken, setToken } from './auth.ts';

export interface Me {
  username: string;
  name: string;
  role: string;
  scopeGrid: string | null;
}
export interface TaskCase {
  id: string;
  code: string;
  title: string;
  category: string;
  state: string;
  version: number;
  location: [number, number] | null;
  actions: string[];
  deadline: number | null;
}
export interface Tasks {
  dispatched: TaskCase[];
  checks: TaskCase[];
  reported: TaskCase[];
}
export interface Fix {
  t: number;
  lng: number;
  lat: number;
  accuracyM: number | null;
}
type GridFC = {
  type: 'FeatureCollection';
  features: { geometry: unknown; properties: { code: string; name: string } }[];
};

/** Keep a fix when this far from the last kept one, metres, or KEEP_MS passed (thinning on the phone). */
const KEEP_M = 10;
const KEEP_MS = 15_000;
/** Send the patrol's fixes at least this often, ms. */
const BATCH_MS = 60_000;

function metres(a: Fix, b: Fix): number {
  const r = Math.PI / 180;
  const x = (b.lng - a.lng) * r * Math.cos(((a.lat + b.lat) / 2) * r);
  return Math.hypot(x, (b.lat - a.lat) * r) * 6_371_008.8;
}

export class FieldApp {
  me = $state<Me | null>(null);
  /** Set once start() has read local state and asked the server who is signed in (answered or not). */
  ready = $state(false);
  signedOut = $state(false);
  online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);
  tasks = $state<Tasks>({ dispatched: [], checks: [], reported: [] });
  grid = $state<GridFC | null>(null);
  outbox = $state<OutboxRecord[]>([]);
  recentCategories = $state<string[]>([]);
  /** The last position seen (watch or one-off). */
  here = $state<Fix | null>(null);
  patrol = $state<{ id: string; started: number; fixes: number; unsent: Fix[] } | null>(null);
  lastSent = $state<string | null>(null);
  private watch: number | null = null;
  private batchTimer: ReturnType<typeof setInterval> | null = null;
  private lastKept: Fix | null = null;

  get waiting(): number {
    return this.outbox.filter((r) => !r.error).length;
  }

  async start(): Promise<void> {
    await loadToken();
    this.me = (await cacheGet<Me>('me')) ?? null;
    this.tasks = (await cacheGet<Tasks>('tasks')) ?? this.tasks;
    this.grid = (await cacheGet<GridFC>('grid')) ?? null;
    this.recentCategories = (await cacheGet<string[]>('recent')) ?? [];
    await this.refreshOutbox();
    // Photos saved as originals when the app was closed before their compression finished.
    void uncompressedPhotos().then(compressInBackground);
    addEventListener('online', () => {
      this.online = true;
      void this.sync();
    });
    addEventListener('offline', () => (this.online = false));
    await this.loadMe();
    this.ready = true;
    if (this.me) void this.sync();
    setInterval(() => void this.sync(), 20_000);
  }

  async refreshOutbox(): Promise<void> {
    this.outbox = await pending();
  }

  async loadMe(): Promise<void> {
    try {
      const r = await authFetch('/api/me');
      if (r.status === 401) {
        this.signedOut = true;
        return;
      }
      if (!r.ok) return;
      const u = ((await r.json()) as { user: Me }).user;
      const me: Me = { username: u.username, name: u.name, role: u.role, scopeGrid: u.scopeGrid };
      this.me = me;
      this.signedOut = false;
      await cacheSet('me', me);
    } catch {
      /* offline: the cached user stands */
    }
  }

  async signIn(username: string, password: string): Promise<string | null> {
    const r = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, device: true }),
    }).catch(() => null);
    if (!r) return 'offline';
    if (!r.ok)
      return ((await r.json().catch(() => null)) as { error?: { code: string } } | null)?.error?.code ?? 'error';
    await setToken(((await r.json()) as { token: string }).token);
    await this.loadMe();
    void this.sync();
    return null;
  }

  /** Send what waits, then refresh tasks and the grid. */
  async sync(): Promise<void> {
    if (!this.me) return;
    const res = await drain((rec) => (this.lastSent = rec.key));
    if (res.stopped === 'signed_out') this.signedOut = true;
    await this.refreshOutbox();
    if (res.stopped) return;
    try {
      const t = await authFetch('/api/field/tasks');
      if (t.ok) {
        this.tasks = (await t.json()) as Tasks;
        await cacheSet('tasks', $state.snapshot(this.tasks));
      }
      if (!this.grid && this.me.scopeGrid) {
        const g = await authFetch(`/api/grids?level=4`);
        if (g.ok) {
          const fc = (await g.json()) as GridFC;
          fc.features = fc.features.filter((f) => f.properties.code.startsWith(this.me!.scopeGrid!));
          this.grid = fc;
          await cacheSet('grid', fc);
        }
      }
    } catch {
      /* offline */
    }
  }

  async add(
    kind: OutboxKind,
    body: Record<string, unknown>,
    label: string,
    photos: LocalPhoto[] = [],
    after: LocalPhoto[] = [],
  ) {
    // IndexedDB stores structured clones: Svelte's state proxies are unwrapped to plain data first.
    const plain = $state.snapshot(body) as Record<string, unknown>;
    const ph = photos.map((p) => $state.snapshot(p) as LocalPhoto);
    const af = after.map((p) => $state.snapshot(p) as LocalPhoto);
    await enqueue({ kind, body: plain, label, photos: ph.map((p) => p.id), after: af.map((p) => p.id) }, [
      ...ph,
      ...af,
    ]);
    // Safe offline from here (the originals are in IndexedDB); `npm run bench -- field` times up to this mark.
    performance.mark('field:saved');
    const raw = [...ph, ...af].filter((p) => p.compressed === false).map((p) => p.id);
    if (raw.length) void compressInBackground(raw);
    await this.refreshOutbox();
    void this.sync();
  }

  async useCategory(id: string): Promise<void> {
    const seen = (await cacheGet<Record<string, number>>('categoryUse')) ?? {};
    seen[id] = (seen[id] ?? 0) + 1;
    await cacheSet('categoryUse', seen);
    // Most recent first, then most used.
    const rest = Object.entries(seen)
      .filter(([c]) => c !== id)
      .sort((a, b) => b[1] - a[1])
      .map(([c]) => c);
    this.recentCategories = [id, ...rest].slice(0, 8);
    await cacheSet('recent', $state.snapshot(this.recentCategories));
  }

  /** One position now (for a report or a check). */
  locate(): Promise<Fix | null> {
    return new Promise((res) => {
      if (!('geolocation' in navigator)) return res(null);
      navigator.geolocation.getCurrentPosition(
        (p) => {
          this.here = { t: p.timestamp, lng: p.coords.longitude, lat: p.coords.latitude, accuracyM: p.coords.accuracy };
          res(this.here);
        },
        () => res(this.here),
        { enableHighAccuracy: true, maximumAge: 10_000, timeout: 15_000 },
      );
    });
  }

  startPatrol(): void {
    if (this.patrol || !('geolocation' in navigator)) return;
    this.patrol = { id: crypto.randomUUID(), started: Date.now(), fixes: 0, unsent: [] };
    this.lastKept = null;
    this.watch = navigator.geolocation.watchPosition(
      (p) =>
        this.onFix({ t: p.timestamp, lng: p.coords.longitude, lat: p.coords.latitude, accuracyM: p.coords.accuracy }),
      () => {},
      { enableHighAccuracy: true, maximumAge: 5_000 },
    );
    this.batchTimer = setInterval(() => void this.flushPatrol(), BATCH_MS);
  }

  private onFix(f: Fix): void {
    this.here = f;
    if (!this.patrol) return;
    const last = this.lastKept;
    if (last && f.t - last.t < KEEP_MS && metres(last, f) < KEEP_M) return;
    this.lastKept = f;
    this.patrol.unsent.push(f);
    this.patrol.fixes++;
  }

  async flushPatrol(): Promise<void> {
    if (!this.patrol || !this.patrol.unsent.length) return;
    const fixes = $state.snapshot(this.patrol.unsent);
    this.patrol.unsent = [];
    await this.add('track', { patrol: this.patrol.id, fixes }, `track ${fixes.length}`);
  }

  async stopPatrol(): Promise<void> {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    if (this.batchTimer) clearInterval(this.batchTimer);
    this.watch = null;
    this.batchTimer = null;
    await this.flushPatrol();
    this.patrol = null;
  }
}
