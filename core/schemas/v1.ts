/**
 * MQTT v1 message schemas (CONTRACT.md, "MQTT v1"): the one source of the wire types. TypeBox schemas,
 * compiled once to JavaScript checkers (TypeCompiler) so that the ingest hot path does no per-message
 * schema interpretation. Used by ingest (validate) and edge (build), both through `core/schemas/index.ts`.
 *
 * Pure: no clock, no I/O. Decoders take already-parsed JSON (`unknown`) and return a typed value or a
 * reason code; the reason codes are part of the contract (reject log, metrics).
 *
 * Unknown extra fields are allowed (the contract changes only by adding), but every field we store is
 * checked, including the two things PostgreSQL refuses inside text/jsonb that JSON allows: U+0000 and lone
 * UTF-16 surrogates (PostgreSQL docs, "JSON Types": `\u0000` is rejected in jsonb). A message that would
 * fail its database batch is refused here instead, so one bad message can never fail a batch.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parseDeviceTime } from './device-time.ts';

export * from './device-time.ts';

/** Reject reasons recorded in the reject log and counted in `onegrid_mqtt_messages_rejected_total{reason}`. */
export type RejectReason = 'bad_json' | 'schema' | 'too_large' | 'bad_coordinates' | 'acl' | 'unknown_topic';
export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_json',
  'schema',
  'too_large',
  'bad_coordinates',
  'acl',
  'unknown_topic',
];

/** Largest accepted payload, bytes (CONTRACT.md: "larger than 256 KiB … is rejected"). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Most readings in one telemetry array. */
export const MAX_TELEMETRY_BATCH = 1000;
/** Most metrics in one reading. */
export const MAX_METRICS = 256;
/** Deepest nesting accepted inside `attrs`. */
export const MAX_ATTRS_DEPTH = 8;

export const Severity = Type.Union([
  Type.Literal('info'),
  Type.Literal('minor'),
  Type.Literal('major'),
  Type.Literal('critical'),
]);
export type Severity = Static<typeof Severity>;

/** ISO-8601 string (with or without offset), epoch milliseconds or epoch seconds (told apart by magnitude). */
export const Timestamp = Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Number()]);
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A WGS-84 position `[lng, lat]`. The range is checked after the schema, to give `bad_coordinates` its own reason. */
export const Position = Type.Tuple([Type.Number(), Type.Number()]);

export const TelemetryMessage = Type.Object({
  ts: Timestamp,
  seq: Type.Optional(Seq),
  // Values are checked one by one (numbers kept, booleans as 0/1, anything else skipped with a reason).
  metrics: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Unknown(), { maxProperties: MAX_METRICS }),
  loc: Type.Optional(Position),
});
export type TelemetryMessage = Static<typeof TelemetryMessage>;

export const TelemetryPayload = Type.Union([
  TelemetryMessage,
  Type.Array(TelemetryMessage, { minItems: 1, maxItems: MAX_TELEMETRY_BATCH }),
]);
export type TelemetryPayload = Static<typeof TelemetryPayload>;

export const EventMessage = Type.Object({
  ts: Timestamp,
  seq: Type.Optional(Seq),
  // OneGrid's snake_case names or a vendor's (fireDetection, CrossLineDetection): mapped by the caller.
  type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_.:-]*$' }),
  severity: Type.Optional(Severity),
  loc: Type.Optional(Position),
  attrs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type EventMessage = Static<typeof EventMessage>;

export const StatusPayload = Type.Union([Type.Literal('online'), Type.Literal('offline')]);
export type StatusPayload = Static<typeof StatusPayload>;

/** The part of a Frigate NVR event (docs.frigate.video, "MQTT: frigate/events") that we read. */
export const FrigateObject = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  camera: Type.String({ minLength: 1, maxLength: 128 }),
  label: Type.String({ minLength: 1, maxLength: 64 }),
  start_time: Type.Number({ minimum: 0 }),
  end_time: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  top_score: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  sub_label: Type.Optional(Type.Unknown()),
  current_zones: Type.Optional(Type.Array(Type.String())),
  entered_zones: Type.Optional(Type.Array(Type.String())),
  recognized_license_plate: Type.Optional(Type.Unknown()),
  recognized_license_plate_score: Type.Optional(Type.Unknown()),
  attributes: Type.Optional(Type.Unknown()),
  current_attributes: Type.Optional(Type.Unknown()),
  has_snapshot: Type.Optional(Type.Boolean()),
  has_clip: Type.Optional(Type.Boolean()),
});
export type FrigateObject = Static<typeof FrigateObject>;

