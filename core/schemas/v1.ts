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

/** ISO-8601 string or epoch milliseconds. */
export const Timestamp = Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Number()]);
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** A WGS-84 position `[lng, lat]`. The range is checked after the schema, to give `bad_coordinates` its own reason. */
export const Position = Type.Tuple([Type.Number(), Type.Number()]);

export const TelemetryMessage = Type.Object({
  ts: Timestamp,
  seq: Type.Optional(Seq),
  metrics: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Number(), { maxProperties: MAX_METRICS }),
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
  type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' }),
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

/** A decoded reading: timestamps resolved to epoch ms. */
export interface TelemetryReading {
  ts: number;
  seq: number | null;
  metrics: Record<string, number>;
  loc: [number, number] | null;
}

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
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
// 0001-01-01 … 9999-12-31: PostgreSQL timestamptz takes far more, JS Date less; keep to both.
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

/** Epoch ms of an ISO-8601 string or epoch-ms number, or null when it is not a time. */
export function timestampMs(ts: string | number): number | null {
  let ms: number;
  if (typeof ts === 'number') ms = ts;
  else {
    if (!ISO.test(ts)) return null;
    ms = Date.parse(ts);
  }
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : null;
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

/** `dev/{id}/telemetry`: one reading or an array of them. */
export function decodeTelemetry(json: unknown): Decoded<TelemetryReading[]> {
  if (!checkTelemetry.Check(json))
    return fail('schema', firstError(Array.isArray(json) ? checkTelemetryMany : checkTelemetryOne, json));
  const list = Array.isArray(json) ? json : [json];
  const out: TelemetryReading[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const ts = timestampMs(m.ts);
    if (ts === null) return fail('schema', `/ts: not an ISO-8601 time or epoch ms`);
    for (const k in m.metrics)
      if (!pgSafeString(k)) return fail('schema', '/metrics: key with U+0000 or a lone surrogate');
    if (m.loc && !validLngLat(m.loc))
      return fail('bad_coordinates', `/loc: [${m.loc[0]}, ${m.loc[1]}] outside [-180,180]×[-90,90]`);
    out[i] = { ts, seq: m.seq ?? null, metrics: m.metrics, loc: m.loc ?? null };
  }
  return { ok: true, value: out };
}

/** `dev/{id}/event`. */
export function decodeEvent(json: unknown): Decoded<DeviceEvent> {
  if (!checkEvent.Check(json)) return fail('schema', firstError(checkEvent, json));
  const ts = timestampMs(json.ts);
  if (ts === null) return fail('schema', `/ts: not an ISO-8601 time or epoch ms`);
  const attrs = json.attrs ?? {};
  if (!pgSafeJson(attrs)) return fail('schema', `/attrs: too deep, or a string with U+0000 or a lone surrogate`);
  if (json.loc && !validLngLat(json.loc))
    return fail('bad_coordinates', `/loc: [${json.loc[0]}, ${json.loc[1]}] outside [-180,180]×[-90,90]`);
  return {
    ok: true,
    value: {
      ts,
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

/** `frigate/events`. The camera's ownership (ACL) is checked by the caller against the registry. */
export function decodeFrigate(json: unknown): Decoded<DetectionEvent> {
  if (!checkFrigate.Check(json)) return fail('schema', firstError(checkFrigate, json));
  const a = json.after;
  const ts = timestampMs(Math.round(a.start_time * 1000));
  if (ts === null) return fail('schema', '/after/start_time: not a time');
  if (!pgSafeString(a.id) || !pgSafeString(a.camera) || !pgSafeString(a.label))
    return fail('schema', '/after: string with U+0000 or a lone surrogate');
  const zones = (a.current_zones ?? []).filter(pgSafeString);
  const end = typeof a.end_time === 'number' ? timestampMs(Math.round(a.end_time * 1000)) : null;
  const score = a.top_score ?? a.score ?? null;
  return {
    ok: true,
    value: { frigateId: a.id, camera: a.camera, phase: json.type, ts, label: a.label, score, endTs: end, zones },
  };
}

/** The topics of MQTT v1. `dev/{id}/{kind}` with kind telemetry | event | status, or `frigate/events`. */
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
