/**
 * The ingest pipeline: broker hooks (device authentication and topic ACL) and the consumer
 * (validate → join → batch store → acknowledge). See createIngest.
 *
 * Delivery (CONTRACT.md "MQTT v1", DESIGN.md "Data flow of one reading"):
 * - Every message is checked in arrival order — size, topic, ACL, JSON, schema, coordinates — before it can
 *   join a batch, so one bad message never fails a batch. A bad one is counted, written to the reject log,
 *   and dropped (MQTT 3.1.1 has no negative PUBACK; the connection goes on).
 * - Good messages are joined to the grid and queued; one batch at a time is written (multi-row `unnest`
 *   inserts, one transaction) and its messages are acknowledged, in arrival order, only after it committed
 *   (group commit: a batch forms from whatever arrived while the previous one was being written).
 * - A failed batch is retried with backoff, never dropped. While it is retried nothing is acknowledged, so
 *   the broker stops feeding us: in embedded mode aedes reads a client's next socket chunk only after every
 *   packet of the previous chunk was authorised (lib/client.js `nextBatch`), and our authorizePublish calls
 *   back only after commit; in external mode the broker stops at our MQTT 5 Receive Maximum of unacked
 *   messages. Memory stays bounded by (clients × one socket read) or Receive Maximum.
 *
 * aedes 1.2 speaks MQTT 3.1 and 3.1.1 only (lib/handlers/connect.js refuses protocolVersion > 4), so the
 * embedded broker cannot send PUBACK reason codes (0x87); refused publishes are acknowledged and dropped.
 */
import type { AedesOptions, Aedes, Client, PublishPacket } from 'aedes';
import type { Registry } from 'prom-client';
import {
  DEFAULT_TIME_WINDOW,
  MAX_PAYLOAD_BYTES,
  decodeEvent,
  decodeFrigate,
  decodeFrigateReview,
  decodeFrigateStats,
  decodeStatus,
  decodeTelemetry,
  frigateTopic,
  judgeDeviceTime,
  parseTopic,
  type DetectionEvent,
  type RejectReason,
  type TimeFlag,
  type TimeWindow,
} from '../../core/schemas/index.ts';
import { mapVendorType, DEFAULT_VENDOR_TYPES, type VendorTypeTable } from '../../core/rules/vendor-types.ts';
import type { Db } from '../store/db.ts';
import type { GridService } from '../grids/service.ts';
import type { Logger } from '../log.ts';
import { eventKey, insertEvents, insertReadings, type ReadingRow, type EventRow } from './writer.ts';
import {
  foldReview,
  insertRejects,
  mergeHealth,
  pruneRejects,
  setOnlineMany,
  touchLastSeen,
  upsertDetections,
  type RejectInsert,
} from '../store/ingest.ts';
import { DeviceCache, type IngestDevice } from './registry.ts';
import { DeviceAuth, mayActFor, type Principal } from '../broker/auth.ts';
import { ingestMetrics } from './metrics.ts';
import { connectExternalBroker, type ExternalOptions } from './external.ts';

export type { ReadingRow, EventRow };
export type { ExternalOptions };

export interface IngestOptions {
  /** Most rows (readings + events) in one batch. 0 = by database: 1,000 on PostgreSQL, 500 on PGlite. */
  maxBatchRows: number;
  /**
   * Batches written at once (each on its own connection; acknowledged in order all the same). 0 = by
   * database: 3 on PostgreSQL, 1 on PGlite (one WASM engine in this thread: nothing to overlap).
   */
  maxInflightBatches: number;
  /** Retry backoff of a failed batch, ms (doubles up to retryMaxMs). */
  retryMinMs: number;
  retryMaxMs: number;
  /** A batch write that has not settled after this long is treated as failed and retried, ms. */
  batchTimeoutMs: number;
  /** Coalesced last-seen updates: at most one UPDATE per this period, ms. */
  lastSeenFlushMs: number;
  /** Reject log: write buffered rows every this often, ms; buffer at most rejectBuffer rows. */
  rejectFlushMs: number;
  rejectBuffer: number;
  /** Reject log retention: the last rejectsKeep rows, none older than rejectsMaxAgeMs. */
  rejectsKeep: number;
  rejectsMaxAgeMs: number;
  /** Re-read cached registry entries this often (changes made by other processes), ms. */
  registryRefreshMs: number;
  /** At most this many reject-log rows per client (device) are kept: one noisy client cannot flush the rest. */
  rejectsPerClient: number;
  /** Plausibility window of device times against receipt (clock_skew ahead, late behind), s. */
  timeWindow: TimeWindow;
  /** IANA zone for device times without a UTC offset when the device has no `tz` of its own (config TZ). */
  timeZone: string;
  /** Vendor event names → OneGrid types (admin-extensible; ingest/intake/event-types.ts). */
  eventTypes: () => VendorTypeTable;
  /** Wall clock, epoch ms (tests pass their own). */
  now: () => number;
}

