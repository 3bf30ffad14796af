/**
 * What the web tier (API, Open311, wall) asks of the case service. Implemented by `CaseService`
 * (ingest/cases/service.ts); registered on `services.ext.cases`.
 */
import type { Actor, Case, CaseAction, CaseSource, Priority } from '../../core/cases/types.ts';

export interface IntakeInput {
  title: string;
  description?: string;
  category: string;
  /** [lng, lat] WGS-84. */
  location: [number, number];
  source: CaseSource;
  priority?: Priority;
  /** Reporter contact (Open311: email, first_name, last_name, phone); stored on the case, never listed publicly. */
  reporter?: { name?: string; email?: string; phone?: string; deviceId?: string; accountId?: string };
  /** Open311: address string, media url, attributes. */
  address?: string;
  mediaUrl?: string;
  attributes?: Record<string, unknown>;
}

export interface CaseFilter {
  state?: string[];
  category?: string;
  source?: string;
  priority?: number;
  grid?: string; // code prefix (narrowed to the actor's scope)
  overdue?: boolean;
  from?: number; // createdAt ≥ (epoch ms)
  to?: number; // createdAt <
  updatedSince?: number;
  ids?: string[];
  q?: string; // free text in title/description/code
  limit?: number; // default 50, max 500
  cursor?: string; // opaque, from the previous page
}

export interface CasePage {
  cases: Case[];
  nextCursor: string | null;
}

export interface TrailEntry {
  seq: number;
  action: string;
  actor: string;
  role: string;
  at: string; // ISO-8601
  note: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** Added: the state before and after the entry and the case version after it (all part of the hash). */
  fromState?: string | null;
  toState?: string;
  version?: number;
}

export interface CasePort {
  intake(input: IntakeInput, actor: Actor): Promise<Case>;
  get(id: string, actor: Actor): Promise<Case>; // not_found outside scope (never reveal existence)
  getByCode(code: string, actor: Actor): Promise<Case>;
  list(filter: CaseFilter, actor: Actor): Promise<CasePage>;
  act(id: string, action: CaseAction & { version: number }, actor: Actor): Promise<Case>;
  trail(id: string, actor: Actor): Promise<{ entries: TrailEntry[]; verified: boolean; brokenAt: number | null }>;
  allowedActions(c: Case, actor: Actor): string[];
}

/** The actor for a signed-in user (core's Actor from the users table row). */
export function actorOf(u: {
  username: string;
  role: Actor['role'];
  level: Actor['level'] | null;
  scopeGrid: string | null;
  scopeDepartment: string | null;
}): Actor {
  return {
    id: u.username,
    role: u.role,
    ...(u.level ? { level: u.level } : {}),
    scope: { grid: u.role === 'admin' ? null : u.scopeGrid, department: u.scopeDepartment },
  };
}

/** The system actor used by rules, timers and Open311 intake. */
export const SYSTEM_ACTOR: Actor = { id: 'system', role: 'system', scope: { grid: null, department: null } };
