// State of the /video page: layout, the camera list and which camera each tile shows (kept in localStorage).
export interface CameraEntry {
  id: string;
  name: string;
}

export const LAYOUTS = [1, 4, 9, 16] as const;
export type Layout = (typeof LAYOUTS)[number];

const STORE_KEY = 'og.video.wall';

/** GET /api/devices?kind=camera, whatever envelope it comes in: a list, or {items|devices|data: list}. */
export function camerasFrom(body: unknown): CameraEntry[] {
  const obj = body as Record<string, unknown> | null;
  const list = Array.isArray(body) ? body : (obj?.items ?? obj?.devices ?? obj?.data ?? []);
  if (!Array.isArray(list)) return [];
  return list
    .filter(
      (d): d is Record<string, unknown> =>
        !!d && typeof d === 'object' && typeof (d as { id?: unknown }).id === 'string',
    )
    .filter((d) => d.kind === undefined || d.kind === 'camera')
    .map((d) => ({ id: String(d.id), name: typeof d.name === 'string' && d.name ? d.name : String(d.id) }));
}

export class VideoWallState {
  layout = $state<Layout>(4);
  cameras = $state<CameraEntry[]>([]);
  /** null: loaded; 'loading'; or why the camera list is unavailable. */
  listStatus = $state<'loading' | 'ok' | 'unavailable'>('loading');
  slots = $state<(string | null)[]>(Array(16).fill(null));
  private abort: AbortController | null = null;

  constructor() {
    if (typeof localStorage === 'undefined') return;
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null');
      if (saved && LAYOUTS.includes(saved.layout)) this.layout = saved.layout;
      if (saved && Array.isArray(saved.slots)) this.slots = [...saved.slots, ...Array(16).fill(null)].slice(0, 16);
    } catch {
      // a bad saved value is ignored
    }
  }

  private save(): void {
    if (typeof localStorage !== 'undefined')
      localStorage.setItem(STORE_KEY, JSON.stringify({ layout: this.layout, slots: this.slots }));
  }

  setLayout(layout: Layout): void {
    this.layout = layout;
    this.save();
  }

  assign(slot: number, cameraId: string | null): void {
    this.slots[slot] = cameraId;
    this.save();
  }

  /**
   * Show exactly these cameras (`/video?cams=a,b`: a case's linked cameras): the smallest layout that holds
   * them (at most 16), in this order, the other tiles empty.
   */
  show(ids: string[]): void {
    const list = ids
      .map((s) => s.trim())
      .filter((s, i, all) => s && all.indexOf(s) === i)
      .slice(0, 16);
    if (!list.length) return;
    this.layout = LAYOUTS.find((l) => l >= list.length) ?? 16;
    this.slots = [...list, ...Array(16).fill(null)].slice(0, 16);
    this.save();
  }

  nameOf(id: string): string {
    return this.cameras.find((c) => c.id === id)?.name ?? id;
  }

  async load(fetchFn: typeof fetch = fetch): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.listStatus = 'loading';
    try {
      const res = await fetchFn('/api/devices?kind=camera', { signal: abort.signal });
      if (!res.ok) throw new Error(String(res.status));
      this.cameras = camerasFrom(await res.json());
      this.listStatus = 'ok';
      // Fill empty tiles with the first cameras on a fresh wall.
      if (this.slots.every((s) => s === null))
        this.slots = [...this.cameras.map((c) => c.id), ...Array(16).fill(null)].slice(0, 16);
    } catch (err) {
      if (abort.signal.aborted) return;
      // The device API may not be there yet; the wall still works with camera ids typed in.
      this.listStatus = 'unavailable';
      void err;
    }
  }

  dispose(): void {
    this.abort?.abort();
  }
}