export const INGEST_DEFAULTS: IngestOptions = {
  maxBatchRows: 0, // rows; 0 = by database (PGlite: 250 — shorter writes keep alarms' wait behind telemetry short; PostgreSQL: 500)
  maxInflightBatches: 0, // batches; 0 = by database
  retryMinMs: 100, // ms
  retryMaxMs: 2000, // ms
  batchTimeoutMs: 20_000, // ms
  lastSeenFlushMs: 5000, // ms
  rejectFlushMs: 500, // ms
  rejectBuffer: 10_000, // rows
  rejectsKeep: 10_000, // rows
  rejectsMaxAgeMs: 7 * 24 * 3600_000, // 7 days
  registryRefreshMs: 60_000, // ms
  rejectsPerClient: 50, // rows per client
  timeWindow: DEFAULT_TIME_WINDOW, // { futureS: 300, lateS: 600 }
  timeZone: 'Asia/Shanghai',
  eventTypes: () => DEFAULT_VENDOR_TYPES,
  now: () => Date.now(),
};

/** What rules are handed after a commit: the row, and whether it is a new stored fact. */
export type CommittedEventRow = EventRow & {
  deviceKind: string;
  /** The stored event's id (null when it was not stored: a redelivery). */
  eventId: number | null;
  /**
   * True when this message stored a new event. False for a Frigate object's later phase (update/end) folded
   * into its stored event: the rules must not count it again.
   */
  fresh: boolean;
  /** The case the stored event already belongs to (possibly rejected), when known. */
  caseId: string | null;
};

export interface IngestDeps {
  db: Db;
  grids: Pick<GridService, 'join'>;
  log: Logger;
  registry: Registry;
  /**
   * Called after a batch of events committed (rules and cases listen here) — only with stored facts: a
   * redelivered (device, seq, ts) is not passed on; a Frigate object's later phases come with fresh false.
   */
  onEvents?(events: CommittedEventRow[]): void;
  /** Called after a batch of readings committed. */
  onReadings?(readings: (ReadingRow & { deviceKind: string })[]): void;
  /** Device online/offline changes (from dev/{id}/status). */
  onDeviceStatus?(deviceId: string, online: boolean, at: Date): void;
  /** Tuning; defaults in INGEST_DEFAULTS. */
  options?: Partial<IngestOptions>;
}

export interface IngestPipeline {
  /** aedes options for the embedded broker (authenticate, authorizePublish, …). */
  readonly brokerHooks: Pick<
    AedesOptions,
    'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward' | 'published'
  >;
  /** Embedded mode: consume from this aedes instance. */
  attachEmbedded(aedes: Aedes): void;
  /** External mode: connect to MQTT_URL as an MQTT 5 client with $share/ subscriptions. */
  connectExternal(url: string, opts?: ExternalOptions): Promise<void>;
  /** Registry changed (device added, secret rotated): drop cached credentials/ACL for it. */
  invalidate(deviceId: string): void;
  /** Stop taking messages, flush what is queued, and resolve when it committed. */
  stop(): Promise<void>;
  /** Messages received and not yet acknowledged. */
  readonly queueDepth: number;
  /** Write buffered reject-log rows now (tests, shutdown). */
  flushRejects(): Promise<void>;
  /** A device's or gateway's MQTT credential (for an external broker's HTTP authentication hook). */
  checkCredentials(id: string, secret: string): Promise<Principal | null>;
}

/** Where a message came from. principal null: an external broker (it authenticated the publisher). */
export interface MessageSource {
  clientId: string | null;
  principal: Principal | null;
}

type Ack = (err?: Error | null) => void;

interface Item {
  t0: number;
  ack: Ack;
  readings: (ReadingRow & { deviceKind: string })[] | null;
  event: (EventRow & { deviceKind: string }) | null;
  detection: (EventRow & { deviceKind: string }) | null;
  status: { id: string; online: boolean; at: Date } | null;
  review: { deviceId: string; reviewId: string; severity: string | null; detections: string[] } | null;
  rows: number;
}

interface Msg {
  src: MessageSource;
  topic: string;
  payload: Buffer;
  ack: Ack;
  t0: number;
  packet: PublishPacket | null;
}

type Outcome =
  | { k: 'item'; item: Item; deviceId: string; skew?: number | null; skipped?: string[] }
  | { k: 'reject'; reason: RejectReason; detail: string }
  | { k: 'load'; id: string };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Text that PostgreSQL takes: no U+0000, bounded length. */
function logText(s: string | null, max: number): string | null {
  if (s === null) return null;
  // eslint-disable-next-line no-control-regex -- PostgreSQL text refuses U+0000: replace it
  return (s.length > max ? s.slice(0, max) : s).replace(/\u0000/g, '\uFFFD');
}

