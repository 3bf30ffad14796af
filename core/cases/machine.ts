/**
 * The case state machine: `(case, action, actor, now) → case' | DomainError`, with who may do what as
 * part of the machine. States and actions: CONTRACT.md "Case states and actions".
 *
 * Order of checks (so an outsider learns nothing about a case it may not see):
 *   1. the action is well-formed                          → validation_failed
 *   2. scope: grid prefix, department                     → outside_scope
 *   3. role, command level, assignee                      → forbidden
 *   4. optimistic version                                 → stale_version
 *   5. the state allows the action                        → illegal_transition
 *   6. the action's fields                                → validation_failed
 *
 * Permission rules (documented in the report and in `permissionError` below):
 * - `admin` and `system` may do everything, everywhere.
 * - Grid scope: the case's most detailed grid code must start with `actor.scope.grid` (when set); a case
 *   with no grid code is only reachable by actors without a grid scope.
 * - Department scope: an actor with `scope.department` acts only on cases assigned to that department or
 *   naming it in a whistle. A `department` actor without a department is refused.
 * - Roles: dispatcher, commander → register, reject, merge, dispatch, escalate, whistle, supervise, extend,
 *   verify, evaluate, comment. department → claim, return, handle (when the case is assigned to its
 *   department), report (for its own department, when whistled), comment. Departments ask for more time
 *   with a `comment`; `extend` is the command centre's decision. gridworker → claim, return, handle
 *   (when assigned to them as a user), verify, comment; intake via `canIntake`. analyst → comment.
 *   viewer → nothing.
 * - Command level: a commander (or a dispatcher given a level) acts with the command actions above only on
 *   cases at or below its level (community < street < district); a commander without a level counts as
 *   community. A dispatcher without a level is the dispatch centre and is not limited by level.
 * - Nobody verifies their own handling (核查 is independent), except admin and system.
 */
import { stripBidi } from '../text.ts';
import { DomainError, type ErrorCode } from '../errors.ts';
import type {
  Actor,
  Case,
  CaseAction,
  CaseActionName,
  CaseSource,
  CaseState,
  CommandLevel,
  GridRef,
  Priority,
  Role,
  TrailEntryDraft,
} from './types.ts';
import { CASE_ACTIONS, CASE_SOURCES, COMMAND_LEVELS, OPEN_STATES } from './types.ts';
import { DEFAULT_DEADLINES, deadlineFor, isOverdue, whistleDeadline, type DeadlineTable } from './sla.ts';
import { defaultPriorityOf } from './categories.ts';

export interface MachineContext {
  deadlines: DeadlineTable;
  /** The version the client saw; a mismatch is `stale_version`. */
  version?: number;
}

