/**
 * Accounts without HTTP, on a real (PGlite) database: sample accounts (finding 1), the password policy and
 * the redirect rule (findings 5, 6), session idle timeout / lifetime / pruning with revocations announced
 * and cache entries dropped, and the configuration of all this.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { rmSync } from 'node:fs';
import { seededDataDir } from '../harness/platform.ts';
import { openPglite, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { seed } from '../../ingest/seed.ts';
import { loadSampleUsers } from '../../geo-data/index.ts';
import { verifySecret } from '../../ingest/auth/secrets.ts';
import { passwordProblem } from '../../ingest/auth/password.ts';
import { Sessions, type SessionUser } from '../../ingest/auth/sessions.ts';
import { TicketStore, authenticateUpgrade } from '../../ingest/auth/sockets.ts';
import type { IncomingMessage } from 'node:http';
import { Accounts } from '../../ingest/auth/accounts.ts';
import { onRevocation, type Revocation } from '../../ingest/auth/revocation.ts';
import { safeNext } from '../../web/lib/server/session.ts';
import { loadConfig, ConfigError } from '../../ingest/config.ts';

const ADMIN_PW = 'Unit-Admin-Passphrase-77';

describe('sample accounts (finding 1)', () => {
  let db: Db;
  afterAll(async () => {
    await db?.close();
  });

  it('without demo mode: no sample user exists, even with ADMIN_PASSWORD set', async () => {
    const d = await openPglite(null);
    await migrate(d);
    const r = await seed(d, { adminPassword: ADMIN_PW, demo: false });
    expect(r.samplePasswords).toEqual([]);
    const users = await d.query<{ username: string }>(`SELECT username FROM users`);
    expect(users.rows.map((u) => u.username)).toEqual(['admin']);
    await d.close();
  });

  it('in demo mode: each sample user has its own random password, none the admin password', async () => {
    db = await openPglite(null);
    await migrate(db);
    const r = await seed(db, { adminPassword: ADMIN_PW, demo: true });
    const sample = loadSampleUsers();
    expect(r.samplePasswords.map((u) => u.username).sort()).toEqual(sample.map((u) => u.username).sort());
    const passwords = r.samplePasswords.map((u) => u.password);
    expect(new Set(passwords).size).toBe(passwords.length);
    expect(passwords).not.toContain(ADMIN_PW);
    const rows = await db.query<{ username: string; h: string }>(`SELECT username, password_hash AS h FROM users`);
    const hashes = new Map(rows.rows.map((x) => [x.username, x.h]));
    for (const u of r.samplePasswords) {
      expect(await verifySecret(u.password, hashes.get(u.username))).toBe(true);
      expect(await verifySecret(ADMIN_PW, hashes.get(u.username))).toBe(false);
    }
    // Printed once: a second start creates and returns nothing.
    expect((await seed(db, { adminPassword: ADMIN_PW, demo: true })).samplePasswords).toEqual([]);
  });

  it('a generated admin password must be changed at first sign-in', async () => {
    const d = await openPglite(null);
    await migrate(d);
    const r = await seed(d, { adminPassword: null, demo: false });
    expect(r.adminPassword).toMatch(/^.{16}$/);
    const u = await d.query<{ m: boolean }>(`SELECT must_change_password AS m FROM users WHERE username = 'admin'`);
    expect(u.rows[0].m).toBe(true);
    await d.close();
  });
});

describe('password policy (finding 6)', () => {
  it.each([
    ['12345678', 'too_short'],
    ['        ', 'too_short'],
    ['            ', 'blank'],
    ['wang.li', 'too_short'],
    ['my-wang.li-account', 'contains_username'],
    ['MY-WANG.LI-ACCOUNT', 'contains_username'],
    ['password123', 'guessable'],
    ['qwertyuiop', 'guessable'],
    ['1234567890', 'guessable'],
    ['iloveyou123', 'guessable'],
    ['P@ssw0rd2024', 'guessable'],
  ])('%j is refused (%s)', (pw, reason) => {
    expect(passwordProblem(pw, 'wang.li')).toBe(reason);
  });
  it.each(['Lantern-Quiet-Ferry-82', 'correct horse battery staple', 'x8Kq2-Lm9pZr'])('%j is accepted', (pw) => {
    expect(passwordProblem(pw, 'wang.li')).toBeNull();
  });
});

describe('redirect after login (finding 5)', () => {
  it.each([
    ['/\t/evil.example', '/'],
    ['/\u0009/evil.example', '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['/\n/evil.example', '/'],
    ['/a/..//evil.example', '/'],
    ['/./\\evil', '/'],
    ['https://evil.example', '/'],
    ['evil.example', '/'],
    ['/\u0085/x', '/'],
    ['', '/'],
    [null, '/'],
    ['/cases', '/cases'],
    ['/cases/../devices?x=1#y', '/devices?x=1#y'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ])('%j → %j', (next, out) => {
    expect(safeNext(next)).toBe(out);
  });
});

describe('sessions: idle timeout, lifetime, pruning, revocation', () => {
  let db: Db;
  let sessions: Sessions;
  let accounts: Accounts;
  const seen: Revocation[] = [];
  let stop: () => void;
  let seededDir = '';
  beforeAll(async () => {
    // The run's seeded data directory (migrate and seed are then no-ops): only the seed tests above seed.
    seededDir = await seededDataDir('onegrid-acc-');
    db = await openPglite(seededDir);
    await migrate(db);
    await seed(db, { adminPassword: ADMIN_PW, demo: false });
    sessions = new Sessions(db, { idleMin: 30, maxHours: 12, require2fa: 'off' });
    accounts = new Accounts(db, sessions);
    await accounts.create(
      { username: 'li.na', role: 'viewer', scopeGrid: '120106001', password: 'Init-Harbor-Lights-31' },
      { actor: 'admin' },
    );
    stop = onRevocation((r) => seen.push(r));
  });
  afterAll(async () => {
    stop?.();
    await db?.close();
    rmSync(seededDir, { recursive: true, force: true });
  });

  const login = async () => (await sessions.login('li.na', 'Init-Harbor-Lights-31', { ip: '10.0.0.1' })).token;

  it('a session idle longer than SESSION_IDLE_MIN ends, is announced and audited', async () => {
    const t = await login();
    expect(await sessions.user(t)).not.toBeNull();
    await db.query(`UPDATE sessions SET last_seen_at = now() - interval '31 minutes'`);
    // The cached entry still answers for up to a minute; a fresh Sessions (another replica) does not.
    const other = new Sessions(db, sessions.options);
    seen.length = 0;
    expect(await other.user(t)).toBeNull();
    expect(seen).toEqual([expect.objectContaining({ username: 'li.na', reason: 'expired' })]);
    const n = await db.query(`SELECT 1 FROM sessions`);
    expect(n.rows).toHaveLength(0);
  });

  it('a session past SESSION_MAX_HOURS ends even while in use', async () => {
    const t = await login();
    await db.query(`UPDATE sessions SET expires_at = now() - interval '1 second'`);
    expect(await new Sessions(db, sessions.options).user(t)).toBeNull();
  });

  it('prune() removes idle and expired sessions and announces each', async () => {
    const a = await login();
    const b = await login();
    await login();
    await db.query(`UPDATE sessions SET last_seen_at = now() - interval '2 hours' WHERE token_hash IN ($1, $2)`, [
      (await import('../../ingest/auth/secrets.ts')).sha256Hex(a),
      (await import('../../ingest/auth/secrets.ts')).sha256Hex(b),
    ]);
    seen.length = 0;
    expect(await sessions.prune()).toBe(2);
    expect(seen.filter((r) => r.reason === 'expired')).toHaveLength(2);
    expect(await sessions.user(a)).toBeNull();
    await db.query(`DELETE FROM sessions`);
  });

  it('sign-out and a disable drop the cached session at once and announce it', async () => {
    const t = await login();
    expect(await sessions.user(t)).not.toBeNull(); // cached now
    seen.length = 0;
    await sessions.logout(t);
    expect(await sessions.user(t)).toBeNull();
    expect(seen).toEqual([expect.objectContaining({ username: 'li.na', reason: 'logout' })]);
    const t2 = await login();
    expect(await sessions.user(t2)).not.toBeNull();
    seen.length = 0;
    await accounts.update('li.na', { disabled: true }, { actor: 'admin' });
    expect(await sessions.user(t2)).toBeNull();
    expect(seen.map((r) => r.reason)).toContain('disabled');
    await accounts.update('li.na', { disabled: false }, { actor: 'admin' });
  });

  it('a password change ends the other sessions and keeps the own one', async () => {
    const mine = await login();
    const other = await login();
    seen.length = 0;
    await accounts.changeOwnPassword('li.na', 'Init-Harbor-Lights-31', 'Second-Harbor-Lights-32', { token: mine });
    expect(await sessions.user(other)).toBeNull();
    expect((await sessions.user(mine))?.mustChangePassword).toBe(false);
    expect(seen).toEqual([expect.objectContaining({ username: 'li.na', reason: 'password_changed' })]);
  });

  it('wrong current passwords on a signed-in session count toward the lock (no unthrottled guessing)', async () => {
    const mine = await sessions.login('li.na', 'Second-Harbor-Lights-32', { ip: '10.0.0.2' });
    for (let i = 0; i < 5; i++)
      await expect(
        accounts.changeOwnPassword('li.na', `guess-${i}-guess-guess`, 'Third-Harbor-Lights-33', { token: mine.token }),
      ).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(
      accounts.changeOwnPassword('li.na', 'Second-Harbor-Lights-32', 'Third-Harbor-Lights-33', { token: mine.token }),
    ).rejects.toMatchObject({ code: 'account_locked' });
    await expect(sessions.login('li.na', 'Second-Harbor-Lights-32')).rejects.toMatchObject({ code: 'account_locked' });
    await accounts.update('li.na', { unlock: true }, { actor: 'admin' });
    await expect(sessions.login('li.na', 'Second-Harbor-Lights-32')).resolves.toMatchObject({
      user: { username: 'li.na' },
    });
  });

  it('the CLI path (Accounts without sessions) refuses a bad scope with a coded error, not a foreign-key error', async () => {
    const cli = new Accounts(db, null);
    await expect(
      cli.create({ username: 'zz.top', role: 'department', scopeDepartment: 'nope' }, { actor: 'cli' }),
    ).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'scope.department' } });
    await expect(
      cli.create({ username: 'zz.top', role: 'viewer', scopeGrid: '120106', password: '12345678' }, { actor: 'cli' }),
    ).rejects.toMatchObject({ code: 'weak_password' });
  });
});

describe('display names and sockets', () => {
  it('strips bidi controls from display names on create and change (titles and names read as they are)', async () => {
    const dir = await seededDataDir('onegrid-acc-');
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const d = await openPglite(dir);
    await migrate(d);
    await seed(d, { adminPassword: ADMIN_PW, demo: false });
    const a = new Accounts(d, null);
    const { user } = await a.create(
      { username: 'bidi.user', name: '\u202E王\u2066芳\u2069', role: 'viewer', scopeGrid: '120106' },
      { actor: 'admin' },
    );
    expect(user.name).toBe('王芳');
    await a.update('bidi.user', { name: 'x\u202Dy' }, { actor: 'admin' });
    expect((await d.query<{ name: string }>(`SELECT name FROM users WHERE username = 'bidi.user'`)).rows[0].name).toBe(
      'xy',
    );
    await expect(a.update('bidi.user', { name: '\u202E\u202C' }, { actor: 'admin' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await d.close();
  });

  it('a session that must change its password (or enrol 2FA) opens no /live or /video socket', async () => {
    const base = {
      username: 'w',
      name: 'w',
      role: 'viewer' as const,
      scopeGrid: '120106',
      scopeDepartment: null,
      level: null,
      disabled: false,
      mustChangePassword: false,
      totpEnabled: false,
    };
    const req = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as IncomingMessage;
    const url = new URL('http://x/live');
    const deps = (u: SessionUser) => ({
      userOfToken: async () => u,
      userOfTokenHash: async () => u,
      tickets: new TicketStore(),
    });
    expect(await authenticateUpgrade(req('t'), url, deps(base))).toMatchObject({ user: { username: 'w' } });
    expect(await authenticateUpgrade(req('t'), url, deps({ ...base, mustChangePassword: true }))).toBeNull();
    expect(await authenticateUpgrade(req('t'), url, deps({ ...base, totpEnrolmentRequired: true }))).toBeNull();
  });
});

describe('configuration', () => {
  it('has the defaults', () => {
    expect(loadConfig({})).toMatchObject({
      sessionIdleMin: 30,
      sessionMaxHours: 12,
      require2fa: 'off',
      auditRetentionDays: 180,
    });
    expect(
      loadConfig({ SESSION_IDLE_MIN: '15', SESSION_MAX_HOURS: '8', REQUIRE_2FA: 'admin', AUDIT_RETENTION_DAYS: '365' }),
    ).toMatchObject({ sessionIdleMin: 15, sessionMaxHours: 8, require2fa: 'admin', auditRetentionDays: 365 });
  });
  it.each([
    ['SESSION_IDLE_MIN', '0'],
    ['SESSION_IDLE_MIN', 'half'],
    ['SESSION_MAX_HOURS', '1000'],
    ['REQUIRE_2FA', 'everyone'],
    ['AUDIT_RETENTION_DAYS', '90'],
    ['ADMIN_PASSWORD', 'short-pw'],
  ])('refuses %s=%s naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} `));
  });
});
