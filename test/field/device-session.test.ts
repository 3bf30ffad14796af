/**
 * The grid worker's device session (POST /api/session with device: true; ingest/auth/sessions.ts): no idle
 * timeout and a 30-day lifetime for grid workers only, revoked like any session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { deleteUserSessions, insertUser } from '../../ingest/store/users.ts';
import { hashSecret } from '../../ingest/auth/secrets.ts';
import { DEVICE_SESSION_MS, Sessions } from '../../ingest/auth/sessions.ts';

const PW = 'device-session-Pw-71!q';
const OPTS = { idleMin: 30, maxHours: 12, require2fa: 'off' as const };
let db: Db;

beforeAll(async () => {
  db = await openPglite(null);
  await migrate(db);
  const hash = await hashSecret(PW);
  for (const [username, role] of [
    ['ds-worker', 'gridworker'],
    ['ds-dispatcher', 'dispatcher'],
  ] as const)
    await insertUser(db, {
      username,
      name: username,
      role,
      passwordHash: hash,
      scopeGrid: null,
      scopeDepartment: null,
      level: null,
    });
});

afterAll(() => db?.close());

describe('device sessions', () => {
  it('outlive the idle timeout for grid workers only, last 30 days, and are revocable', async () => {
    const s = new Sessions(db, OPTS);
    const device = (await s.login('ds-worker', PW, { ip: '10.0.0.1', device: true })).token;
    const ordinary = (await s.login('ds-worker', PW, { ip: '10.0.0.1' })).token;
    const notWorker = (await s.login('ds-dispatcher', PW, { ip: '10.0.0.1', device: true })).token;
    const rows = await db.query<{ username: string; device: boolean; expires_at: Date }>(
      `SELECT username, device, expires_at FROM sessions ORDER BY created_at`,
    );
    const dev = rows.rows.find((r) => r.device)!;
    expect(rows.rows.filter((r) => r.device)).toHaveLength(1);
    expect(dev.username).toBe('ds-worker');
    expect(new Date(dev.expires_at).getTime() - Date.now()).toBeGreaterThan(DEVICE_SESSION_MS - 60_000);

    // Two hours without a request (idle timeout 30 min); a fresh instance has no cached users.
    await db.query(`UPDATE sessions SET last_seen_at = now() - interval '2 hours'`);
    const later = new Sessions(db, OPTS);
    expect((await later.user(device))?.username).toBe('ds-worker');
    expect(await later.user(ordinary)).toBeNull();
    expect(await later.user(notWorker)).toBeNull();

    // An admin disabling the user or resetting its password deletes its sessions: the phone is signed out.
    await deleteUserSessions(db, 'ds-worker');
    expect(await new Sessions(db, OPTS).user(device)).toBeNull();
  });
});
