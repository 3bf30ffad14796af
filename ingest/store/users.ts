/** Users, departments and sessions. Passwords are scrypt hashes; session tokens are stored as SHA-256. */
import type { Queryable } from './db.ts';

export type Role = 'admin' | 'analyst' | 'commander' | 'dispatcher' | 'department' | 'gridworker' | 'viewer';

export interface UserRow {
  username: string;
  name: string;
  role: Role;
  scopeGrid: string | null;
  scopeDepartment: string | null;
  level: 'community' | 'street' | 'district' | null;
  disabled: boolean;
  /** A generated or reset password: every API call but the password change answers 403 until changed. */
  mustChangePassword: boolean;
  /** TOTP second factor enrolled and confirmed. */
  totpEnabled: boolean;
}

/** What an admin sees of an account (never a hash or a TOTP secret). */
export interface UserAdminRow extends UserRow {
  /** ISO time until which sign-in is refused after repeated failures; null = not locked. */
  lockedUntil: string | null;
  failedLogins: number;
  createdAt: string;
  passwordChangedAt: string | null;
}

const COLS = `username, name, role, scope_grid AS "scopeGrid", scope_department AS "scopeDepartment", level, disabled,
  must_change_password AS "mustChangePassword", totp_enabled AS "totpEnabled"`;

export async function upsertDepartments(
  q: Queryable,
  deps: { id: string; name: string; nameEn: string; categories: string[] }[],
): Promise<void> {
  for (const d of deps)
    await q.query(
      `INSERT INTO departments (id, name, name_en, categories) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = $2, name_en = $3, categories = $4`,
      [d.id, d.name, d.nameEn, d.categories],
    );
}

export async function listDepartments(q: Queryable) {
  const r = await q.query<{ id: string; name: string; nameEn: string; categories: string[] }>(
    `SELECT id, name, name_en AS "nameEn", categories FROM departments ORDER BY id`,
  );
  return r.rows;
}

export async function insertUser(
  q: Queryable,
  u: Omit<UserRow, 'disabled' | 'mustChangePassword' | 'totpEnabled'> & {
    passwordHash: string;
    mustChangePassword?: boolean;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO users (username, name, role, password_hash, scope_grid, scope_department, level, must_change_password)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [u.username, u.name, u.role, u.passwordHash, u.scopeGrid, u.scopeDepartment, u.level, !!u.mustChangePassword],
  );
}

/** Replace a password; `mustChange` = it was set by someone else and must be changed at next sign-in. */
export async function setPassword(
  q: Queryable,
  username: string,
  passwordHash: string,
  mustChange = false,
): Promise<boolean> {
  const r = await q.query(
    `UPDATE users SET password_hash = $2, must_change_password = $3, password_changed_at = now() WHERE username = $1`,
    [username, passwordHash, mustChange],
  );
  return r.rowCount > 0;
}

const ADMIN_COLS = `${COLS}, locked_until AS "lockedUntil", failed_logins AS "failedLogins",
  created_at AS "createdAt", password_changed_at AS "passwordChangedAt"`;

function adminRow(r: UserAdminRow): UserAdminRow {
  const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
  const locked = iso(r.lockedUntil);
  return {
    ...r,
    lockedUntil: locked && Date.parse(locked) > Date.now() ? locked : null,
    failedLogins: Number(r.failedLogins),
    createdAt: iso(r.createdAt)!,
    passwordChangedAt: iso(r.passwordChangedAt),
  };
}

export async function listUsersAdmin(q: Queryable): Promise<UserAdminRow[]> {
  return (await q.query<UserAdminRow>(`SELECT ${ADMIN_COLS} FROM users ORDER BY username`)).rows.map(adminRow);
}

export async function getUserAdmin(q: Queryable, username: string): Promise<UserAdminRow | null> {
  const r = await q.query<UserAdminRow>(`SELECT ${ADMIN_COLS} FROM users WHERE username = $1`, [username]);
  return r.rows[0] ? adminRow(r.rows[0]) : null;
}

