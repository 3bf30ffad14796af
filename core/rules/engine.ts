/**
 * The rule engine: events and readings in, decisions out. Its state is plain data (`EngineState`, JSON
 * serialisable) so the runner can persist it or rebuild it; it does no I/O and reads no clock — `now` is
 * passed in and event windows use the events' own `ts`.
 *
 * Order of judgement for an event that matches a rule:
 *   1. repeat: the same device and signature (type, or ai_detection/label) has an open case → add to it;
 *   2. fusion: an open case of the rule's fusion group within radiusM and windowS → join it, and raise it
 *      to the group's priority when the new evidence is of the other modality (camera vs. sensor);
 *   3. storm control: the (base grid, rule) bucket already opened maxCasesPerGridRule cases in its
 *      window → add to the newest of them that is still open;
 *   4. otherwise open a case.
 * The contract's default rules are DEFAULT_RULES_TEXT in rulesfile.ts.
 */
import type { Priority } from '../cases/types.ts';
import { haversineM } from './geo.ts';
import { categoryById } from '../cases/categories.ts';
import { DEFAULT_RULES } from './rulesfile.ts';
import type {
  LngLat,
  Modality,
  Reading,
  RuleDecision,
  RuleEvent,
  RuleSet,
  ThresholdRule,
  WatchedDevice,
  AddToCaseDecision,
} from './types.ts';
import type { GridRef } from '../cases/types.ts';

export interface OpenCaseState {
  key: string;
  rule: string;
  deviceId: string;
  loc: LngLat | null;
  gridCode: string | null;
  fuse: string | null;
  modalities: Modality[];
  priority: Priority;
  firstTs: number;
  lastTs: number;
  eventCount: number;
}

export interface StormBucket {
  windowStart: number;
  opened: number;
  keys: string[];
}

export interface ThresholdState {
  /** ts of the first reading of the current run past the threshold; null when not pending. */
  since: number | null;
  active: boolean;
  key: string | null;
}

export interface WatchState extends WatchedDevice {
  lastSeen: number;
  lost: boolean;
  key: string | null;
}

export interface EngineState {
  seq: number;
  open: Record<string, OpenCaseState>;
  /** `deviceId|signature` → key of the open case. */
  byDeviceSig: Record<string, string>;
  /** `gridCode|rule` → bucket. */
  storm: Record<string, StormBucket>;
  /** `deviceId|rule` → threshold state. */
  thresholds: Record<string, ThresholdState>;
  /** Watched devices (heartbeat), keyed `dev:` + id so that no device id can name an Object member. */
  devices: Record<string, WatchState>;
  /**
   * Facts already counted (`fact:` + a Frigate object's device and id) → the case key that holds them and
   * when: later phases of the object never count again, even after its case was rejected.
   */
  facts: Record<string, { key: string; at: number }>;
}

/** How long a counted fact is remembered (a Frigate object lives minutes; its case's rejection days). */
export const FACT_MEMORY_MS = 24 * 3600_000;

export function emptyEngineState(): EngineState {
  return { seq: 0, open: {}, byDeviceSig: {}, storm: {}, thresholds: {}, devices: {}, facts: {} };
}

/** What opening a case needs to know of its rule. */
interface Opener {
  name: string;
  category: string;
  priority: Priority;
  title?: string;
  autoRegister: boolean;
  autoDispatch?: string;
  linkCamerasRadiusM: number;
  fuse?: string;
  fuseJoin?: boolean;
}

interface Occurrence {
  deviceId: string;
  sig: string;
  ts: number;
  loc: LngLat | null;
  grid: GridRef;
  modality: Modality;
  title: string;
  time?: { occurredAt: number; receivedAt: number; flag: 'clock_skew' | 'late' | null };
  /** A late report: its own case, for a person to confirm (no fusion, no storm folding, no dispatch). */
  late?: boolean;
  factId?: string;
  eventId?: number;
}

function gridCodeOf(g: GridRef): string | null {
  return g.grid ?? g.community ?? g.street ?? g.district ?? null;
}

function modalityOf(deviceKind: string, type: string): Modality {
  return deviceKind === 'camera' || type === 'ai_detection' ? 'camera' : 'sensor';
}

export class RuleEngine {
  private rules: RuleSet;
  state: EngineState;

  constructor(rules: RuleSet = DEFAULT_RULES, state: EngineState = emptyEngineState()) {
    this.rules = rules;
    this.state = state;
  }

  /** Swap the rule set (after rulesfile.parseRules accepted a new file); open cases and timers stay. */
  setRules(rules: RuleSet): void {
    this.rules = rules;
  }

