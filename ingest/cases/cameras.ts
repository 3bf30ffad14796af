/**
 * Linked cameras: a static spatial index (kdbush + geokdbush great-circle search) over the registered
 * cameras, rebuilt when the registry changes. `near` answers the nearest cameras within a radius of a
 * point [lng, lat], nearest first.
 */
import KDBush from 'kdbush';
import { around } from 'geokdbush';
import type { Queryable } from '../store/db.ts';
import { listDevices } from '../store/devices.ts';

export class CameraIndex {
  private index: KDBush | null = null;
  private ids: string[] = [];

  /** Rebuild from the device registry (every device of kind `camera` with a location). */
  async load(q: Queryable): Promise<number> {
    const cams = (await listDevices(q, { kind: 'camera', limit: 1_000_000 })).filter((d) => d.location);
    this.replace(cams.map((d) => ({ id: d.id, location: d.location as [number, number] })));
    return cams.length;
  }

  replace(cams: { id: string; location: [number, number] }[]): void {
    if (cams.length === 0) {
      this.index = null;
      this.ids = [];
      return;
    }
    const idx = new KDBush(cams.length);
    for (const c of cams) idx.add(c.location[0], c.location[1]);
    idx.finish();
    this.index = idx;
    this.ids = cams.map((c) => c.id);
  }

  /** Camera ids within `radiusM` metres of [lng, lat], nearest first, at most `max`. */
  near(loc: [number, number] | null, radiusM: number, max = 6): string[] {
    if (!loc || !this.index || radiusM <= 0) return [];
    return around(this.index, loc[0], loc[1], max, radiusM / 1000).map((i) => this.ids[i]);
  }

  get size(): number {
    return this.ids.length;
  }
}
