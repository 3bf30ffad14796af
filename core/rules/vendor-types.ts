/**
 * Vendor event types → OneGrid event types (CONTRACT.md "MQTT v1": fire_alarm, smoke_alarm, heat_alarm,
 * gas_alarm, fault, tamper, ai_detection …). Cameras name their alarms in their makers' words: Hikvision
 * ISAPI `eventType` (ISAPI "Event" chapter: VMD, linedetection, fielddetection, fireDetection …) and Dahua
 * event codes (Dahua HTTP API "eventManager": CrossLineDetection, CrossRegionDetection, FireWarning …).
 *
 * A table maps a vendor name (compared case-insensitively) to a OneGrid type and, for `ai_detection`, the
 * label the rules match on. `null` type: a sign of life that is not an alarm (Hikvision's `videoloss` with
 * eventState inactive is its keep-alive). An admin extends the table (ingest/intake/event-types.ts);
 * unknown names are kept as their snake_case form, so a rule can name them.
 */
export interface VendorTypeEntry {
  /** OneGrid event type; null = not an event (heartbeat). */
  type: string | null;
  /** For ai_detection: attrs.label (e.g. line_crossing, intrusion, fire, smoke). */
  label?: string;
}

export type VendorTypeTable = Record<string, VendorTypeEntry>;

export const DEFAULT_VENDOR_TYPES: VendorTypeTable = {
  // Hikvision ISAPI eventType
  firedetection: { type: 'fire_alarm' },
  smokedetection: { type: 'smoke_alarm' },
  smokeandfiredetection: { type: 'fire_alarm' },
  temperaturealarm: { type: 'heat_alarm' },
  thermometry: { type: 'heat_alarm' },
  linedetection: { type: 'ai_detection', label: 'line_crossing' },
  fielddetection: { type: 'ai_detection', label: 'intrusion' },
  regionentrance: { type: 'ai_detection', label: 'region_entrance' },
  regionexiting: { type: 'ai_detection', label: 'region_exiting' },
  vmd: { type: 'ai_detection', label: 'motion' },
  shelteralarm: { type: 'tamper' },
  tamperdetection: { type: 'tamper' },
  videoloss: { type: 'fault' },
  facedetection: { type: 'ai_detection', label: 'face' },
  // Dahua event codes
  firewarning: { type: 'fire_alarm' },
  smokealarm: { type: 'smoke_alarm' },
  heatimagingtemper: { type: 'heat_alarm' },
  crosslinedetection: { type: 'ai_detection', label: 'line_crossing' },
  crossregiondetection: { type: 'ai_detection', label: 'intrusion' },
  videomotion: { type: 'ai_detection', label: 'motion' },
  videoblind: { type: 'tamper' },
  // OneGrid's own names map to themselves (also after case folding: FIRE_ALARM).
  fire_alarm: { type: 'fire_alarm' },
  smoke_alarm: { type: 'smoke_alarm' },
  heat_alarm: { type: 'heat_alarm' },
  gas_alarm: { type: 'gas_alarm' },
};

/** camelCase / PascalCase / kebab-case → snake_case (fireDetection → fire_detection). */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/**
 * The OneGrid type of a vendor (or OneGrid) event name through `table` (keys lower-case), with the label
 * for ai_detection. Names not in the table keep their snake_case form.
 */
export function mapVendorType(
  name: string,
  table: VendorTypeTable = DEFAULT_VENDOR_TYPES,
): { type: string | null; label: string | null; mapped: boolean } {
  const e = table[name.toLowerCase()];
  if (e) return { type: e.type, label: e.label ?? null, mapped: true };
  return { type: snakeCase(name), label: null, mapped: false };
}
