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
}

const COLS = `username, name, role, scope_grid AS "scopeGrid", scope_department AS "scopeDepartment", level, disabled`;

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

export async function insertUser(q: Queryable, u: Omit<UserRow, 'disabled'> & { passwordHash: string }): Promise<void> {
  await q.query(
    `INSERT INTO users (username, name, role, password_hash, scope_grid, scope_department, level)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [u.username, u.name, u.role, u.passwordHash, u.scopeGrid, u.scopeDepartment, u.level],
  );
}

export async function setPassword(q: Queryable, username: string, passwordHash: string): Promise<boolean> {
  const r = await q.query(`UPDATE users SET password_hash = $2 WHERE username = $1`, [username, passwordHash]);
  return r.rowCount > 0;
}

export async function getUser(q: Queryable, username: string): Promise<UserRow | null> {
  const r = await q.query<UserRow>(`SELECT ${COLS} FROM users WHERE username = $1`, [username]);
  return r.rows[0] ?? null;
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

export async function insertSession(q: Queryable, tokenHash: string, username: string, expiresAt: Date): Promise<void> {
  await q.query(`INSERT INTO sessions (token_hash, username, expires_at) VALUES ($1, $2, $3)`, [
    tokenHash,
    username,
    expiresAt,
  ]);
}

export async function userBySession(q: Queryable, tokenHash: string, now: Date): Promise<UserRow | null> {
  const r = await q.query<UserRow>(
    `SELECT ${COLS} FROM sessions s JOIN users u USING (username)
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`,
    [tokenHash, now],
  );
  return r.rows[0] ?? null;
}

export async function deleteSession(q: Queryable, tokenHash: string): Promise<void> {
  await q.query(`DELETE FROM sessions WHERE token_hash = $1`, [tokenHash]);
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
