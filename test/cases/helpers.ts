/**
 * Case-tier fixtures: a database (PGlite in memory, or a real PostgreSQL database), the sample departments,
 * a few cameras, a grid stub with two streets, a settable clock, and a live-hub stand-in that records what
 * was published (judged with the hub's own `maySee`).
 */
import { pino } from 'pino';
import type { Actor } from '../../core/cases/types.ts';
import { openPglite, openPostgres, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { upsertDepartments } from '../../ingest/store/users.ts';
import { insertDevices } from '../../ingest/store/devices.ts';
import { loadDepartments } from '../../geo-data/index.ts';
import { CaseService } from '../../ingest/cases/service.ts';
import { maySee, type Audience, type LiveMessage } from '../../ingest/live/hub.ts';
import type { SessionUser } from '../../ingest/auth/sessions.ts';

export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** West of 117.21: street 120106001; east: street 120106002. One community and one base grid each. */
export const grids = {
  join(lng: number) {
    const street = lng < 117.21 ? '120106001' : '120106002';
    return { district: '120106', street, community: street + '001', grid: street + '001001' };
  },
};

export const IN_STREET_1: [number, number] = [117.2, 39.1];
export const IN_STREET_2: [number, number] = [117.22, 39.1];

export const CAMERAS = [
  { id: 'cam-near-1', location: [117.2005, 39.1] as [number, number] }, // ~43 m from IN_STREET_1
  { id: 'cam-near-2', location: [117.2, 39.1015] as [number, number] }, // ~167 m
  { id: 'cam-far', location: [117.21, 39.11] as [number, number] }, // ~1.4 km
];

export async function prepareDb(db: Db): Promise<Db> {
  await migrate(db);
  await upsertDepartments(db, loadDepartments());
  await insertDevices(
    db,
    CAMERAS.map((c) => ({ id: c.id, kind: 'camera', location: c.location, grid: null, secretHash: null })),
  );
  return db;
}

export async function pgliteDb(): Promise<Db> {
  return prepareDb(await openPglite(null));
}

export async function postgresDb(url: string): Promise<Db> {
  return prepareDb(await openPostgres(url, 20));
}

export class Clock {
  t = Date.UTC(2026, 10, 23, 2, 0, 0);
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export class LiveRecorder {
  messages: { msg: LiveMessage; audience: Audience }[] = [];
  publish(msg: LiveMessage, audience: Audience): void {
    this.messages.push({ msg, audience });
  }
  /** The case messages a user would receive over /live. */
  seenBy(u: SessionUser): LiveMessage[] {
    return this.messages.filter((m) => maySee(u, m.audience)).map((m) => m.msg);
  }
}

export async function caseService(db: Db, clock = new Clock(), live = new LiveRecorder()) {
  const svc = new CaseService({ db, grids, live, log: silentLog, now: clock.now });
  await svc.init();
  return { svc, clock, live };
}

function user(
  username: string,
  role: SessionUser['role'],
  scopeGrid: string | null,
  scopeDepartment: string | null = null,
  level: SessionUser['level'] = null,
): SessionUser {
  return {
    username,
    name: username,
    role,
    scopeGrid,
    scopeDepartment,
    level,
    disabled: false,
    mustChangePassword: false,
    totpEnabled: false,
  };
}

export const USERS = {
  admin: user('admin', 'admin', null),
  dispatcher: user('dispatcher', 'dispatcher', '120106'),
  street1: user('commander-street-001', 'commander', '120106001', null, 'street'),
  street2: user('commander-street-002', 'commander', '120106002', null, 'street'),
  fire: user('dept-fire', 'department', null, 'fire'),
  police: user('dept-police', 'department', null, 'police'),
  worker1: user('gridworker-01', 'gridworker', '120106001001001'),
};

export function actor(u: SessionUser): Actor {
  return {
    id: u.username,
    role: u.role,
    ...(u.level ? { level: u.level } : {}),
    scope: { grid: u.role === 'admin' ? null : u.scopeGrid, department: u.scopeDepartment },
  };
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    if ((e as { code?: string }).code === code) return;
    throw new Error(`expected ${code}, got ${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
  }
  throw new Error(`expected ${code}, but it succeeded`);
}
