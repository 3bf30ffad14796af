/**
 * Open311 state in SQL (migration 005_open311.sql): API keys, stored as SHA-256 hashes and shown once at
 * creation, and the requests made through Open311 with their tokens.
 *
 * Bootstrap: there is no default key. Until an administrator creates one (`POST /api/open311/keys`),
 * every POST service request is refused with 403; the read endpoints need no key.
 */
import { newSecret, sha256Hex } from '../auth/secrets.ts';
import type { Queryable } from '../store/db.ts';

export interface ApiKeyInfo {
  id: string;
  name: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface RequestRow {
  caseId: string;
  code: string;
  token: string;
  keyId: string | null;
  addressId: string | null;
  createdAt: number;
}

/** What the Open311 handlers need from storage (a fake stands in for it in unit tests). */
export interface Open311Store {
  /** The key's id when `key` is a live (not revoked) API key, else null. */
  verifyKey(key: string): Promise<string | null>;
  /** True when at least one live key exists (for the error message of the bootstrap state). */
  anyKey(): Promise<boolean>;
  saveRequest(row: Omit<RequestRow, 'createdAt'>): Promise<void>;
  byToken(token: string): Promise<RequestRow | null>;
  byCaseIds(ids: string[]): Promise<Map<string, RequestRow>>;
}

const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : (v instanceof Date ? v : new Date(v as string)).toISOString();

/** A new API key: `o311_` + 32 random URL-safe characters. */
export function newApiKey(): string {
  return `o311_${newSecret(24)}`;
}

export async function createKey(
  q: Queryable,
  name: string,
  createdBy: string | null,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = newApiKey();
  const id = `k_${newSecret(6)}`;
  const r = await q.query<{ created_at: unknown }>(
    `INSERT INTO open311_keys (id, key_hash, name, created_by) VALUES ($1, $2, $3, $4) RETURNING created_at`,
    [id, sha256Hex(key), name, createdBy],
  );
  return {
    key,
    info: { id, name, createdBy, createdAt: iso(r.rows[0].created_at)!, lastUsedAt: null, revokedAt: null },
  };
}

export async function listKeys(q: Queryable): Promise<ApiKeyInfo[]> {
  const r = await q.query<Record<string, unknown>>(
    `SELECT id, name, created_by, created_at, last_used_at, revoked_at FROM open311_keys ORDER BY created_at, id`,
  );
  return r.rows.map((x) => ({
    id: x.id as string,
    name: x.name as string,
    createdBy: (x.created_by as string | null) ?? null,
    createdAt: iso(x.created_at)!,
    lastUsedAt: iso(x.last_used_at),
    revokedAt: iso(x.revoked_at),
  }));
}

/** Revoke a key; false when there is no such (live) key. */
export async function revokeKey(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`UPDATE open311_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  return r.rowCount > 0;
}

export class SqlOpen311Store implements Open311Store {
  constructor(private readonly q: Queryable) {}

  async verifyKey(key: string): Promise<string | null> {
    if (!key || key.length > 200) return null;
    const r = await this.q.query<{ id: string }>(
      `UPDATE open311_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING id`,
      [sha256Hex(key)],
    );
    return r.rows[0]?.id ?? null;
  }

  async anyKey(): Promise<boolean> {
    const r = await this.q.query(`SELECT 1 FROM open311_keys WHERE revoked_at IS NULL LIMIT 1`);
    return r.rows.length > 0;
  }

  async saveRequest(row: Omit<RequestRow, 'createdAt'>): Promise<void> {
    await this.q.query(
      `INSERT INTO open311_requests (case_id, code, token, key_id, address_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (case_id) DO NOTHING`,
      [row.caseId, row.code, row.token, row.keyId, row.addressId],
    );
  }

  async byToken(token: string): Promise<RequestRow | null> {
    if (!token || token.length > 200) return null;
    const r = await this.q.query<Record<string, unknown>>(`SELECT * FROM open311_requests WHERE token = $1`, [token]);
    return r.rows[0] ? toRow(r.rows[0]) : null;
  }

  async byCaseIds(ids: string[]): Promise<Map<string, RequestRow>> {
    if (ids.length === 0) return new Map();
    const r = await this.q.query<Record<string, unknown>>(`SELECT * FROM open311_requests WHERE case_id = ANY($1)`, [
      ids,
    ]);
    return new Map(r.rows.map((x) => [x.case_id as string, toRow(x)]));
  }
}

function toRow(x: Record<string, unknown>): RequestRow {
  const c = x.created_at;
  return {
    caseId: x.case_id as string,
    code: x.code as string,
    token: x.token as string,
    keyId: (x.key_id as string | null) ?? null,
    addressId: (x.address_id as string | null) ?? null,
    createdAt: c instanceof Date ? c.getTime() : new Date(c as string).getTime(),
  };
}