/** Change role, scope, level, name or the disabled flag; only the given fields. */
export async function updateUser(
  q: Queryable,
  username: string,
  f: Partial<Pick<UserRow, 'name' | 'role' | 'scopeGrid' | 'scopeDepartment' | 'level' | 'disabled'>>,
): Promise<boolean> {
  const cols: Record<string, string> = {
    name: 'name',
    role: 'role',
    scopeGrid: 'scope_grid',
    scopeDepartment: 'scope_department',
    level: 'level',
    disabled: 'disabled',
  };
  const sets: string[] = [];
  const params: unknown[] = [username];
  for (const [k, col] of Object.entries(cols)) {
    const v = (f as Record<string, unknown>)[k];
    if (v === undefined) continue;
    params.push(v);
    sets.push(`${col} = $${params.length}`);
  }
  if (!sets.length) return true;
  const r = await q.query(`UPDATE users SET ${sets.join(', ')} WHERE username = $1`, params);
  return r.rowCount > 0;
}

/** Login-failure state of an account (for the lockout rule). */
export interface LoginState {
  passwordHash: string;
  disabled: boolean;
  lockedUntil: Date | null;
  totpSecret: string | null;
  totpEnabled: boolean;
  totpLastStep: number | null;
}

export async function getLoginState(q: Queryable, username: string): Promise<LoginState | null> {
  const r = await q.query<{
    password_hash: string;
    disabled: boolean;
    locked_until: Date | string | null;
    totp_secret: string | null;
    totp_enabled: boolean;
    totp_last_step: string | number | null;
  }>(
    `SELECT password_hash, disabled, locked_until, totp_secret, totp_enabled, totp_last_step FROM users WHERE username = $1`,
    [username],
  );
  const x = r.rows[0];
  if (!x) return null;
  return {
    passwordHash: x.password_hash,
    disabled: x.disabled,
    lockedUntil: x.locked_until ? new Date(x.locked_until) : null,
    totpSecret: x.totp_secret,
    totpEnabled: x.totp_enabled,
    totpLastStep: x.totp_last_step === null ? null : Number(x.totp_last_step),
  };
}

/**
 * Count one failed sign-in: failures within `windowMs` of the first accumulate; at `max` the account is
 * locked for `lockMs`. Returns the failure count and the lock end when this failure locked it.
 */
export async function recordLoginFailure(
  q: Queryable,
  username: string,
  now: Date,
  o: { windowMs: number; max: number; lockMs: number },
): Promise<{ failures: number; lockedUntil: Date | null }> {
  const r = await q.query<{ failed_logins: number; locked_until: Date | string | null }>(
    `UPDATE users SET
       failed_logins = CASE WHEN failed_since IS NOT NULL AND failed_since > $2::timestamptz - make_interval(secs => $3 / 1000.0)
                            THEN failed_logins + 1 ELSE 1 END,
       failed_since = CASE WHEN failed_since IS NOT NULL AND failed_since > $2::timestamptz - make_interval(secs => $3 / 1000.0)
                           THEN failed_since ELSE $2::timestamptz END
     WHERE username = $1
     RETURNING failed_logins, locked_until`,
    [username, now, o.windowMs],
  );
  const row = r.rows[0];
  if (!row) return { failures: 0, lockedUntil: null };
  if (row.failed_logins >= o.max) {
    const until = new Date(now.getTime() + o.lockMs);
    await q.query(`UPDATE users SET locked_until = $2, failed_logins = 0, failed_since = NULL WHERE username = $1`, [
      username,
      until,
    ]);
    return { failures: row.failed_logins, lockedUntil: until };
  }
  return { failures: row.failed_logins, lockedUntil: null };
}

/** A successful sign-in or an admin's unlock clears failures and any lock. */
export async function clearLoginFailures(q: Queryable, username: string): Promise<boolean> {
  const r = await q.query(
    `UPDATE users SET failed_logins = 0, failed_since = NULL, locked_until = NULL WHERE username = $1`,
    [username],
  );
  return r.rowCount > 0;
}

export async function setTotp(
  q: Queryable,
  username: string,
  t: { secret: string | null; enabled: boolean; lastStep?: number | null },
): Promise<void> {
  await q.query(`UPDATE users SET totp_secret = $2, totp_enabled = $3, totp_last_step = $4 WHERE username = $1`, [
    username,
    t.secret,
    t.enabled,
    t.lastStep ?? null,
  ]);
}