  getRules(): RuleSet {
    return this.rules;
  }

  /** A deep copy of the state, for persisting. */
  snapshot(): EngineState {
    return JSON.parse(JSON.stringify(this.state)) as EngineState;
  }

  // -------------------------------------------------------------------------------------------------

  onEvent(e: RuleEvent, now: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    this.heard(e.deviceId, now, out);
    const facts = (this.state.facts ??= {});
    // A later phase of a fact already counted (a Frigate object's update/end): one fact, counted once.
    if (e.factId && facts[`fact:${e.factId}`]) return out;
    let rule: Opener | undefined;
    let sig = e.type;
    if (e.type === 'ai_detection') {
      const label = typeof e.attrs?.label === 'string' ? e.attrs.label : '';
      // A detection without a score (many cameras send none) counts: the camera decided it.
      const score = typeof e.attrs?.score === 'number' ? e.attrs.score : null;
      const d = this.rules.detections.find((x) => x.label === label);
      if (d && (score === null || score >= d.minScore)) rule = d;
      sig = `ai_detection/${label}`;
    } else {
      rule = this.rules.events.find((x) => x.type === e.type);
    }
    if (!rule) return out;
    const time =
      e.occurredAt !== undefined && e.receivedAt !== undefined
        ? { occurredAt: e.occurredAt, receivedAt: e.receivedAt, flag: e.timeFlag ?? null }
        : undefined;
    const lateS = this.rules.late?.byType[e.type] ?? this.rules.late?.afterS ?? Infinity;
    const late = !!time && time.flag !== 'clock_skew' && time.receivedAt - time.occurredAt > lateS * 1000;
    const title = rule.title ?? defaultTitle(rule.category, rule.name, e.deviceId);
    const occ: Occurrence = {
      deviceId: e.deviceId,
      sig: late ? `late/${sig}` : sig,
      ts: e.ts,
      loc: e.loc,
      grid: e.grid,
      modality: modalityOf(e.deviceKind, e.type),
      title: late ? `迟报 Late report · ${title}` : title,
      ...(time ? { time } : {}),
      ...(late ? { late: true } : {}),
      ...(e.factId ? { factId: e.factId } : {}),
      ...(e.eventId !== undefined ? { eventId: e.eventId } : {}),
    };
    const ds = this.occur(
      late ? { ...rule, autoRegister: false, autoDispatch: undefined, fuse: undefined } : rule,
      occ,
    );
    if (e.factId) {
      const key = this.keyOfDecisions(ds);
      if (key) facts[`fact:${e.factId}`] = { key, at: now };
    }
    out.push(...ds);
    return out;
  }