export function createIngest(deps: IngestDeps): IngestPipeline {
  const o: IngestOptions = { ...INGEST_DEFAULTS, ...deps.options };
  const { db, log } = deps;
  const m = ingestMetrics(deps.registry);
  const devices = new DeviceCache(db, o.now);
  const auth = new DeviceAuth(db, devices, o.now);
  /** Payloads of refused publishes: aedes must not forward them to subscribers (authorizeForward). */
  const refusedPayloads = new WeakSet<Buffer>();

  let stopping = false;
  const pending: Item[] = [];
  let pendingHead = 0;
  let inflightCount = 0;
  /** A batch with status changes is written alone, so online/offline of a device keep their order. */
  let barrier = false;
  let batchNo = 0;
  let nextToFinish = 0;
  const committed = new Map<number, Item[]>();
  const maxBatchRows = o.maxBatchRows > 0 ? o.maxBatchRows : db.kind === 'postgres' ? 500 : 250;
  const maxInflight = o.maxInflightBatches > 0 ? o.maxInflightBatches : db.kind === 'postgres' ? 3 : 1;
  let scheduled = false;
  let depth = 0;
  let idleWaiters: (() => void)[] = [];
  const waiting: Msg[] = [];
  let draining = false;
  let lastSeen = new Map<string, number>();
  /** Latest clock skew per device (device time − receipt, ms), flushed with last-seen. */
  let skews = new Map<string, number>();
  /** Recent QoS 1 packet ids per client: a DUP resend of one already taken is acknowledged, not stored again. */
  const recentIds = new Map<string, Set<number>>();
  let lastTouch = 0;
  let rejectBuf: RejectInsert[] = [];
  /** Rows buffered per client since the last flush (bounded by rejectsPerClient). */
  let rejectPerClient = new Map<string, number>();
  let rejectCapped = false;
  let rejectsSincePrune = 0;
  let lastFailLog = 0;
  const timers: NodeJS.Timeout[] = [];
  const externals: { end(): Promise<void> }[] = [];

  // ---- classification: everything a message is checked for, synchronous unless the registry must load ----

  function joinGrid(lng: number, lat: number): string | null {
    try {
      return deps.grids.join(lng, lat).grid ?? null;
    } catch {
      return null;
    }
  }

  /** Location and grid of a message: its own `loc` joined now, or the device's registered one (joined once). */
  function place(
    d: IngestDevice,
    loc: [number, number] | null,
  ): { lng: number | null; lat: number | null; grid: string | null } {
    if (loc) return { lng: loc[0], lat: loc[1], grid: joinGrid(loc[0], loc[1]) };
    if (!d.location) return { lng: null, lat: null, grid: null };
    if (d.grid === null) devices.setGrid(d.id, joinGrid(d.location[0], d.location[1]));
    return { lng: d.location[0], lat: d.location[1], grid: d.grid };
  }

  function parseJson(payload: Buffer): { ok: true; v: unknown } | { ok: false; detail: string } {
    try {
      return { ok: true, v: JSON.parse(payload.toString('utf8')) };
    } catch (e) {
      return { ok: false, detail: String((e as Error).message).slice(0, 200) };
    }
  }

  /** Device time judged against receipt: the flag, and the skew to record (not for late: a queue, not a clock). */
  function judge(occurredMs: number, receivedMs: number): { flag: TimeFlag | null; skew: number | null } {
    const flag = judgeDeviceTime(occurredMs, receivedMs, o.timeWindow);
    if (flag) m.timeFlags.inc({ flag });
    return { flag, skew: flag === 'late' ? null : occurredMs - receivedMs };
  }

  /** A Frigate event of camera `cam` (its NVR's `gateway`) → the stored detection row. */
  function detectionItem(msg: Msg, cam: IngestDevice, v: DetectionEvent, gateway: string | null): Outcome {
    const received = o.now();
    const { flag, skew } = judge(v.ts, received);
    const at = place(cam, null);
    const attrs: Record<string, unknown> = {
      label: v.label,
      score: v.score,
      camera: v.camera,
      frigateId: v.frigateId,
      phase: v.phase,
      hasSnapshot: v.hasSnapshot,
      hasClip: v.hasClip,
    };
    if (gateway) attrs.nvr = gateway;
    if (v.endTs !== null) attrs.endTs = new Date(v.endTs).toISOString();
    if (v.zones.length) attrs.zones = v.zones;
    if (v.enteredZones.length) attrs.enteredZones = v.enteredZones;
    if (v.subLabel !== null) attrs.subLabel = v.subLabel;
    if (v.subLabelScore !== null) attrs.subLabelScore = v.subLabelScore;
    if (v.plate !== null) attrs.plate = v.plate;
    if (v.plateScore !== null) attrs.plateScore = v.plateScore;
    if (Object.keys(v.attributes).length) attrs.attributes = v.attributes;
    const row = {
      deviceId: cam.id,
      seq: null,
      externalId: v.frigateId,
      ts: new Date(v.ts),
      receivedAt: new Date(received),
      timeFlag: flag,
      type: 'ai_detection',
      severity: null,
      ...at,
      attrs,
      deviceKind: cam.kind,
    };
    return { k: 'item', deviceId: cam.id, skew, item: { ...emptyItem(msg), detection: row, rows: 1 } };
  }

  function emptyItem(msg: Msg): Item {
    return {
      t0: msg.t0,
      ack: msg.ack,
      readings: null,
      event: null,
      detection: null,
      status: null,
      review: null,
      rows: 0,
    };
  }

  /**
   * A topic under a gateway's Frigate topic_prefix: events and reviews are stored facts; available and stats
   * are the NVR's health; everything else (retained switches, motion, object counts) is handled quietly.
   * null: not a Frigate topic of this gateway.
   */
  function classifyNvr(msg: Msg, gw: IngestDevice): Outcome | null {
    const kind = frigateTopic(msg.topic, gw.topicPrefix ?? 'frigate');
    if (kind === null) return null;
    if (kind === 'other') {
      m.handled.inc({ kind: 'nvr_chatter' });
      return { k: 'item', deviceId: gw.id, item: emptyItem(msg) };
    }
    const text = msg.payload.toString('utf8');
    if (kind === 'available') {
      m.handled.inc({ kind: 'nvr_health' });
      const online = text.trim() === 'online';
      const at = new Date(o.now());
      void mergeHealth(db, gw.id, { online, availableAt: at.toISOString() }).catch((e) =>
        logFailure(e, 'nvr health write failed'),
      );
      return { k: 'item', deviceId: gw.id, item: { ...emptyItem(msg), status: { id: gw.id, online, at } } };
    }
    const j = parseJson(msg.payload);
    if (!j.ok) return { k: 'reject', reason: 'bad_json', detail: j.detail };
    if (kind === 'stats') {
      const r = decodeFrigateStats(j.v);
      if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
      m.handled.inc({ kind: 'nvr_health' });
      void mergeHealth(db, gw.id, { online: true, stats: r.value, statsAt: new Date(o.now()).toISOString() }).catch(
        (e) => logFailure(e, 'nvr health write failed'),
      );
      return { k: 'item', deviceId: gw.id, item: emptyItem(msg) };
    }
    if (kind === 'reviews') {
      const r = decodeFrigateReview(j.v);
      if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
      const cam = devices.frigateCamera(gw.id, r.value.camera);
      if (cam === undefined) return { k: 'load', id: gw.id };
      if (!cam) return { k: 'reject', reason: 'acl', detail: `camera ${r.value.camera} is not a camera of ${gw.id}` };
      m.handled.inc({ kind: 'review' });
      const v = r.value;
      return {
        k: 'item',
        deviceId: gw.id,
        item: {
          ...emptyItem(msg),
          review: { deviceId: cam.id, reviewId: v.reviewId, severity: v.severity, detections: v.detections },
          rows: 1, // a write (folded into stored events), in order behind them
        },
      };
    }
    const r = decodeFrigate(j.v);
    if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
    const cam = devices.frigateCamera(gw.id, r.value.camera);
    if (cam === undefined) return { k: 'load', id: gw.id };
    if (!cam)
      return {
        k: 'reject',
        reason: 'acl',
        detail: `camera ${r.value.camera} is not a registered camera of ${gw.id} (register it with gateway ${gw.id} and frigateName ${r.value.camera})`,
      };
    return detectionItem(msg, cam, r.value, gw.id);
  }

  function classify(msg: Msg): Outcome {
    const { src, topic, payload } = msg;
    if (payload.length > MAX_PAYLOAD_BYTES)
      return { k: 'reject', reason: 'too_large', detail: `${payload.length} bytes > ${MAX_PAYLOAD_BYTES}` };
    const t = parseTopic(topic);
    const p = src.principal;
    if (p && p.kind === 'gateway' && (t === null || t.kind === 'frigate')) {
      // A Frigate NVR under its own topic_prefix: its cameras are named per NVR.
      const gw = devices.get(p.id);
      if (gw === undefined) return { k: 'load', id: p.id };
      const out = gw ? classifyNvr(msg, gw) : null;
      if (out) return out;
    }
    if (!t) return { k: 'reject', reason: 'unknown_topic', detail: 'not a v1 topic' };
    const empty = emptyItem(msg);

    if (t.kind === 'frigate') {
      if (p && p.kind !== 'gateway') return { k: 'reject', reason: 'acl', detail: `${p.id} is not a gateway` };
      if (p) return { k: 'reject', reason: 'unknown_topic', detail: `${p.id} publishes under another topic_prefix` };
      // External broker: the publisher is not known; the camera is found by its id.
      const j = parseJson(payload);
      if (!j.ok) return { k: 'reject', reason: 'bad_json', detail: j.detail };
      const r = decodeFrigate(j.v);
      if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
      const cam = devices.get(r.value.camera);
      if (cam === undefined) return { k: 'load', id: r.value.camera };
      if (!cam || cam.gateway === null)
        return { k: 'reject', reason: 'acl', detail: `camera ${r.value.camera} is not a child of a gateway` };
      return detectionItem(msg, cam, r.value, cam.gateway);
    }

    const d = devices.get(t.deviceId);
    if (d === undefined) return { k: 'load', id: t.deviceId };
    if (src.principal) {
      const ok = mayActFor(src.principal, t.deviceId, devices);
      if (ok === undefined) return { k: 'load', id: t.deviceId };
      if (!ok) return { k: 'reject', reason: 'acl', detail: `${src.principal.id} may not publish for ${t.deviceId}` };
    }
    if (d === null) return { k: 'reject', reason: 'acl', detail: `${t.deviceId} is not registered` };

    if (t.kind === 'status') {
      const r = decodeStatus(payload.toString('utf8'));
      if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
      return {
        k: 'item',
        deviceId: d.id,
        item: { ...empty, status: { id: d.id, online: r.value, at: new Date(o.now()) } },
      };
    }
    const j = parseJson(payload);
    if (!j.ok) return { k: 'reject', reason: 'bad_json', detail: j.detail };
    const timeZone = d.tz ?? o.timeZone;
    const received = o.now();
    const receivedAt = new Date(received);
    if (t.kind === 'telemetry') {
      const r = decodeTelemetry(j.v, { timeZone });
      if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
      let skew: number | null = null;
      let skipped: string[] | undefined;
      const readings = r.value.map((x) => {
        const jt = judge(x.ts, received);
        if (jt.skew !== null) skew = jt.skew;
        if (x.skipped.length) (skipped ??= []).push(...x.skipped);
        return {
          deviceId: d.id,
          seq: x.seq,
          ts: new Date(x.ts),
          receivedAt,
          timeFlag: jt.flag,
          metrics: x.metrics,
          ...place(d, x.loc),
          deviceKind: d.kind,
        };
      });
      return { k: 'item', deviceId: d.id, skew, skipped, item: { ...empty, readings, rows: readings.length } };
    }
    const r = decodeEvent(j.v, { timeZone });
    if (!r.ok) return { k: 'reject', reason: r.reason, detail: r.detail };
    const x = r.value;
    // Vendor names (fireDetection) map to OneGrid's types through the admin-extensible table.
    const mapped = mapVendorType(x.type, o.eventTypes());
    if (mapped.type === null) return { k: 'item', deviceId: d.id, item: empty }; // a keep-alive, not an event
    let attrs = x.attrs;
    if (mapped.type !== x.type) attrs = { ...attrs, vendorType: x.type };
    if (mapped.label && attrs.label === undefined) attrs = { ...attrs, label: mapped.label };
    const jt = judge(x.ts, received);
    const event = {
      deviceId: d.id,
      seq: x.seq,
      externalId: null,
      ts: new Date(x.ts),
      receivedAt,
      timeFlag: jt.flag,
      type: mapped.type,
      severity: x.severity,
      ...place(d, x.loc),
      attrs,
      deviceKind: d.kind,
    };
    return { k: 'item', deviceId: d.id, skew: jt.skew, item: { ...empty, event, rows: 1 } };
  }

  // ---- intake: in arrival order; a message that needs a registry load holds the ones behind it ----

  function handle(src: MessageSource, topic: string, payload: Buffer, ack: Ack, packet: PublishPacket | null): void {
    m.messagesIn.inc();
    if (stopping) {
      // Not acknowledged: the publisher (or the external broker) delivers it again to the next instance.
      ack(new Error('ingest is stopping'));
      return;
    }
    depth++;
    m.queueDepth.set(depth);
    const msg: Msg = { src, topic, payload, ack, t0: performance.now(), packet };
    if (waiting.length) {
      waiting.push(msg);
      return;
    }
    const out = classify(msg);
    if (out.k === 'load') {
      waiting.push(msg);
      void drainWaiting();
      return;
    }
    settle(msg, out);
  }

  async function drainWaiting(): Promise<void> {
    if (draining) return;
    draining = true;
    let delay = o.retryMinMs;
    try {
      while (waiting.length) {
        const msg = waiting[0];
        const out = classify(msg);
        if (out.k === 'load') {
          try {
            await devices.load(out.id);
            delay = o.retryMinMs;
          } catch (e) {
            logFailure(e, 'registry lookup failed; holding messages');
            await sleep(delay);
            delay = Math.min(delay * 2, o.retryMaxMs);
          }
          continue;
        }
        waiting.shift();
        settle(msg, out);
      }
    } finally {
      draining = false;
    }
  }

  /** Remember a QoS 1 packet id of a client; true when this is a DUP resend of one already taken. */
  function seenPacket(clientId: string, packet: PublishPacket): boolean {
    const id = packet.messageId as number;
    let set = recentIds.get(clientId);
    if (set && packet.dup && set.has(id)) return true;
    if (!set) {
      if (recentIds.size >= 100_000) recentIds.clear();
      set = new Set();
      recentIds.set(clientId, set);
    }
    set.add(id);
    if (set.size > 256) set.delete(set.values().next().value as number);
    return false;
  }

  function settle(msg: Msg, out: Exclude<Outcome, { k: 'load' }>): void {
    if (out.k === 'reject') {
      reject(msg, out.reason, out.detail);
      enqueue(emptyItem(msg));
      return;
    }
    const prev = lastSeen.get(out.deviceId);
    const now = o.now();
    if (prev === undefined || prev < now) lastSeen.set(out.deviceId, now);
    if (out.skew !== undefined && out.skew !== null) skews.set(out.deviceId, out.skew);
    if (out.skipped) {
      // Stored without these metrics: each named with its reason in the reject log.
      m.metricsSkipped.inc(out.skipped.length);
      logReject(msg, 'metric_skipped', out.skipped.join('; '));
    }
    enqueue(out.item);
  }

  function reject(msg: Msg, reason: RejectReason, detail: string): void {
    m.rejected.inc({ reason });
    if (msg.packet) {
      // Acknowledged (3.1.1 has no refusal) but neither forwarded nor kept as the retained message.
      refusedPayloads.add(msg.payload);
      msg.packet.retain = false;
    }
    log.debug({ client: msg.src.clientId, topic: msg.topic, reason, detail }, 'mqtt message rejected');
    logReject(msg, reason, detail);
  }

  /** A reject-log row, bounded in all (rejectBuffer) and per client (rejectsPerClient). */
  function logReject(msg: Msg, reason: string, detail: string): void {
    const client = msg.src.clientId ?? msg.src.principal?.id ?? '';
    const n = rejectPerClient.get(client) ?? 0;
    if (rejectBuf.length >= o.rejectBuffer || n >= o.rejectsPerClient) {
      if (n >= o.rejectsPerClient) rejectCapped = true;
      m.rejectLogDropped.inc();
      return;
    }
    rejectPerClient.set(client, n + 1);
    const sample = reason === 'too_large' ? msg.payload.subarray(0, 128) : msg.payload.subarray(0, 512);
    rejectBuf.push({
      at: new Date(o.now()),
      clientId: logText(msg.src.clientId, 256),
      topic: logText(msg.topic, 256),
      reason,
      detail: logText(detail, 500),
      payload: logText(sample.toString('utf8'), 600),
    });
  }

  // ---- batches: group commit, up to maxInflight at once, acknowledged in arrival order after commit ----

  function enqueue(item: Item): void {
    if (item.rows === 0 && item.status === null && inflightCount === 0 && pendingHead === pending.length) {
      // Nothing to store and nothing ahead of it: acknowledge at once.
      finish([item]);
      return;
    }
    pending.push(item);
    if (!scheduled && !barrier && inflightCount < maxInflight) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  function takeBatch(allowStatus: boolean): Item[] {
    let rows = 0;
    let end = pendingHead;
    while (end < pending.length && (end === pendingHead || rows + pending[end].rows <= maxBatchRows)) {
      if (!allowStatus && pending[end].status) break;
      rows += pending[end].rows;
      end++;
    }
    const batch = pending.slice(pendingHead, end);
    pendingHead = end;
    if (pendingHead > 4096 && pendingHead * 2 > pending.length) {
      pending.splice(0, pendingHead);
      pendingHead = 0;
    } else if (pendingHead === pending.length) {
      pending.length = 0;
      pendingHead = 0;
    }
    return batch;
  }

  function flush(): void {
    scheduled = false;
    while (!barrier && inflightCount < maxInflight && pendingHead < pending.length) {
      if (inflightCount > 0 && pending[pendingHead].status) break; // waits to go alone
      const batch = takeBatch(inflightCount === 0);
      const isBarrier = batch.some((it) => it.status !== null);
      if (isBarrier) barrier = true;
      const no = batchNo++;
      inflightCount++;
      writeWithRetry(batch)
        .then(() => {
          committed.set(no, batch);
          // Acknowledge in arrival order: a later batch that committed first waits for the earlier ones.
          for (let b = committed.get(nextToFinish); b; b = committed.get(nextToFinish)) {
            committed.delete(nextToFinish++);
            finish(b);
            afterCommit(b);
          }
        })
        .catch((e) => log.error({ err: e }, 'ingest batch loop failed'))
        .finally(() => {
          inflightCount--;
          if (isBarrier) barrier = false;
          if (pendingHead < pending.length) flush();
          else if (inflightCount === 0 && !waiting.length) notifyIdle();
        });
    }
  }

  function finish(items: Item[]): void {
    const now = performance.now();
    let stored = 0;
    for (const it of items) {
      if (it.rows || it.status) stored++;
      try {
        it.ack(null);
      } catch (e) {
        log.warn({ err: e }, 'ack failed');
      }
      m.ackLatency.observe((now - it.t0) / 1000);
    }
    depth -= items.length;
    m.queueDepth.set(depth);
    if (stored) m.messagesStored.inc(stored);
    if (depth === 0) notifyIdle();
  }

  function notifyIdle(): void {
    if (depth !== 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  async function writeWithRetry(batch: Item[]): Promise<void> {
    let delay = o.retryMinMs;
    for (;;) {
      try {
        await withTimeout(writeBatch(batch), o.batchTimeoutMs);
        return;
      } catch (e) {
        m.batchFailures.inc();
        logFailure(e, 'ingest batch failed; retrying (nothing acknowledged meanwhile)');
        await sleep(delay);
        delay = Math.min(delay * 2, o.retryMaxMs);
      }
    }
  }

  function logFailure(e: unknown, msg: string): void {
    const now = Date.now();
    if (now - lastFailLog < 5000) return;
    lastFailLog = now;
    log.warn({ err: (e as Error)?.message ?? String(e) }, msg);
  }

  /** What each committed batch stored (for afterCommit: rules act on stored facts only). */
  const stored = new WeakMap<
    Item[],
    { events: Map<string, number> | null; detections: Awaited<ReturnType<typeof upsertDetections>> | null }
  >();

  async function writeBatch(batch: Item[]): Promise<void> {
    const readings: ReadingRow[] = [];
    const events: EventRow[] = [];
    const detections = new Map<string, EventRow>();
    const statuses = new Map<string, { id: string; online: boolean; at: Date }>();
    const reviews: NonNullable<Item['review']>[] = [];
    let messages = 0;
    for (const it of batch) {
      if (it.readings) for (const r of it.readings) readings.push(r);
      if (it.event) events.push(it.event);
      if (it.detection) {
        // Fold new/update/end of one Frigate event inside the batch: the upsert may touch a row once.
        const d = it.detection;
        const key = `${d.deviceId}\n${d.externalId}\n${d.ts.getTime()}`;
        const prev = detections.get(key);
        detections.set(key, prev ? { ...d, attrs: { ...prev.attrs, ...d.attrs } } : d);
      }
      if (it.review) reviews.push(it.review);
      if (it.status) {
        statuses.delete(it.status.id);
        statuses.set(it.status.id, it.status);
      }
      if (it.rows || it.status) messages++;
    }
    let touch: Map<string, number> | null = null;
    let touchSkew: Map<string, number> | null = null;
    const now = o.now();
    if (lastSeen.size && now - lastTouch >= o.lastSeenFlushMs) {
      touch = lastSeen;
      lastSeen = new Map();
      touchSkew = skews;
      skews = new Map();
    }
    const steps: ((q: Parameters<Parameters<Db['tx']>[0]>[0]) => Promise<unknown>)[] = [];
    if (readings.length) steps.push((q) => insertReadings(q, readings));
    let storedEvents: Map<string, number> | null = null;
    let storedDetections: Awaited<ReturnType<typeof upsertDetections>> | null = null;
    if (events.length) steps.push(async (q) => (storedEvents = await insertEvents(q, events)));
    if (detections.size)
      steps.push(async (q) => (storedDetections = await upsertDetections(q, [...detections.values()])));
    for (const rv of reviews) steps.push((q) => foldReview(q, rv));
    if (statuses.size) steps.push((q) => setOnlineMany(q, [...statuses.values()]));
    if (touch) steps.push((q) => touchLastSeen(q, touch, touchSkew ?? undefined));
    try {
      if (steps.length === 1) await steps[0](db);
      else if (steps.length > 1)
        await db.tx(async (q) => {
          for (const s of steps) await s(q);
        });
    } catch (e) {
      if (touch) for (const [id, at] of touch) if ((lastSeen.get(id) ?? 0) < at) lastSeen.set(id, at);
      if (touchSkew) for (const [id, sk] of touchSkew) if (!skews.has(id)) skews.set(id, sk);
      throw e;
    }
    if (touch) lastTouch = now;
    stored.set(batch, { events: storedEvents, detections: storedDetections });
    if (messages) m.batchSize.observe(messages);
  }

  function afterCommit(batch: Item[]): void {
    if (deps.onReadings) {
      const rows: (ReadingRow & { deviceKind: string })[] = [];
      for (const it of batch) if (it.readings) for (const r of it.readings) rows.push(r);
      if (rows.length) safe(() => deps.onReadings!(rows), 'onReadings');
    }
    if (deps.onEvents) {
      const st = stored.get(batch);
      const rows: CommittedEventRow[] = [];
      for (const it of batch) {
        if (it.event) {
          const e = it.event;
          const key = eventKey(e.deviceId, e.seq, e.ts.getTime(), e.type);
          const id = st?.events?.get(key);
          if (id === undefined) continue; // a redelivery of a stored fact
          st!.events!.delete(key); // a second copy inside the same batch is a redelivery too
          rows.push({ ...e, eventId: id, fresh: true, caseId: null });
        }
        if (it.detection) {
          const d = it.detection;
          const sd = st?.detections?.get(`${d.deviceId}\n${d.externalId}`);
          const fresh = !!sd?.inserted && !sd.caseId;
          if (sd && sd.inserted) sd.inserted = false; // later phases in this batch are not fresh
          rows.push({ ...d, eventId: sd?.id ?? null, fresh, caseId: sd?.caseId ?? null });
        }
      }
      if (rows.length) safe(() => deps.onEvents!(rows), 'onEvents');
    }
    if (deps.onDeviceStatus)
      for (const it of batch)
        if (it.status) {
          const s = it.status;
          safe(() => deps.onDeviceStatus!(s.id, s.online, s.at), 'onDeviceStatus');
        }
  }

  function safe(f: () => void, what: string): void {
    try {
      f();
    } catch (e) {
      log.error({ err: e }, `${what} listener failed`);
    }
  }

  // ---- reject log ----

  async function flushRejects(): Promise<void> {
    while (rejectBuf.length) {
      const rows = rejectBuf.splice(0, 1000);
      try {
        await insertRejects(db, rows);
        rejectsSincePrune += rows.length;
      } catch (e) {
        // Put them back (bounded by rejectBuffer); the database may be down.
        rejectBuf = rows.concat(rejectBuf).slice(0, o.rejectBuffer);
        logFailure(e, 'reject log write failed');
        return;
      }
    }
    rejectPerClient = new Map();
    if (rejectCapped || rejectsSincePrune >= Math.max(100, o.rejectsKeep / 10)) {
      rejectsSincePrune = 0;
      rejectCapped = false;
      await pruneRejects(db, o.rejectsKeep, o.rejectsMaxAgeMs, new Date(o.now()), o.rejectsPerClient).catch((e) =>
        logFailure(e, 'reject log prune failed'),
      );
    }
  }

  let rejectFlushing: Promise<void> | null = null;
  const flushRejectsOnce = (): Promise<void> =>
    (rejectFlushing ??= flushRejects().finally(() => {
      rejectFlushing = null;
    }));

  timers.push(setInterval(() => void flushRejectsOnce(), o.rejectFlushMs));
  // Last-seen and clock skew of a device that went quiet still reach the registry (not only with a next batch).
  timers.push(
    setInterval(() => {
      if (!lastSeen.size || o.now() - lastTouch < o.lastSeenFlushMs || inflightCount > 0) return;
      const touch = lastSeen;
      const sk = skews;
      lastSeen = new Map();
      skews = new Map();
      lastTouch = o.now();
      touchLastSeen(db, touch, sk).catch((e) => {
        for (const [id, at] of touch) if ((lastSeen.get(id) ?? 0) < at) lastSeen.set(id, at);
        for (const [id, v] of sk) if (!skews.has(id)) skews.set(id, v);
        logFailure(e, 'last-seen update failed');
      });
    }, o.lastSeenFlushMs),
  );
  timers.push(
    setInterval(
      () =>
        void pruneRejects(db, o.rejectsKeep, o.rejectsMaxAgeMs, new Date(o.now()), o.rejectsPerClient).catch((e) =>
          logFailure(e, 'reject log prune failed'),
        ),
      10 * 60_000,
    ),
  );
  timers.push(
    setInterval(
      () => void devices.refresh().catch((e) => logFailure(e, 'registry refresh failed')),
      o.registryRefreshMs,
    ),
  );
  for (const t of timers) t.unref();

  return {
    brokerHooks: {
      authenticate: auth.authenticate,
      authorizeSubscribe: auth.authorizeSubscribe as AedesOptions['authorizeSubscribe'],
      // The PUBACK of a QoS 1 PUBLISH is written only after this callback (aedes lib/handlers/publish.js:
      // authorizePublish → enqueuePublish → PubAck → broker.publish); `published` runs after the PUBACK.
      authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) {
        if (client === null) {
          // A Last Will of a client of a broker instance that died (aedes persistence): trust the broker.
          handle({ clientId: null, principal: null }, packet.topic, packet.payload as Buffer, callback, packet);
          return;
        }
        const principal = auth.principalOf(client);
        if (!principal) {
          callback(new Error('not authenticated'));
          return;
        }
        if (packet.qos > 0 && typeof packet.messageId === 'number' && seenPacket(client.id, packet)) {
          // MQTT 3.1.1 §3.3.1.1: DUP = 1 is a re-delivery of a PUBLISH we already took (the same packet id
          // since its last non-DUP use): acknowledge it, store nothing, forward nothing.
          m.messagesIn.inc();
          m.handled.inc({ kind: 'duplicate' });
          refusedPayloads.add(packet.payload as Buffer);
          packet.retain = false;
          callback(null);
          return;
        }
        handle({ clientId: client.id, principal }, packet.topic, packet.payload as Buffer, callback, packet);
      },
      authorizeForward(_client, packet) {
        return refusedPayloads.has(packet.payload as Buffer) ? null : packet;
      },
    },
    checkCredentials: (id: string, secret: string) => auth.check(id, secret),
    attachEmbedded(aedes: Aedes) {
      aedes.on('clientDisconnect', (client) => log.debug({ client: client.id }, 'mqtt client disconnected'));
    },
    async connectExternal(url: string, opts?: ExternalOptions) {
      const ext = await connectExternalBroker(url, opts ?? {}, {
        log,
        onMessage: (topic, payload, ack) => handle({ clientId: null, principal: null }, topic, payload, ack, null),
      });
      externals.push(ext);
    },
    invalidate(deviceId: string) {
      auth.invalidate(deviceId);
      devices.invalidate(deviceId);
    },
    async stop() {
      stopping = true;
      if (depth > 0) await new Promise<void>((r) => idleWaiters.push(r));
      for (const t of timers) clearInterval(t);
      for (const e of externals.splice(0)) await e.end();
      if (lastSeen.size) await touchLastSeen(db, lastSeen, skews).catch(() => {});
      await flushRejectsOnce();
    },
    get queueDepth() {
      return depth;
    },
    flushRejects: flushRejectsOnce,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`batch write did not settle in ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
