/**
 * The device registry as the ingest hot path sees it: an in-memory map of id → {kind, gateway, location,
 * grid}, loaded per principal at CONNECT (the device and its children), lazily for other ids, refreshed in
 * the background, and dropped per id by `invalidate(id)` when the registry changes.
 *
 * `get` is synchronous so that a message of a known device never waits; unknown ids are cached as absent
 * for `negativeTtlMs` so that a flood of made-up ids costs one query each per period, not one per message.
 */
import type { Queryable } from '../store/db.ts';
import { ingestDevicesById, ingestDevicesOf, type IngestDevice } from '../store/ingest.ts';

export type { IngestDevice };

interface Absent {
  absentUntil: number;
}

export class DeviceCache {
  private readonly map = new Map<string, IngestDevice | Absent>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Queryable,
    private readonly now: () => number,
    private readonly negativeTtlMs = 10_000,
    private readonly maxAbsent = 50_000,
  ) {}

  private absentCount = 0;
  /** `gateway \n Frigate camera name` → camera id (names belong to their NVR: two NVRs may both have front_door). */
  private readonly byFrigate = new Map<string, string>();
  /** Frigate names looked up and not found, until this time (ms). */
  private readonly frigateAbsent = new Map<string, number>();

  /**
   * The camera a gateway (Frigate NVR) calls `name`: a child registered with that `frigateName`, or with
   * that id and no frigateName. null when known to be absent, undefined when the gateway's children must
   * be (re)loaded (call `load(gateway)`).
   */
  frigateCamera(gateway: string, name: string): IngestDevice | null | undefined {
    const key = `${gateway}\n${name}`;
    const id = this.byFrigate.get(key);
    if (id !== undefined) {
      const d = this.map.get(id);
      if (d && !('absentUntil' in d) && d.gateway === gateway) return d;
      this.byFrigate.delete(key);
    }
    const until = this.frigateAbsent.get(key);
    if (until !== undefined && until > this.now()) return null;
    if (until !== undefined) {
      this.frigateAbsent.delete(key);
      return undefined;
    }
    // Not indexed: a fresh load of the gateway's children answers; remember a miss after it.
    if (this.loadedGateways.has(gateway)) {
      this.loadedGateways.delete(gateway);
      if (this.frigateAbsent.size > this.maxAbsent) this.frigateAbsent.clear();
      this.frigateAbsent.set(key, this.now() + this.negativeTtlMs);
      return null;
    }
    return undefined;
  }

  /** Gateways whose children were loaded since their last Frigate-name miss. */
  private readonly loadedGateways = new Set<string>();

  /** The device, null when known to be absent, undefined when not loaded (call `load`). */
  get(id: string): IngestDevice | null | undefined {
    const v = this.map.get(id);
    if (v === undefined) return undefined;
    if ('absentUntil' in v) {
      if (v.absentUntil > this.now()) return null;
      this.map.delete(id);
      this.absentCount--;
      return undefined;
    }
    return v;
  }

  /** Load a device and, for a gateway, its children. Concurrent loads of one id share one query. */
  load(id: string): Promise<void> {
    let p = this.loading.get(id);
    if (!p) {
      p = ingestDevicesOf(this.db, id)
        .then((rows) => {
          let found = false;
          for (const d of rows) {
            this.put(d);
            if (d.id === id) found = true;
          }
          if (found && rows.some((d) => d.id === id && d.kind === 'gateway')) this.loadedGateways.add(id);
          if (!found) this.putAbsent(id);
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private put(d: IngestDevice): void {
    const old = this.map.get(d.id);
    if (old && 'absentUntil' in old) this.absentCount--;
    this.map.set(d.id, d);
    if (d.gateway !== null) {
      const key = `${d.gateway}\n${d.frigateName ?? d.id}`;
      this.byFrigate.set(key, d.id);
      this.frigateAbsent.delete(key);
    }
  }

  private putAbsent(id: string): void {
    if (this.absentCount >= this.maxAbsent) {
      for (const [k, v] of this.map) if ('absentUntil' in v) this.map.delete(k);
      this.absentCount = 0;
    }
    const old = this.map.get(id);
    if (!(old && 'absentUntil' in old)) this.absentCount++;
    this.map.set(id, { absentUntil: this.now() + this.negativeTtlMs });
  }

  /** Remember a grid code joined for a device's registered location (the registry had none). */
  setGrid(id: string, grid: string | null): void {
    const d = this.map.get(id);
    if (d && !('absentUntil' in d)) d.grid = grid;
  }

  invalidate(id: string): void {
    const old = this.map.get(id);
    if (old && 'absentUntil' in old) this.absentCount--;
    this.map.delete(id);
  }

  /** Re-read every cached device (registry changes made by other processes). */
  async refresh(): Promise<void> {
    const ids: string[] = [];
    for (const [k, v] of this.map) if (!('absentUntil' in v)) ids.push(k);
    for (let i = 0; i < ids.length; i += 5000) {
      const part = ids.slice(i, i + 5000);
      const rows = await ingestDevicesById(this.db, part);
      const seen = new Set<string>();
      for (const d of rows) {
        const old = this.map.get(d.id);
        // Keep a grid joined in process when the registry still has none.
        if (d.grid === null && old && !('absentUntil' in old) && sameLoc(old.location, d.location)) d.grid = old.grid;
        this.put(d);
        seen.add(d.id);
      }
      for (const id of part) if (!seen.has(id)) this.map.delete(id);
    }
  }
}

function sameLoc(a: [number, number] | null, b: [number, number] | null): boolean {
  return a === b || (!!a && !!b && a[0] === b[0] && a[1] === b[1]);
}
