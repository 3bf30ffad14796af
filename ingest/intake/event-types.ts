/**
 * The vendor event-type table an admin extends (`GET/PUT /api/intake/event-types`): core's defaults
 * (core/rules/vendor-types.ts) with the admin's entries over them, kept in the database (`kv` row
 * `intake.event_types`) so every process reads the same table. Used by camera alarm pushes and by MQTT
 * events that name a vendor type. Re-read every `refreshMs` (changes made by other processes).
 */
import { DomainError } from '../../core/errors.ts';
import { DEFAULT_VENDOR_TYPES, type VendorTypeTable } from '../../core/rules/vendor-types.ts';
import type { Queryable } from '../store/db.ts';
import { getKv, setKv } from '../store/users.ts';

const KEY = 'intake.event_types';
const NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const TYPE = /^[a-z][a-z0-9_]{0,63}$/;

export class EventTypeTable {
  private custom: VendorTypeTable = {};
  private merged: VendorTypeTable = { ...DEFAULT_VENDOR_TYPES };
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Queryable) {}

  /** The table in force: defaults with the admin's entries over them (keys lower-case). */
  readonly table = (): VendorTypeTable => this.merged;

  async load(): Promise<void> {
    this.apply((await getKv<VendorTypeTable>(this.db, KEY)) ?? {});
  }

  start(refreshMs = 60_000): void {
    this.timer = setInterval(() => void this.load().catch(() => {}), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  view(): { defaults: VendorTypeTable; custom: VendorTypeTable; effective: VendorTypeTable } {
    return { defaults: DEFAULT_VENDOR_TYPES, custom: this.custom, effective: this.merged };
  }

  /**
   * Replace the admin's entries: `{ "vendorName": { "type": "fire_alarm" | null, "label"?: "…" } }`.
   * Throws DomainError validation_failed naming the entry at fault.
   */
  async replace(raw: unknown): Promise<void> {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw new DomainError('validation_failed', 'body must be an object of vendor name → {"type", "label"?}');
    const out: VendorTypeTable = {};
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length > 1000) throw new DomainError('validation_failed', 'at most 1,000 entries');
    for (const [name, v] of entries) {
      const field = name;
      if (!NAME.test(name))
        throw new DomainError('validation_failed', `${name}: a vendor name is 1-64 letters, digits, _ . : -`, {
          field,
        });
      const e = v as { type?: unknown; label?: unknown } | null;
      if (!e || typeof e !== 'object' || (e.type !== null && (typeof e.type !== 'string' || !TYPE.test(e.type))))
        throw new DomainError(
          'validation_failed',
          `${name}: type must be a OneGrid event type in snake_case (fire_alarm, ai_detection …) or null (not an alarm)`,
          { field },
        );
      if (e.label !== undefined && (typeof e.label !== 'string' || !TYPE.test(e.label)))
        throw new DomainError('validation_failed', `${name}: label must be snake_case`, { field });
      out[name.toLowerCase()] = { type: e.type as string | null, ...(e.label ? { label: e.label as string } : {}) };
    }
    await setKv(this.db, KEY, out);
    this.apply(out);
  }

  private apply(custom: VendorTypeTable): void {
    this.custom = custom;
    this.merged = { ...DEFAULT_VENDOR_TYPES, ...custom };
  }
}