export const FrigateEvent = Type.Object({
  type: Type.Union([Type.Literal('new'), Type.Literal('update'), Type.Literal('end')]),
  before: Type.Optional(Type.Unknown()),
  after: FrigateObject,
});
export type FrigateEvent = Static<typeof FrigateEvent>;

const compile = <T extends TSchema>(s: T) => TypeCompiler.Compile(s);
const checkTelemetry = compile(TelemetryPayload);
// For a useful first error: the union's own error only says "Expected union value".
const checkTelemetryOne = compile(TelemetryMessage);
const checkTelemetryMany = compile(Type.Array(TelemetryMessage, { minItems: 1, maxItems: MAX_TELEMETRY_BATCH }));
const checkEvent = compile(EventMessage);
const checkFrigate = compile(FrigateEvent);

/** `frigate/reviews` (Frigate ≥ 0.14): a review item groups detections (tracked-object ids) of one camera. */
export const FrigateReview = Type.Object({
  type: Type.Union([Type.Literal('new'), Type.Literal('update'), Type.Literal('end'), Type.Literal('genai')]),
  after: Type.Object({
    id: Type.String({ minLength: 1, maxLength: 128 }),
    camera: Type.String({ minLength: 1, maxLength: 128 }),
    severity: Type.Optional(Type.String({ maxLength: 32 })),
    start_time: Type.Optional(Type.Number()),
    end_time: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    data: Type.Optional(
      Type.Object({
        detections: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 1000 })),
        objects: Type.Optional(Type.Array(Type.String())),
        zones: Type.Optional(Type.Array(Type.String())),
        sub_labels: Type.Optional(Type.Array(Type.Unknown())),
      }),
    ),
  }),
});
const checkReview = compile(FrigateReview);

/** A decoded reading: timestamps resolved to epoch ms. */
export interface TelemetryReading {
  ts: number;
  seq: number | null;
  metrics: Record<string, number>;
  loc: [number, number] | null;
  /** Metrics left out, each with its reason (`/metrics/name: …`). */
  skipped: string[];
}

/** How device times are read (parseDeviceTime). */
export interface DecodeOptions {
  /** IANA zone for local times without an offset; null refuses them. */
  timeZone: string | null;
}
const NO_TZ: DecodeOptions = { timeZone: null };

export interface DeviceEvent {
  ts: number;
  seq: number | null;
  type: string;
  severity: Severity | null;
  loc: [number, number] | null;
  attrs: Record<string, unknown>;
}

export interface DetectionEvent {
  /** Frigate event id; one stored event per id. */
  frigateId: string;
  camera: string;
  phase: 'new' | 'update' | 'end';
  /** start_time, epoch ms: the event's timestamp (stable across new/update/end). */
  ts: number;
  label: string;
  score: number | null;
  endTs: number | null;
  zones: string[];
  /** Zones the object entered over its life (entered_zones), current ones included. */
  enteredZones: string[];
  /** sub_label: a string (Frigate < 0.14) or [name, score] (newer). */
  subLabel: string | null;
  subLabelScore: number | null;
  /** recognized_license_plate (Frigate ≥ 0.16 LPR). */
  plate: string | null;
  plateScore: number | null;
  /** attributes (label → score, e.g. face, license_plate) of the object. */
  attributes: Record<string, number>;
  hasSnapshot: boolean;
  hasClip: boolean;
}