/** Record an accepted TOTP time step; false when it (or a later one) was already used (a replay). */
export async function useTotpStep(q: Queryable, username: string, step: number): Promise<boolean> {
  const r = await q.query(
    `UPDATE users SET totp_last_step = $2 WHERE username = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
    [username, step],
  );
  return r.rowCount > 0;
}

export async function getUser(q: Queryable, username: string): Promise<UserRow | null> {
  const r = await q.query<UserRow>(`SELECT ${COLS} FROM users WHERE username = $1`, [username]);
  return r.rows[0] ?? null;
}

/** Departments that exist (ids). */
export async function departmentExists(q: Queryable, id: string): Promise<boolean> {
  return (await q.query(`SELECT 1 FROM departments WHERE id = $1`, [id])).rows.length > 0;
}

export async function getPasswordHash(q: Queryable, username: string): Promise<string | null> {
  const r = await q.query<{ h: string }>(`SELECT password_hash AS h FROM users WHERE username = $1 AND NOT disabled`, [
    username,
  ]);
  return r.rows[0]?.h ?? null;
}

export async function listUsers(q: Queryable): Promise<UserRow[]> {
  return (await q.query<UserRow>(`SELECT ${COLS} FROM users ORDER BY username`)).rows;
}

export async function insertSession(
  q: Queryable,
  tokenHash: string,
  username: string,
  expiresAt: Date,
  now = new Date(),
  /** A device session (migration 013): exempt from the idle timeout. */
  device = false,
): Promise<void> {
  await q.query(
    `INSERT INTO sessions (token_hash, username, created_at, last_seen_at, expires_at, device) VALUES ($1, $2, $4, $4, $3, $5)`,
    [tokenHash, username, expiresAt, now, device],
  );
}

/**
 * A session row with its user (disabled users' sessions are not returned); with `now`, only a session
 * not past its absolute lifetime. The idle timeout is the caller's (Sessions.userByTokenHash applies both).
 */
export async function userBySession(
  q: Queryable,
  tokenHash: string,
  now?: Date,
): Promise<(UserRow & { expiresAt: Date; lastSeenAt: Date; device: boolean }) | null> {
  const r = await q.query<UserRow & { expiresAt: Date | string; lastSeenAt: Date | string; device: boolean }>(
    `SELECT ${COLS.replace(/\busername\b/, 'u.username')}, s.expires_at AS "expiresAt", s.last_seen_at AS "lastSeenAt",
            s.device
       FROM sessions s JOIN users u ON u.username = s.username
      WHERE s.token_hash = $1 AND NOT u.disabled AND ($2::timestamptz IS NULL OR s.expires_at > $2)`,
    [tokenHash, now ?? null],
  );
  const x = r.rows[0];
  return x ? { ...x, expiresAt: new Date(x.expiresAt), lastSeenAt: new Date(x.lastSeenAt), device: !!x.device } : null;
}

export async function touchSession(q: Queryable, tokenHash: string, now: Date): Promise<void> {
  await q.query(`UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, [tokenHash, now]);
}

export async function deleteSession(q: Queryable, tokenHash: string): Promise<string | null> {
  const r = await q.query<{ username: string }>(`DELETE FROM sessions WHERE token_hash = $1 RETURNING username`, [
    tokenHash,
  ]);
  return r.rows[0]?.username ?? null;
}

/** End every session of a user but `keep` (a token hash); returns the ended token hashes. */
export async function deleteUserSessions(
  q: Queryable,
  username: string,
  keep: string | null = null,
): Promise<string[]> {
  const r = await q.query<{ token_hash: string }>(
    `DELETE FROM sessions WHERE username = $1 AND ($2::text IS NULL OR token_hash <> $2) RETURNING token_hash`,
    [username, keep],
  );
  return r.rows.map((x) => x.token_hash);
}

/** Delete sessions past their absolute lifetime or idle longer than `idleMs`; returns what was removed. */
export async function pruneSessions(
  q: Queryable,
  now: Date,
  idleMs: number,
): Promise<{ tokenHash: string; username: string }[]> {
  const r = await q.query<{ token_hash: string; username: string }>(
    `DELETE FROM sessions
      WHERE expires_at <= $1 OR (NOT device AND last_seen_at <= $1::timestamptz - make_interval(secs => $2 / 1000.0))
      RETURNING token_hash, username`,
    [now, idleMs],
  );
  return r.rows.map((x) => ({ tokenHash: x.token_hash, username: x.username }));
}

export async function getKv<T>(q: Queryable, key: string): Promise<T | null> {
  const r = await q.query<{ value: T }>(`SELECT value FROM kv WHERE key = $1`, [key]);
  return r.rows[0]?.value ?? null;
}

export async function setKv(q: Queryable, key: string, value: unknown): Promise<void> {
  await q.query(
    `INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = now()`,
    [key, JSON.stringify(value)],
  );
}
