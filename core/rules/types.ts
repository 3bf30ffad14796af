/**
 * What the rule engine is fed (events and readings, already validated and joined to the grid by ingest)
 * and what it answers (decisions the caller turns into case actions). Times are epoch ms; coordinates
 * are [lng, lat] (WGS-84).
 */
import type { GridRef, Priority } from '../cases/types.ts';

export type LngLat = [number, number];

export interface RuleEvent {
  deviceId: string;
  /** Registry kind: camera, smoke, heat, gas, water_level, manhole, sensor, gateway. */
  deviceKind: string;
  /** fire_alarm, smoke_alarm, ai_detection … (CONTRACT.md "MQTT v1"). */
  type: string;
  severity?: 'info' | 'minor' | 'major' | 'critical';
  ts: number;
  loc: LngLat | null;
  grid: GridRef;
  /** For ai_detection: `label` (string) and `score` (0..1; absent = counts). */
  attrs: Record<string, unknown>;
  /** The device's own time (ts is the time rules reason with: receipt time when the clock runs ahead). */
  occurredAt?: number;
  /** The platform's receipt time. */
  receivedAt?: number;
  /** clock_skew: device time was ahead of receipt (ts is then the receipt time). */
  timeFlag?: 'clock_skew' | 'late' | null;
  /** One fact behind many messages (a Frigate object id): counted once, whatever its later phases. */
  factId?: string;
  /** The stored event's id (for linking it to its case). */
  eventId?: number;
}

export interface Reading {
  deviceId: string;
  deviceKind?: string;
  ts: number;
  metrics: Record<string, number>;
  loc: LngLat | null;
  grid: GridRef;
}

/** A device the heartbeat rule watches: it must be heard from every `intervalS` seconds. */
export interface WatchedDevice {
  deviceId: string;
  deviceKind: string;
  intervalS: number;
  /** The gateway it reports through: while that gateway is lost, this device's silence is the gateway's case. */
  gateway?: string | null;
  loc: LngLat | null;
  grid: GridRef;
}

/** Which kind of device produced a decision's evidence: fusion raises priority only across modalities. */
export type Modality = 'sensor' | 'camera';

export interface OpenCaseDecision {
  kind: 'open_case';
  /** The engine's key for the case; the caller maps it to the case id and reports closing with it. */
  key: string;
  rule: string;
  category: string;
  priority: Priority;
  title: string;
  location: LngLat | null;
  grid: GridRef;
  source: 'sensor' | 'camera';
  deviceId: string;
  /** Register at once (立案) instead of leaving the case `reported` for a person to review. */
  autoRegister: boolean;
  /** Dispatch at once to this department (implies autoRegister). */
  autoDispatch?: string;
  /** Link the cameras within this radius (metres) of the location; 0 = none. */
  linkCamerasRadiusM: number;
  eventCount: number;
  ts: number;
  /** Device time and receipt of the opening event, and its time flag. */
  time?: { occurredAt: number; receivedAt: number; flag: 'clock_skew' | 'late' | null };
  /** A late report (迟报): for a person to confirm; never registered or dispatched automatically. */
  late?: boolean;
  /** Stored event ids this decision covers. */
  eventIds?: number[];
}

export interface AddToCaseDecision {
  kind: 'add_to_case';
  key: string;
  /** How many events to add to the case's eventCount. */
  count: number;
  deviceId: string;
  /** Why: a repeat of the same device and type, a fused detection, or storm control folding. */
  reason: 'repeat' | 'fusion' | 'storm';
  ts: number;
  /** Stored event ids this decision covers. */
  eventIds?: number[];
}

export interface RaisePriorityDecision {
  kind: 'raise_priority';
  key: string;
  priority: Priority;
  reason: string;
  ts: number;
}

/** The condition behind a case ended (threshold back under its clear bound, device heard again). */
export interface ConditionClearedDecision {
  kind: 'condition_cleared';
  key: string;
  reason: string;
  ts: number;
}

export type RuleDecision = OpenCaseDecision | AddToCaseDecision | RaisePriorityDecision | ConditionClearedDecision;

// ---------------------------------------------------------------------------------------------------
// rule sets (parsed from the rules file by rulesfile.ts)

export interface EventRule {
  name: string;
  /** Event type it matches. */
  type: string;
  category: string;
  priority: Priority;
  title?: string;
  autoRegister: boolean;
  autoDispatch?: string;
  linkCamerasRadiusM: number;
  /** Fusion group name (a key of RuleSet.fusion); absent = no fusion. */
  fuse?: string;
  /** Whether an event of this rule may join another case of its fusion group (false: it always anchors). */
  fuseJoin: boolean;
}

export interface DetectionRule {
  name: string;
  /** attrs.label of an ai_detection. */
  label: string;
  minScore: number;
  category: string;
  priority: Priority;
  title?: string;
  autoRegister: boolean;
  autoDispatch?: string;
  linkCamerasRadiusM: number;
  fuse?: string;
  fuseJoin: boolean;
}

export interface FusionGroup {
  radiusM: number;
  windowS: number;
  /** Priority a case is raised to when events of another modality join it. */
  raiseTo: Priority;
}

export interface ThresholdRule {
  name: string;
  metric: string;
  op: '>' | '<';
  value: number;
  /** The condition must hold this long (seconds of consecutive readings) before a case opens. */
  forS: number;
  /** Hysteresis: the condition clears only past this bound (below it for '>', above it for '<'). */
  clear: number;
  category: string;
  priority: Priority;
  title?: string;
  /** Device kinds it applies to; absent = all. */
  deviceKinds?: string[];
  autoRegister: boolean;
  autoDispatch?: string;
  linkCamerasRadiusM: number;
}

export interface HeartbeatRule {
  /** Lost after multiplier × the device's interval without a message. */
  multiplier: number;
  category: string;
  priority: Priority;
}

export interface StormRule {
  windowS: number;
  /** At most this many cases per (base grid, rule) in a window; later events add counts instead. */
  maxCasesPerGridRule: number;
}

/** Late reports: device time more than afterS (byType[type] for that type) behind receipt. */
export interface LateRule {
  afterS: number;
  byType: Record<string, number>;
}

export interface RuleSet {
  version: 1;
  late: LateRule;
  events: EventRule[];
  detections: DetectionRule[];
  fusion: Record<string, FusionGroup>;
  thresholds: ThresholdRule[];
  heartbeat: HeartbeatRule;
  storm: StormRule;
}