export interface ReviewEvent {
  reviewId: string;
  camera: string;
  severity: string | null;
  /** Frigate tracked-object ids the review groups. */
  detections: string[];
  phase: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

/** Epoch ms of an ISO-8601 string with an offset, epoch ms or epoch seconds; null when it is not a time. */
export function timestampMs(ts: string | number): number | null {
  const r = parseDeviceTime(ts, null);
  return r.ok ? r.ms : null;
}

export function validLngLat(p: readonly [number, number]): boolean {
  return p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90;
}

// U+0000, or a surrogate that is not part of a pair: valid in JSON and JS, refused by PostgreSQL.
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const PG_UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string PostgreSQL text/jsonb accepts. */
export function pgSafeString(s: string): boolean {
  return !PG_UNSAFE.test(s);
}

/** Every key and string in `v` is pgSafeString, numbers are finite, nesting ≤ depth. */
export function pgSafeJson(v: unknown, depth = MAX_ATTRS_DEPTH): boolean {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v === 'string') return pgSafeString(v);
  if (typeof v !== 'object' || depth <= 0) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (!pgSafeJson(x, depth - 1)) return false;
    return true;
  }
  for (const k in v as Record<string, unknown>) {
    if (!pgSafeString(k) || !pgSafeJson((v as Record<string, unknown>)[k], depth - 1)) return false;
  }
  return true;
}

function firstError(check: { Errors(v: unknown): Iterable<{ path: string; message: string }> }, v: unknown): string {
  for (const e of check.Errors(v)) return `${e.path || '/'}: ${e.message}`.slice(0, 200);
  return 'does not match the schema';
}

function fail<T>(reason: RejectReason, detail: string): Decoded<T> {
  return { ok: false, reason, detail };
}

/**
 * One metric value as stored: a finite number as is, a boolean as 1/0 (Zigbee2MQTT-style `smoke: false`);
 * anything else null (skipped with a reason).
 */
function metricValue(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/**
 * `dev/{id}/telemetry`: one reading or an array of them. Tolerant payloads, strict storage: a metric that is
 * not a number or boolean is skipped with a per-field reason (`skipped`), the rest stored; a reading whose
 * metrics were all skipped is left out, and the message is refused only when no reading remains.
 */
export function decodeTelemetry(json: unknown, opts: DecodeOptions = NO_TZ): Decoded<TelemetryReading[]> {
  if (!checkTelemetry.Check(json))
    return fail('schema', firstError(Array.isArray(json) ? checkTelemetryMany : checkTelemetryOne, json));
  const list = Array.isArray(json) ? json : [json];
  const out: TelemetryReading[] = [];
  const why: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const at = list.length > 1 ? `/${i}` : '';
    const ts = parseDeviceTime(m.ts, opts.timeZone);
    if (!ts.ok) return fail('schema', `${at}/ts: ${ts.detail}`.slice(0, 300));
    if (m.loc && !validLngLat(m.loc))
      return fail('bad_coordinates', `${at}/loc: [${m.loc[0]}, ${m.loc[1]}] outside [-180,180]×[-90,90]`);
    const metrics: Record<string, number> = {};
    const skipped: string[] = [];
    let given = 0;
    let kept = 0;
    for (const k in m.metrics) {
      given++;
      if (!pgSafeString(k)) return fail('schema', `${at}/metrics: key with U+0000 or a lone surrogate`);
      const v = metricValue(m.metrics[k]);
      if (v === null) {
        const raw = m.metrics[k];
        skipped.push(
          `${at}/metrics/${k}: ${typeof raw === 'number' ? 'not a finite number' : `${kindOf(raw)} is not a number or boolean`}`,
        );
        continue;
      }
      metrics[k] = v;
      kept++;
    }
    if (given > 0 && kept === 0) {
      why.push(...skipped);
      continue;
    }
    out.push({ ts: ts.ms, seq: m.seq ?? null, metrics, loc: m.loc ?? null, skipped });
  }
  if (!out.length) return fail('schema', `no usable metric: ${why.join('; ')}`.slice(0, 500));
  return { ok: true, value: out };
}

