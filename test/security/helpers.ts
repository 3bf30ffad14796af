/**
 * Security-suite fixtures: the whole platform (`onegrid start`, sample district) on a throwaway PostgreSQL,
 * so that the test can create its own scoped users in the store while the platform runs (sample users'
 * passwords are not relied on), and plain HTTP/WebSocket helpers.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { hashSecret } from '../../ingest/auth/secrets.ts';
import { openPostgres, type Db } from '../../ingest/store/db.ts';
import { insertUser, type Role } from '../../ingest/store/users.ts';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { startPostgres, type PostgresHandle } from '../harness/postgres.ts';
import { oncePerRun } from '../harness/run-once.ts';

export const PASSWORD = 'Sc0pe-test-passphrase-7';

export interface Fixture {
  p: PlatformHandle;
  pg: PostgresHandle;
  db: Db;
  admin: string;
  /** Create a user directly in the store and sign it in; returns its session token. */
  user(u: {
    username: string;
    role: Role;
    scopeGrid?: string | null;
    scopeDepartment?: string | null;
  }): Promise<string>;
  http(
    method: string,
    path: string,
    token?: string | null,
    body?: unknown,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * The run's PostgreSQL cluster holding a migrated and seeded platform database (sample district, admin with
 * the harness's ADMIN_PASSWORD), stopped, for fixtures to start copies of: initdb, PostGIS and the seeding
 * (~20 s of a loaded 2-core machine) once per run instead of once per suite. Made by the first fixture under
 * a lock in the run's folder (ONEGRID_TEST_RUN_DIR, test/harness/global-setup.ts); null outside a run or
 * when making it failed (the fixture then starts a new cluster and the platform seeds it).
 */
async function seededCluster(): Promise<string | null> {
  const run = await oncePerRun(
    'pg-seeded',
    async (run) => {
      let pg: PostgresHandle | null = null;
      try {
        pg = await startPostgres();
        const p = await startPlatformProcess({ env: { DATABASE_URL: pg.url }, timeoutMs: 180_000 });
        const code = await p.stop('SIGTERM');
        if (code !== 0) throw new Error(`seeding platform exited with ${code}`);
        await pg.stop({ keepData: true });
        execFileSync('cp', ['-a', path.join(pg.dir, 'data'), path.join(run, 'pg-seeded')]);
      } finally {
        await pg?.stop();
        if (pg) rmSync(pg.dir, { recursive: true, force: true });
      }
    },
    { waitMs: 300_000, pollMs: 250 },
  );
  return run ? path.join(run, 'pg-seeded') : null;
}

export async function startFixture(env: Record<string, string> = {}): Promise<Fixture> {
  const seeded = await seededCluster();
  const pg = await startPostgres(seeded ? { copyOf: seeded } : {});
  const p = await startPlatformProcess({ env: { DATABASE_URL: pg.url, ...env } });
  const db = await openPostgres(pg.url, 2);
  const admin = await p.login();
  const http: Fixture['http'] = async (method, path, token, body) => {
    const r = await fetch(p.url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed, headers: r.headers };
  };
  return {
    p,
    pg,
    db,
    admin,
    http,
    async user(u) {
      await insertUser(db, {
        username: u.username,
        name: u.username,
        role: u.role,
        passwordHash: await hashSecret(PASSWORD),
        scopeGrid: u.scopeGrid ?? null,
        scopeDepartment: u.scopeDepartment ?? null,
        level: u.scopeGrid ? (u.scopeGrid.length <= 9 ? 'street' : 'community') : null,
      });
      return p.login(u.username, PASSWORD);
    },
    async stop() {
      await db.close().catch(() => {});
      await p.stop().catch(() => {});
      await pg.stop().catch(() => {});
    },
  };
}

/** A WebSocket with what it received and how it closed. */
export interface Sock {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; at: number }>;
}

export function openSocket(url: string, headers: Record<string, string> = {}): Promise<Sock> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: any[] = [];
    const closed = new Promise<{ code: number; at: number }>((r) =>
      ws.on('close', (code) => r({ code, at: Date.now() })),
    );
    ws.on('message', (d, binary) => {
      if (!binary)
        try {
          messages.push(JSON.parse(String(d)));
        } catch {
          /* ignore */
        }
    });
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

export async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