  onReading(r: Reading, now: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    this.heard(r.deviceId, now, out);
    for (const t of this.rules.thresholds) {
      const v = r.metrics[t.metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (t.deviceKinds && !(r.deviceKind && t.deviceKinds.includes(r.deviceKind))) continue;
      out.push(...this.threshold(t, r, v));
    }
    return out;
  }

  /** Heartbeat loss and housekeeping. Call every few seconds. */
  onTick(now: number): RuleDecision[] {
    const out: RuleDecision[] = [];
    const hb = this.rules.heartbeat;
    // Gateways first: a child whose gateway is lost is silent because of it — one case, the gateway's.
    const watched = Object.values(this.state.devices).sort(
      (a, b) => Number(b.deviceKind === 'gateway') - Number(a.deviceKind === 'gateway'),
    );
    for (const d of watched) {
      if (d.lost || d.intervalS <= 0) continue;
      if (now - d.lastSeen > hb.multiplier * d.intervalS * 1000) {
        d.lost = true;
        const gw = d.gateway ? this.state.devices[`dev:${d.gateway}`] : undefined;
        if (gw?.lost) continue;
        const opener: Opener = {
          name: 'heartbeat',
          category: hb.category,
          priority: hb.priority,
          autoRegister: false,
          linkCamerasRadiusM: 0,
        };
        const decisions = this.occur(opener, {
          deviceId: d.deviceId,
          sig: 'heartbeat',
          ts: now,
          loc: d.loc,
          grid: d.grid,
          modality: 'sensor',
          title: `设备离线 ${d.deviceId} offline (no message for ${hb.multiplier} × ${d.intervalS} s)`,
        });
        d.key = this.keyOfDecisions(decisions);
        out.push(...decisions);
      }
    }
    const stormMs = this.rules.storm.windowS * 1000;
    for (const [b, bucket] of Object.entries(this.state.storm)) {
      if (now - bucket.windowStart >= stormMs) delete this.state.storm[b];
    }
    const facts = (this.state.facts ??= {});
    for (const [f, v] of Object.entries(facts)) if (now - v.at > FACT_MEMORY_MS) delete facts[f];
    return out;
  }

  /** The case behind `key` was closed (or rejected, merged): later events open a new one. */
  onCaseClosed(key: string): void {
    delete this.state.open[key];
    for (const [k, v] of Object.entries(this.state.byDeviceSig)) if (v === key) delete this.state.byDeviceSig[k];
    for (const t of Object.values(this.state.thresholds)) if (t.key === key) t.key = null;
    for (const d of Object.values(this.state.devices)) if (d.key === key) d.key = null;
  }

  /** Watch a device's heartbeat; it counts as heard at `now`. */
  watchDevice(d: WatchedDevice, now: number): void {
    const prev = this.state.devices[`dev:${d.deviceId}`];
    this.state.devices[`dev:${d.deviceId}`] = {
      ...d,
      lastSeen: prev?.lastSeen ?? now,
      lost: prev?.lost ?? false,
      key: prev?.key ?? null,
    };
  }

  unwatchDevice(deviceId: string): void {
    delete this.state.devices[`dev:${deviceId}`];
  }

  // -------------------------------------------------------------------------------------------------

  private heard(deviceId: string, now: number, out: RuleDecision[]): void {
    const d = this.state.devices[`dev:${deviceId}`];
    if (!d) return;
    d.lastSeen = Math.max(d.lastSeen, now);
    if (d.lost) {
      d.lost = false;
      if (d.key && this.state.open[d.key]) {
        out.push({ kind: 'condition_cleared', key: d.key, reason: `${deviceId} heard again`, ts: now });
      }
    }
  }

  private keyOfDecisions(ds: RuleDecision[]): string | null {
    for (const d of ds) if (d.kind === 'open_case' || d.kind === 'add_to_case') return d.key;
    return null;
  }

  private threshold(t: ThresholdRule, r: Reading, v: number): RuleDecision[] {
    const id = `${r.deviceId}|${t.name}`;
    const st = (this.state.thresholds[id] ??= { since: null, active: false, key: null });
    const past = t.op === '>' ? v > t.value : v < t.value;
    // Hysteresis: once past the threshold the condition holds until a reading beyond `clear`.
    const cleared = t.op === '>' ? v < t.clear : v > t.clear;
    if (cleared) {
      const wasActive = st.active;
      st.since = null;
      st.active = false;
      if (wasActive && st.key && this.state.open[st.key]) {
        return [
          { kind: 'condition_cleared', key: st.key, reason: `${t.metric} = ${v} back past ${t.clear}`, ts: r.ts },
        ];
      }
      return [];
    }
    if (st.active) return [];
    if (st.since === null) {
      if (!past) return [];
      st.since = r.ts;
    }
    if (r.ts - st.since < t.forS * 1000) return [];
    st.active = true;
    const decisions = this.occur(t, {
      deviceId: r.deviceId,
      sig: `metric/${t.name}`,
      ts: r.ts,
      loc: r.loc,
      grid: r.grid,
      modality: 'sensor',
      title: t.title ?? `${defaultTitle(t.category, t.name, r.deviceId)} (${t.metric} ${t.op} ${t.value}, ${t.forS} s)`,
    });
    st.key = this.keyOfDecisions(decisions);
    return decisions;
  }

  private occur(rule: Opener, o: Occurrence): RuleDecision[] {
    const s = this.state;
    const devSig = `${o.deviceId}|${o.sig}`;

    // 1. repeat of the same device and signature while its case is open
    const repeatKey = s.byDeviceSig[devSig];
    if (repeatKey && s.open[repeatKey]) {
      return [this.add(repeatKey, o, 'repeat')];
    }

    // 2. fusion (never for a late report: its time is not now)
    const group = rule.fuse && !o.late ? this.rules.fusion[rule.fuse] : undefined;
    if (group && rule.fuseJoin !== false && o.loc) {
      const windowMs = group.windowS * 1000;
      let best: OpenCaseState | null = null;
      let bestD = Infinity;
      for (const c of Object.values(s.open)) {
        if (c.fuse !== rule.fuse || !c.loc) continue;
        if (o.ts - c.lastTs > windowMs || c.firstTs - o.ts > windowMs) continue;
        const dist = haversineM(c.loc, o.loc);
        if (dist <= group.radiusM && dist < bestD) {
          best = c;
          bestD = dist;
        }
      }
      if (best) {
        s.byDeviceSig[devSig] = best.key;
        const out: RuleDecision[] = [this.add(best.key, o, 'fusion')];
        if (!best.modalities.includes(o.modality)) {
          best.modalities.push(o.modality);
          if (group.raiseTo < best.priority) {
            best.priority = group.raiseTo;
            out.push({
              kind: 'raise_priority',
              key: best.key,
              priority: group.raiseTo,
              reason: `${o.modality} evidence from ${o.deviceId} within ${group.radiusM} m and ${group.windowS} s`,
              ts: o.ts,
            });
          }
        }
        return out;
      }
    }

    // 3. storm control per (base grid, rule)
    const gridCode = gridCodeOf(o.grid);
    const bucketId = `${gridCode ?? 'none'}|${rule.name}`;
    const stormMs = this.rules.storm.windowS * 1000;
    let bucket = s.storm[bucketId];
    if (!bucket || o.ts - bucket.windowStart >= stormMs || o.ts < bucket.windowStart - stormMs) {
      bucket = s.storm[bucketId] = { windowStart: o.ts, opened: 0, keys: [] };
    }
    if (bucket.opened >= this.rules.storm.maxCasesPerGridRule && !o.late) {
      for (let i = bucket.keys.length - 1; i >= 0; i--) {
        const k = bucket.keys[i];
        if (s.open[k]) {
          s.byDeviceSig[devSig] = k;
          return [this.add(k, o, 'storm')];
        }
      }
    }

    // 4. a new case
    s.seq += 1;
    const key = `${rule.name}:${o.deviceId}:${o.ts}:${s.seq}`;
    s.open[key] = {
      key,
      rule: rule.name,
      deviceId: o.deviceId,
      loc: o.loc,
      gridCode,
      fuse: rule.fuse ?? null,
      modalities: [o.modality],
      priority: rule.priority,
      firstTs: o.ts,
      lastTs: o.ts,
      eventCount: 1,
    };
    s.byDeviceSig[devSig] = key;
    bucket.opened += 1;
    bucket.keys.push(key);
    return [
      {
        kind: 'open_case',
        key,
        rule: rule.name,
        category: rule.category,
        priority: rule.priority,
        title: o.title,
        location: o.loc,
        grid: { ...o.grid },
        source: o.modality === 'camera' ? 'camera' : 'sensor',
        deviceId: o.deviceId,
        autoRegister: rule.autoRegister || rule.autoDispatch !== undefined,
        ...(rule.autoDispatch !== undefined ? { autoDispatch: rule.autoDispatch } : {}),
        linkCamerasRadiusM: rule.linkCamerasRadiusM,
        eventCount: 1,
        ts: o.ts,
        ...(o.time ? { time: o.time } : {}),
        ...(o.late ? { late: true } : {}),
        ...(o.eventId !== undefined ? { eventIds: [o.eventId] } : {}),
      },
    ];
  }

  private add(key: string, o: Occurrence, reason: AddToCaseDecision['reason']): AddToCaseDecision {
    const c = this.state.open[key];
    c.eventCount += 1;
    c.lastTs = Math.max(c.lastTs, o.ts);
    return {
      kind: 'add_to_case',
      key,
      count: 1,
      deviceId: o.deviceId,
      reason,
      ts: o.ts,
      ...(o.eventId !== undefined ? { eventIds: [o.eventId] } : {}),
    };
  }
}

/** Merge consecutive-or-not add_to_case decisions per key into one with the summed count (order kept). */
export function coalesceDecisions(ds: readonly RuleDecision[]): RuleDecision[] {
  const out: RuleDecision[] = [];
  const adds = new Map<string, AddToCaseDecision>();
  for (const d of ds) {
    if (d.kind === 'add_to_case') {
      const prev = adds.get(d.key);
      if (prev) {
        prev.count += d.count;
        prev.ts = Math.max(prev.ts, d.ts);
        if (d.eventIds) prev.eventIds = [...(prev.eventIds ?? []), ...d.eventIds];
        continue;
      }
      const copy = { ...d, ...(d.eventIds ? { eventIds: [...d.eventIds] } : {}) };
      adds.set(d.key, copy);
      out.push(copy);
    } else out.push(d);
  }
  return out;
}

/** A case title the wall can show: the category's Chinese and English names, then the device. */
function defaultTitle(category: string, ruleName: string, deviceId: string): string {
  const c = categoryById(category);
  return c ? `${c.zh} ${c.en} · ${deviceId}` : `${ruleName} · ${deviceId}`;
}