/** `dev/{id}/event`. */
export function decodeEvent(json: unknown, opts: DecodeOptions = NO_TZ): Decoded<DeviceEvent> {
  if (!checkEvent.Check(json)) return fail('schema', firstError(checkEvent, json));
  const ts = parseDeviceTime(json.ts, opts.timeZone);
  if (!ts.ok) return fail('schema', `/ts: ${ts.detail}`.slice(0, 300));
  const attrs = json.attrs ?? {};
  if (!pgSafeJson(attrs)) return fail('schema', `/attrs: too deep, or a string with U+0000 or a lone surrogate`);
  if (json.loc && !validLngLat(json.loc))
    return fail('bad_coordinates', `/loc: [${json.loc[0]}, ${json.loc[1]}] outside [-180,180]×[-90,90]`);
  return {
    ok: true,
    value: {
      ts: ts.ms,
      seq: json.seq ?? null,
      type: json.type,
      severity: json.severity ?? null,
      loc: json.loc ?? null,
      attrs,
    },
  };
}

/** `dev/{id}/status`: the raw payload text (`online`/`offline`; a JSON string of either is accepted too). */
export function decodeStatus(text: string): Decoded<boolean> {
  const t = text.trim().replace(/^"(.*)"$/, '$1');
  if (t === 'online') return { ok: true, value: true };
  if (t === 'offline') return { ok: true, value: false };
  return fail('schema', 'status must be "online" or "offline"');
}

const safeStr = (v: unknown, max = 128): string | null =>
  typeof v === 'string' && v.length > 0 && pgSafeString(v) ? v.slice(0, max) : null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** `frigate/events`. The camera's ownership (ACL) is checked by the caller against the registry. */
export function decodeFrigate(json: unknown): Decoded<DetectionEvent> {
  if (!checkFrigate.Check(json)) return fail('schema', firstError(checkFrigate, json));
  const a = json.after;
  const ts = timestampMs(Math.round(a.start_time * 1000));
  if (ts === null) return fail('schema', '/after/start_time: not a time');
  if (!pgSafeString(a.id) || !pgSafeString(a.camera) || !pgSafeString(a.label))
    return fail('schema', '/after: string with U+0000 or a lone surrogate');
  const zones = (a.current_zones ?? []).filter(pgSafeString);
  const entered = [...new Set([...(a.entered_zones ?? []).filter(pgSafeString), ...zones])];
  const end = typeof a.end_time === 'number' ? timestampMs(Math.round(a.end_time * 1000)) : null;
  const score = a.top_score ?? a.score ?? null;
  let subLabel: string | null = null;
  let subLabelScore: number | null = null;
  if (Array.isArray(a.sub_label)) {
    subLabel = safeStr(a.sub_label[0]);
    subLabelScore = num(a.sub_label[1]);
  } else subLabel = safeStr(a.sub_label);
  let plate: string | null = null;
  let plateScore = num(a.recognized_license_plate_score);
  if (Array.isArray(a.recognized_license_plate)) {
    plate = safeStr(a.recognized_license_plate[0], 32);
    plateScore = num(a.recognized_license_plate[1]) ?? plateScore;
  } else plate = safeStr(a.recognized_license_plate, 32);
  const attributes: Record<string, number> = {};
  if (a.attributes && typeof a.attributes === 'object' && !Array.isArray(a.attributes))
    for (const [k, v] of Object.entries(a.attributes as Record<string, unknown>))
      if (pgSafeString(k) && num(v) !== null) attributes[k.slice(0, 64)] = v as number;
  if (Array.isArray(a.current_attributes))
    for (const x of a.current_attributes as unknown[]) {
      const o = x as { label?: unknown; score?: unknown } | null;
      const k = o && safeStr(o.label, 64);
      if (k && num(o.score) !== null) attributes[k] = Math.max(attributes[k] ?? 0, o.score as number);
    }
  return {
    ok: true,
    value: {
      frigateId: a.id,
      camera: a.camera,
      phase: json.type,
      ts,
      label: a.label,
      score,
      endTs: end,
      zones,
      enteredZones: entered,
      subLabel,
      subLabelScore,
      plate,
      plateScore,
      attributes,
      hasSnapshot: a.has_snapshot === true,
      hasClip: a.has_clip === true,
    },
  };
}

/** `frigate/reviews`: the detections a review item groups, with its severity (alert / detection). */
export function decodeFrigateReview(json: unknown): Decoded<ReviewEvent> {
  if (!checkReview.Check(json)) return fail('schema', firstError(checkReview, json));
  const a = json.after;
  if (!pgSafeString(a.id) || !pgSafeString(a.camera)) return fail('schema', '/after: string with U+0000');
  return {
    ok: true,
    value: {
      reviewId: a.id,
      camera: a.camera,
      severity: safeStr(a.severity, 32),
      detections: (a.data?.detections ?? []).filter(pgSafeString),
      phase: json.type,
    },
  };
}