export interface ActionResult {
  case: Case;
  trail: TrailEntryDraft;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({
  id: 'system',
  role: 'system',
  scope: Object.freeze({ grid: null, department: null }),
}) as Actor;

/** Where each action may start and where it leads; `null` target = stays in its state. */
const FROM: Record<CaseActionName, readonly CaseState[]> = {
  register: ['reported'],
  reject: ['reported', 'registered'],
  merge: ['reported', 'registered'],
  dispatch: ['registered'],
  claim: ['dispatched'],
  return: ['dispatched'],
  escalate: OPEN_STATES,
  whistle: OPEN_STATES,
  report: OPEN_STATES,
  supervise: OPEN_STATES,
  extend: ['dispatched', 'in_progress'],
  handle: ['in_progress'],
  verify: ['handled'],
  evaluate: ['closed'],
  comment: ['reported', 'registered', 'dispatched', 'in_progress', 'handled', 'closed', 'rejected', 'merged'],
};

/** Every (from, action, to) the machine can produce; the property tests check against it. */
export function allowedTransitions(): Array<[CaseState, CaseActionName, CaseState]> {
  const out: Array<[CaseState, CaseActionName, CaseState]> = [];
  for (const a of CASE_ACTIONS) {
    for (const s of FROM[a]) {
      for (const t of targetsOf(a, s)) out.push([s, a, t]);
    }
  }
  return out;
}

function targetsOf(a: CaseActionName, s: CaseState): CaseState[] {
  switch (a) {
    case 'register':
      return ['registered'];
    case 'reject':
      return ['rejected'];
    case 'merge':
      return ['merged'];
    case 'dispatch':
      return ['dispatched'];
    case 'claim':
      return ['in_progress'];
    case 'return':
      return ['registered'];
    case 'handle':
      return ['handled'];
    case 'verify':
      return ['closed', 'in_progress'];
    case 'evaluate':
      return ['closed', 'registered'];
    default:
      return [s];
  }
}

const ALL: readonly CaseActionName[] = CASE_ACTIONS;
const COMMAND: readonly CaseActionName[] = [
  'register',
  'reject',
  'merge',
  'dispatch',
  'escalate',
  'whistle',
  'supervise',
  'extend',
  'verify',
  'evaluate',
  'comment',
];
const ROLE_ACTIONS: Record<Role, readonly CaseActionName[]> = {
  admin: ALL,
  system: ALL,
  commander: COMMAND,
  dispatcher: COMMAND,
  department: ['claim', 'return', 'handle', 'report', 'comment'],
  gridworker: ['claim', 'return', 'handle', 'verify', 'comment'],
  analyst: ['comment'],
  viewer: [],
};
/** Actions limited by the actor's command level (for commanders and levelled dispatchers). */
const LEVELLED: ReadonlySet<CaseActionName> = new Set(COMMAND.filter((a) => a !== 'comment'));
const ASSIGNEE_ONLY: ReadonlySet<CaseActionName> = new Set(['claim', 'return', 'handle']);

export function levelRank(l: CommandLevel): number {
  return COMMAND_LEVELS.indexOf(l);
}

/** A refusal without the cost of an Error (allowedActions asks about every action for every button). */
interface Refusal {
  code: ErrorCode;
  message: string;
}
function refuse(code: ErrorCode, message: string): Refusal {
  return { code, message };
}
function toError(r: Refusal): DomainError {
  return new DomainError(r.code, r.message);
}

function isSuper(actor: Actor): boolean {
  return actor.role === 'admin' || actor.role === 'system';
}

/** The most detailed grid code of a case (base grid, else community, street, district). */
export function caseGridCode(g: GridRef): string | null {
  return g.grid ?? g.community ?? g.street ?? g.district ?? null;
}

/** Whether the case lies inside the actor's grid and department scope (the read rule too). */
export function inScope(actor: Actor, c: Case): boolean {
  return scopeError(actor, c) === null;
}

function scopeError(actor: Actor, c: Case): Refusal | null {
  if (isSuper(actor)) return null;
  const prefix = actor.scope.grid;
  if (prefix !== null && prefix !== undefined) {
    const code = caseGridCode(c.grid);
    if (code === null || !code.startsWith(prefix)) {
      return refuse('outside_scope', `case ${c.code} is outside the actor's grid scope`);
    }
  }
  const dept = actor.scope.department;
  if (actor.role === 'department' && !dept) {
    return refuse('forbidden', 'a department user without a department may not act on cases');
  }
  if (dept) {
    const assigned = c.assignee?.kind === 'department' && c.assignee.id === dept;
    const whistled = c.whistles.some((w) => w.department === dept);
    if (!assigned && !whistled) {
      return refuse('outside_scope', `case ${c.code} is neither assigned nor whistled to ${dept}`);
    }
  }
  return null;
}

function actorLevel(actor: Actor): CommandLevel | null {
  if (actor.role === 'commander') return actor.level ?? 'community';
  if (actor.role === 'dispatcher') return actor.level ?? null;
  return null;
}

function isAssignee(actor: Actor, c: Case): boolean {
  if (!c.assignee) return false;
  if (actor.role === 'department') return c.assignee.kind === 'department' && c.assignee.id === actor.scope.department;
  if (actor.role === 'gridworker') return c.assignee.kind === 'user' && c.assignee.id === actor.id;
  return false;
}

/** Role, scope, level and assignee rules; null when permitted. `action` refines `report`. */
export function permissionError(actor: Actor, name: CaseActionName, c: Case, action?: CaseAction): DomainError | null {
  const r = permissionRefusal(actor, name, c, action);
  return r ? toError(r) : null;
}

function permissionRefusal(actor: Actor, name: CaseActionName, c: Case, action?: CaseAction): Refusal | null {
  const scope = scopeError(actor, c);
  if (scope) return scope;
  if (isSuper(actor)) return null;
  if (!ROLE_ACTIONS[actor.role]?.includes(name)) {
    return refuse('forbidden', `role ${actor.role} may not ${name}`);
  }
  const lvl = actorLevel(actor);
  if (lvl !== null && LEVELLED.has(name) && levelRank(lvl) < levelRank(c.level)) {
    return refuse('forbidden', `a ${lvl} ${actor.role} may not ${name} a ${c.level}-level case`);
  }
  if (ASSIGNEE_ONLY.has(name) && !isAssignee(actor, c)) {
    return refuse('forbidden', `only the assignee may ${name} case ${c.code}`);
  }
  if (name === 'report') {
    const dept = actor.scope.department;
    if (action && action.action === 'report' && action.department !== dept) {
      return refuse('forbidden', `${actor.id} may report only for its own department`);
    }
  }
  if (name === 'verify' && c.handledBy === actor.id) {
    return refuse('forbidden', 'a handler may not verify its own handling');
  }
  return null;
}

/** Whether the actor may take this action on this case as far as role, scope and level go. */
export function can(actor: Actor, action: CaseActionName | CaseAction, c: Case): boolean {
  const name = typeof action === 'string' ? action : action.action;
  return permissionRefusal(actor, name, c, typeof action === 'string' ? undefined : action) === null;
}

function stateError(name: CaseActionName, c: Case, actor: Actor, action?: CaseAction): Refusal | null {
  if (!FROM[name].includes(c.state)) {
    return refuse('illegal_transition', `${name} is not allowed in state ${c.state}`);
  }
  if (name === 'escalate' && c.level === 'district') {
    return refuse('illegal_transition', 'the case is already at district level');
  }
  if (name === 'report') {
    const dept =
      action && action.action === 'report'
        ? action.department
        : actor.role === 'department'
          ? actor.scope.department
          : null;
    const open = c.whistles.some((w) => w.reportedAt === null && (dept === null || w.department === dept));
    if (!open) return refuse('illegal_transition', `no open whistle for ${dept ?? 'any department'}`);
  }
  if (name === 'evaluate' && c.evaluatedAt !== null && c.closedAt !== null && c.evaluatedAt >= c.closedAt) {
    return refuse('illegal_transition', 'the case has already been evaluated since it was closed');
  }
  return null;
}

/** The action names the actor may take on the case now: the UI's buttons. */
export function allowedActions(c: Case, actor: Actor): CaseActionName[] {
  return CASE_ACTIONS.filter((n) => permissionRefusal(actor, n, c) === null && stateError(n, c, actor) === null);
}

// ---------------------------------------------------------------------------------------------------
// validation

function bad(msg: string): DomainError {
  return new DomainError('validation_failed', msg);
}
function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}
function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
export function isPriority(v: unknown): v is Priority {
  return v === 1 || v === 2 || v === 3 || v === 4;
}
function optText(v: unknown, field: string): void {
  if (v !== undefined && typeof v !== 'string') throw bad(`${field} must be a string`);
}

