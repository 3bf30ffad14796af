/**
 * Case records, actors and actions: the data the case machine works on.
 * States and actions are those of CONTRACT.md "Case states and actions", following the national
 * digital-city-management loop (信息收集 → 案卷建立 → 任务派遣 → 任务处理 → 处理反馈 → 核实结案 → 综合评价).
 * Times are epoch milliseconds; coordinates are [lng, lat] (WGS-84).
 */

/** 接件, 立案, 派遣, 处置中, 处理反馈, 结案, 不予立案, 并案. */
export type CaseState =
  'reported' | 'registered' | 'dispatched' | 'in_progress' | 'handled' | 'closed' | 'rejected' | 'merged';

export const CASE_STATES: readonly CaseState[] = [
  'reported',
  'registered',
  'dispatched',
  'in_progress',
  'handled',
  'closed',
  'rejected',
  'merged',
];

/** States in which the case is still being worked ("any open state" of CONTRACT.md). */
export const OPEN_STATES: readonly CaseState[] = ['reported', 'registered', 'dispatched', 'in_progress', 'handled'];

/** States whose deadline runs (overdue can happen): after 立案 until 结案. */
export const SLA_STATES: readonly CaseState[] = ['registered', 'dispatched', 'in_progress', 'handled'];

/** Command levels, lowest first: 社区 → 街道 → 区. */
export type CommandLevel = 'community' | 'street' | 'district';
export const COMMAND_LEVELS: readonly CommandLevel[] = ['community', 'street', 'district'];

/** 1 is the most urgent. */
export type Priority = 1 | 2 | 3 | 4;

export type CaseSource = 'hotline' | 'patrol' | 'citizen' | 'superior' | 'sensor' | 'camera';
export const CASE_SOURCES: readonly CaseSource[] = ['hotline', 'patrol', 'citizen', 'superior', 'sensor', 'camera'];

/** The four grid codes a point joins to; null outside the grids. */
export interface GridRef {
  district: string | null;
  street: string | null;
  community: string | null;
  grid: string | null;
}

export interface Assignee {
  kind: 'department' | 'user';
  id: string;
}

/** 吹哨: a department named by a whistle must report (报到) before `deadline`. */
export interface Whistle {
  department: string;
  whistledAt: number;
  deadline: number;
  reportedAt: number | null;
  note: string;
  /** When the timer escalated (or, at district level, supervised) this unanswered whistle; null if never. */
  escalatedAt: number | null;
}

export interface Case {
  id: string;
  /** Human-readable, e.g. HQ-20261123-0001. */
  code: string;
  title: string;
  description: string;
  /** Category id from categories.ts, e.g. `fire.fire_alarm`. */
  category: string;
  subcategory: string | null;
  state: CaseState;
  priority: Priority;
  level: CommandLevel;
  /** Optimistic-concurrency version; +1 on every accepted action. */
  version: number;
  grid: GridRef;
  /** [lng, lat] or null. */
  location: [number, number] | null;
  /** Epoch ms by which the case must be closed; null before registration. */
  deadline: number | null;
  /** The current deadline passed while the case was open. */
  overdue: boolean;
  /** 督办: set by `supervise` (by hand or by the overdue timer). */
  supervised: boolean;
  superviseCount: number;
  reworkCount: number;
  returnCount: number;
  reopenCount: number;
  assignee: Assignee | null;
  whistles: Whistle[];
  satisfaction: number | null;
  evaluatedAt: number | null;
  mergedInto: string | null;
  linkedCameras: string[];
  /** How many source events this case carries (sensor repeats and fused detections). */
  eventCount: number;
  source: CaseSource;
  result: string | null;
  evidence: string[];
  createdAt: number;
  updatedAt: number;
  registeredAt: number | null;
  dispatchedAt: number | null;
  handledAt: number | null;
  handledBy: string | null;
  closedAt: number | null;
  /** closedAt ≤ deadline, fixed at closing; null while not closed. */
  closedOnTime: boolean | null;
}

export type Role = 'admin' | 'analyst' | 'commander' | 'dispatcher' | 'department' | 'gridworker' | 'viewer' | 'system';

export interface Actor {
  id: string;
  role: Role;
  /** Command level of a commander (or of a dispatcher attached to a level centre). */
  level?: CommandLevel;
  scope: {
    /** Grid-code prefix the actor may act within; null = everywhere. */
    grid: string | null;
    /** The actor's department (required for role `department`); null = none. */
    department: string | null;
  };
}

/** Every action of CONTRACT.md with its fields. `note` is free text for the trail. */
export type CaseAction =
  | { action: 'register'; category: string; priority: Priority; subcategory?: string; note?: string }
  | { action: 'reject'; reason: string; note?: string }
  | { action: 'merge'; into: string; note?: string }
  | { action: 'dispatch'; to: Assignee; deadline?: number; note?: string }
  | { action: 'claim'; note?: string }
  | { action: 'return'; reason: string; note?: string }
  /** `whistles`: unanswered whistles this escalation answers for (set by the whistle timer). */
  | { action: 'escalate'; note?: string; whistles?: string[] }
  | { action: 'whistle'; departments: string[]; deadline?: number; note?: string }
  | { action: 'report'; department: string; note: string }
  /** `whistles`: as for escalate, used by the timer at district level where no escalation is left. */
  | { action: 'supervise'; note?: string; whistles?: string[] }
  | { action: 'extend'; deadline: number; reason: string; note?: string }
  | { action: 'handle'; result: string; evidence?: string[]; note?: string }
  | { action: 'verify'; pass: boolean; note?: string }
  | { action: 'evaluate'; satisfaction: number; note?: string }
  | { action: 'comment'; note: string };

export type CaseActionName = CaseAction['action'];

export const CASE_ACTIONS: readonly CaseActionName[] = [
  'register',
  'reject',
  'merge',
  'dispatch',
  'claim',
  'return',
  'escalate',
  'whistle',
  'report',
  'supervise',
  'extend',
  'handle',
  'verify',
  'evaluate',
  'comment',
];

/** A trail entry before it is chained (trail.ts adds seq, prevHash and hash). */
export interface TrailEntryDraft {
  caseId: string;
  /**
   * A CaseActionName; `intake` for the entry that creates the case; `events` and `raise_priority` for the
   * updates rules make to a sensor-raised case (sensor.ts).
   */
  action: CaseActionName | 'intake' | 'events' | 'raise_priority';
  actor: string;
  role: Role;
  at: number;
  note: string;
  /** The action's fields (without `action` and `note`). */
  data: Record<string, unknown>;
  fromState: CaseState | null;
  toState: CaseState;
  /** The case's version after this entry. */
  version: number;
}