/** The part of `frigate/stats` shown as an NVR's health: CPU, detector speed, per-camera fps. */
export interface NvrStats {
  cpuPct: number | null;
  detectors: Record<string, { inferenceMs: number | null }>;
  cameras: Record<string, { cameraFps: number | null; detectionFps: number | null; processFps: number | null }>;
  uptimeS: number | null;
  version: string | null;
}

/** `frigate/stats` (docs.frigate.video "MQTT": the same JSON as /api/stats). Unknown shapes give nulls. */
export function decodeFrigateStats(json: unknown): Decoded<NvrStats> {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return fail('schema', 'stats must be an object');
  const o = json as Record<string, unknown>;
  const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const detectors: NvrStats['detectors'] = {};
  for (const [k, v] of Object.entries(obj(o.detectors)).slice(0, 32))
    if (pgSafeString(k)) detectors[k.slice(0, 64)] = { inferenceMs: num(obj(v).inference_speed) };
  const cameras: NvrStats['cameras'] = {};
  // Frigate ≥ 0.14 nests cameras under `cameras`; older versions put each camera at the top level.
  const camSrc = o.cameras !== undefined ? obj(o.cameras) : o;
  for (const [k, v] of Object.entries(camSrc).slice(0, 256)) {
    const c = obj(v);
    if (!pgSafeString(k) || c.camera_fps === undefined) continue;
    cameras[k.slice(0, 128)] = {
      cameraFps: num(c.camera_fps),
      detectionFps: num(c.detection_fps),
      processFps: num(c.process_fps),
    };
  }
  const cpu = obj(obj(o.cpu_usages)['frigate.full_system']).cpu;
  const service = obj(o.service);
  return {
    ok: true,
    value: {
      cpuPct: num(typeof cpu === 'string' ? Number(cpu) : cpu),
      detectors,
      cameras,
      uptimeS: num(service.uptime),
      version: safeStr(service.version, 32),
    },
  };
}

/**
 * The topics of MQTT v1: `dev/{id}/{kind}` with kind telemetry | event | status, and `frigate/events`.
 * Other topics of a Frigate NVR under its registered `topic_prefix` (`{prefix}/reviews`, `/available`,
 * `/stats`, `/{camera}/…`) are recognised by the consumer, which knows the publishing gateway's prefix
 * (frigateTopic).
 */
export type V1Topic =
  { kind: 'telemetry' | 'event' | 'status'; deviceId: string } | { kind: 'frigate'; deviceId: null };

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Parse a topic; null when it is not a v1 topic. */
export function parseTopic(topic: string): V1Topic | null {
  if (topic === 'frigate/events') return { kind: 'frigate', deviceId: null };
  if (!topic.startsWith('dev/')) return null;
  const slash = topic.indexOf('/', 4);
  if (slash < 0) return null;
  const id = topic.slice(4, slash);
  const rest = topic.slice(slash + 1);
  if (!DEVICE_ID.test(id)) return null;
  if (rest === 'telemetry' || rest === 'event' || rest === 'status') return { kind: rest, deviceId: id };
  return null;
}

/**
 * A Frigate topic under `prefix` (Frigate's `mqtt.topic_prefix`, default `frigate`): what it carries.
 * `events`/`reviews`/`stats`/`available` are the NVR's; anything else under the prefix (retained
 * `{camera}/…/state` switches, motion, object counts, camera_activity …) is NVR chatter, handled and not stored.
 */
export type FrigateTopic = 'events' | 'reviews' | 'stats' | 'available' | 'other';

export function frigateTopic(topic: string, prefix: string): FrigateTopic | null {
  if (topic.length <= prefix.length + 1 || !topic.startsWith(prefix) || topic[prefix.length] !== '/') return null;
  const rest = topic.slice(prefix.length + 1);
  if (rest === 'events' || rest === 'reviews' || rest === 'stats' || rest === 'available') return rest;
  return 'other';
}