function validate(a: CaseAction, c: Case, now: number): void {
  optText((a as { note?: unknown }).note, 'note');
  switch (a.action) {
    case 'register':
      if (!isText(a.category)) throw bad('category is required');
      if (!isPriority(a.priority)) throw bad('priority must be 1, 2, 3 or 4');
      optText(a.subcategory, 'subcategory');
      return;
    case 'reject':
    case 'return':
      if (!isText(a.reason)) throw bad('reason is required');
      return;
    case 'merge':
      if (!isText(a.into)) throw bad('into (the surviving case) is required');
      if (a.into === c.id) throw bad('a case cannot be merged into itself');
      return;
    case 'dispatch':
      if (!a.to || (a.to.kind !== 'department' && a.to.kind !== 'user') || !isText(a.to.id)) {
        throw bad('to must be {kind: "department" | "user", id}');
      }
      if (a.deadline !== undefined && (!isTime(a.deadline) || a.deadline <= now)) {
        throw bad('deadline must be a time in the future');
      }
      return;
    case 'whistle': {
      if (!Array.isArray(a.departments) || a.departments.length === 0 || !a.departments.every(isText)) {
        throw bad('departments must name at least one department');
      }
      if (new Set(a.departments).size !== a.departments.length) throw bad('departments must not repeat');
      if (a.deadline !== undefined && (!isTime(a.deadline) || a.deadline <= now)) {
        throw bad('deadline must be a time in the future');
      }
      return;
    }
    case 'report':
      if (!isText(a.department)) throw bad('department is required');
      if (typeof a.note !== 'string') throw bad('note is required');
      return;
    case 'escalate':
    case 'supervise':
      if (a.whistles !== undefined && (!Array.isArray(a.whistles) || !a.whistles.every(isText))) {
        throw bad('whistles must be a list of departments');
      }
      return;
    case 'extend':
      if (!isText(a.reason)) throw bad('reason is required');
      if (!isTime(a.deadline) || a.deadline <= now) throw bad('deadline must be a time in the future');
      if (c.deadline !== null && a.deadline <= c.deadline) throw bad('an extension must move the deadline later');
      return;
    case 'handle':
      if (!isText(a.result)) throw bad('result is required');
      if (a.evidence !== undefined && (!Array.isArray(a.evidence) || !a.evidence.every((e) => typeof e === 'string'))) {
        throw bad('evidence must be a list of strings');
      }
      return;
    case 'verify':
      if (typeof a.pass !== 'boolean') throw bad('pass must be true or false');
      return;
    case 'evaluate':
      if (!Number.isInteger(a.satisfaction) || a.satisfaction < 1 || a.satisfaction > 5) {
        throw bad('satisfaction must be an integer from 1 to 5');
      }
      return;
    case 'comment':
      if (!isText(a.note)) throw bad('note is required');
      return;
    case 'claim':
      return;
  }
}

// ---------------------------------------------------------------------------------------------------
// apply

function copyCase(c: Case): Case {
  return {
    ...c,
    grid: { ...c.grid },
    location: c.location ? [c.location[0], c.location[1]] : null,
    assignee: c.assignee ? { ...c.assignee } : null,
    whistles: c.whistles.map((w) => ({ ...w })),
    linkedCameras: [...c.linkedCameras],
    evidence: [...c.evidence],
  };
}

function dataOf(a: CaseAction): Record<string, unknown> {
  const { action: _a, note: _n, ...rest } = a as CaseAction & { note?: string };
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

function noteOf(a: CaseAction): string {
  const n = (a as { note?: string }).note;
  if (n) return n;
  if ('reason' in a && typeof a.reason === 'string') return a.reason;
  return '';
}

function markWhistles(next: Case, departments: string[] | undefined, now: number): void {
  if (!departments) return;
  for (const w of next.whistles) {
    if (departments.includes(w.department) && w.reportedAt === null && w.escalatedAt === null) w.escalatedAt = now;
  }
}

/**
 * Apply one action. Returns the new case (the input is not modified) and the trail entry to append, or
 * throws a DomainError. `version` goes up by exactly one on every accepted action.
 */
export function applyAction(c: Case, action: CaseAction, actor: Actor, now: number, ctx: MachineContext): ActionResult {
  if (!action || typeof action !== 'object' || !CASE_ACTIONS.includes(action.action)) {
    throw bad(`unknown action ${String((action as { action?: unknown } | null)?.action)}`);
  }
  if (!isTime(now)) throw bad('now must be a time');
  const name = action.action;
  const perm = permissionRefusal(actor, name, c, action);
  if (perm) throw toError(perm);
  if (ctx.version !== undefined && ctx.version !== c.version) {
    throw new DomainError('stale_version', `case ${c.code} is at version ${c.version}, not ${ctx.version}`);
  }
  const st = stateError(name, c, actor, action);
  if (st) throw toError(st);
  validate(action, c, now);

  const table = ctx.deadlines ?? DEFAULT_DEADLINES;
  const next = copyCase(c);
  // The clock ran out before this action: that stays on record.
  if (isOverdue(c, now)) next.overdue = true;

  switch (action.action) {
    case 'register':
      next.state = 'registered';
      next.category = action.category;
      if (action.subcategory !== undefined) next.subcategory = action.subcategory;
      next.priority = action.priority;
      next.registeredAt = now;
      next.deadline = deadlineFor(action.category, action.priority, now, table);
      next.overdue = false;
      break;
    case 'reject':
      next.state = 'rejected';
      break;
    case 'merge':
      next.state = 'merged';
      next.mergedInto = action.into;
      break;
    case 'dispatch':
      next.state = 'dispatched';
      next.assignee = { kind: action.to.kind, id: action.to.id };
      next.dispatchedAt = now;
      if (action.deadline !== undefined) next.deadline = action.deadline;
      else if (next.deadline === null) next.deadline = deadlineFor(next.category, next.priority, now, table);
      next.overdue = isOverdue(next, now) || next.overdue;
      break;
    case 'claim':
      next.state = 'in_progress';
      break;
    case 'return':
      next.state = 'registered';
      next.assignee = null;
      next.returnCount += 1;
      break;
    case 'escalate':
      next.level = COMMAND_LEVELS[levelRank(c.level) + 1];
      markWhistles(next, action.whistles, now);
      break;
    case 'whistle': {
      const deadline = action.deadline ?? whistleDeadline(c.priority, now, table);
      for (const department of action.departments) {
        const w = {
          department,
          whistledAt: now,
          deadline,
          reportedAt: null,
          note: action.note ?? '',
          escalatedAt: null,
        };
        const i = next.whistles.findIndex((x) => x.department === department);
        // A renewed whistle replaces the department's earlier one (answered or not).
        if (i >= 0) next.whistles[i] = w;
        else next.whistles.push(w);
      }
      break;
    }
    case 'report': {
      const w = next.whistles.find((x) => x.department === action.department && x.reportedAt === null);
      if (!w) throw new DomainError('illegal_transition', `no open whistle for ${action.department}`);
      w.reportedAt = now;
      if (action.note) w.note = action.note;
      break;
    }
    case 'supervise':
      next.supervised = true;
      next.superviseCount += 1;
      markWhistles(next, action.whistles, now);
      break;
    case 'extend':
      next.deadline = action.deadline;
      next.overdue = false;
      break;
    case 'handle':
      next.state = 'handled';
      next.result = action.result;
      next.evidence = [...(action.evidence ?? [])];
      next.handledAt = now;
      next.handledBy = actor.id;
      break;
    case 'verify':
      if (action.pass) {
        next.state = 'closed';
        next.closedAt = now;
        next.closedOnTime = next.deadline === null || now <= next.deadline;
      } else {
        next.state = 'in_progress';
        next.reworkCount += 1;
      }
      break;
    case 'evaluate':
      next.satisfaction = action.satisfaction;
      next.evaluatedAt = now;
      if (action.satisfaction <= 2) {
        // 不满意: reopen to 立案 so the command centre dispatches it again, with a fresh deadline.
        next.state = 'registered';
        next.reopenCount += 1;
        next.closedAt = null;
        next.closedOnTime = null;
        next.assignee = null;
        next.deadline = deadlineFor(next.category, next.priority, now, table);
        next.overdue = false;
      }
      break;
    case 'comment':
      break;
  }

  next.version = c.version + 1;
  next.updatedAt = now;
  const trail: TrailEntryDraft = {
    caseId: c.id,
    action: name,
    actor: actor.id,
    role: actor.role,
    at: now,
    note: noteOf(action),
    data: dataOf(action),
    fromState: c.state,
    toState: next.state,
    version: next.version,
  };
  return { case: next, trail };
}

// ---------------------------------------------------------------------------------------------------
// intake

export interface CaseInput {
  title: string;
  description?: string;
  category: string;
  subcategory?: string;
  /** Default: the category's default priority. */
  priority?: Priority;
  /** [lng, lat] or null. */
  location: [number, number] | null;
  grid: GridRef;
  source: CaseSource;
  /** Default: community. */
  level?: CommandLevel;
  linkedCameras?: string[];
  eventCount?: number;
}

export interface CaseIds {
  id: string;
  /** The human-readable code; when absent it is made from `seq` and the date of `now`. */
  code?: string;
  /** Sequence number of the day, for the code. */
  seq?: number;
}

/** `HQ-YYYYMMDD-NNNN`; the date is taken at `utcOffsetMinutes` (default +08:00, China Standard Time). */
export function formatCaseCode(now: number, seq: number, prefix = 'HQ', utcOffsetMinutes = 480): string {
  const d = new Date(now + utcOffsetMinutes * 60_000);
  const ymd =
    String(d.getUTCFullYear()).padStart(4, '0') +
    String(d.getUTCMonth() + 1).padStart(2, '0') +
    String(d.getUTCDate()).padStart(2, '0');
  return `${prefix}-${ymd}-${String(seq).padStart(4, '0')}`;
}

/** Roles that may take in a case (manual intake: hotline, patrol, superior). */
export function canIntake(actor: Actor, grid: GridRef): boolean {
  if (isSuper(actor)) return true;
  if (!['dispatcher', 'commander', 'gridworker'].includes(actor.role)) return false;
  const prefix = actor.scope.grid;
  if (prefix === null || prefix === undefined) return true;
  const code = caseGridCode(grid);
  return code !== null && code.startsWith(prefix);
}

function validLocation(l: unknown): boolean {
  if (l === null) return true;
  return (
    Array.isArray(l) &&
    l.length === 2 &&
    isTime(l[0]) &&
    isTime(l[1]) &&
    Math.abs(l[0] as number) <= 180 &&
    Math.abs(l[1] as number) <= 90
  );
}

/** A new case in state `reported` (接件), with its `intake` trail entry. */
export function newCase(input: CaseInput, now: number, ids: CaseIds, actor: Actor = SYSTEM_ACTOR): ActionResult {
  if (!isText(ids.id)) throw bad('id is required');
  if (!isText(input.title)) throw bad('title is required');
  if (!isText(input.category)) throw bad('category is required');
  if (!CASE_SOURCES.includes(input.source)) throw bad(`source must be one of ${CASE_SOURCES.join(', ')}`);
  if (input.priority !== undefined && !isPriority(input.priority)) throw bad('priority must be 1, 2, 3 or 4');
  if (!validLocation(input.location)) throw bad('location must be [lng, lat] within [-180, 180] × [-90, 90]');
  if (input.level !== undefined && !COMMAND_LEVELS.includes(input.level)) throw bad('level is not a command level');
  if (!isTime(now)) throw bad('now must be a time');
  const code = ids.code ?? formatCaseCode(now, ids.seq ?? 1);
  const c: Case = {
    id: ids.id,
    code,
    // Bidi controls would make the title read differently on the wall (core/text.ts).
    title: stripBidi(input.title),
    description: stripBidi(input.description ?? ''),
    category: input.category,
    subcategory: input.subcategory ?? null,
    state: 'reported',
    priority: input.priority ?? defaultPriorityOf(input.category),
    level: input.level ?? 'community',
    version: 1,
    grid: {
      district: input.grid.district ?? null,
      street: input.grid.street ?? null,
      community: input.grid.community ?? null,
      grid: input.grid.grid ?? null,
    },
    location: input.location ? [input.location[0], input.location[1]] : null,
    deadline: null,
    overdue: false,
    supervised: false,
    superviseCount: 0,
    reworkCount: 0,
    returnCount: 0,
    reopenCount: 0,
    assignee: null,
    whistles: [],
    satisfaction: null,
    evaluatedAt: null,
    mergedInto: null,
    linkedCameras: [...(input.linkedCameras ?? [])],
    eventCount: input.eventCount ?? 1,
    source: input.source,
    result: null,
    evidence: [],
    createdAt: now,
    updatedAt: now,
    registeredAt: null,
    dispatchedAt: null,
    handledAt: null,
    handledBy: null,
    closedAt: null,
    closedOnTime: null,
  };
  const trail: TrailEntryDraft = {
    caseId: c.id,
    action: 'intake',
    actor: actor.id,
    role: actor.role,
    at: now,
    note: c.title,
    data: JSON.parse(
      JSON.stringify({
        source: c.source,
        category: c.category,
        priority: c.priority,
        location: c.location,
        grid: c.grid,
        level: c.level,
      }),
    ) as Record<string, unknown>,
    fromState: null,
    toState: 'reported',
    version: 1,
  };
  return { case: c, trail };
}
