/**
 * Open311 state in SQL (migration 005_open311.sql): API keys, stored as SHA-256 hashes and shown once at
 * creation, and the requests made through Open311 with their tokens.
 *
 * Bootstrap: there is no default key. Until an administrator creates one (`POST /api/open311/keys`),
 * every POST service request is refused with 403; the read endpoints need no key.
 */
import { randomBytes } from 'node:crypto';
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
  /** The public service_request_id: 20 random hex characters (migration 009). */
  publicId: string;
  token: string;
  keyId: string | null;
  addressId: string | null;
  createdAt: number;
  /** The poster's address (folding compares it). */
  clientIp?: string | null;
  /** fingerprintOf(service_code, description) (flood.ts). */
  fingerprint?: string | null;
  /** [lng, lat] as posted. */
  location?: [number, number] | null;
  /** case_evidence ids of the uploaded `media`: the original and the public copy without metadata. */
  mediaEvidence?: number | null;
  publicMediaEvidence?: number | null;
}

/** A trail note a handler chose to show the citizen (`notePublic: true` on the action). */
export interface PublicNote {
  text: string;
  /** The case state the entry led to. */
  toState: string | null;
  at: number;
}

export type NewRequestRow = Omit<RequestRow, 'createdAt'>;

/** What the Open311 handlers need from storage (a fake stands in for it in unit tests). */
export interface Open311Store {
  /** The key's id when `key` is a live (not revoked) API key, else null. */
  verifyKey(key: string): Promise<string | null>;
  /** True when at least one live key exists (for the error message of the bootstrap state). */
  anyKey(): Promise<boolean>;
  saveRequest(row: NewRequestRow): Promise<void>;
  byToken(token: string): Promise<RequestRow | null>;
  byCaseIds(ids: string[]): Promise<Map<string, RequestRow>>;
  /** The row whose public id is `publicId`, or null. */
  byPublicId(publicId: string): Promise<RequestRow | null>;
  /**
   * The rows of these citizen cases, creating one (with a new public id and token from `fresh`) for a
   * case that has none yet (cases taken in by hand with source `citizen`, the sample district's reports).
   */
  ensureRows(
    cases: { id: string; code: string }[],
    fresh: () => { publicId: string; token: string },
  ): Promise<Map<string, RequestRow>>;
  /** Requests with this fingerprint since `since` (epoch ms) from this key or this address. */
  recentSimilar(fingerprint: string, keyId: string, clientIp: string | null, since: number): Promise<RequestRow[]>;
  /** The latest public note of each case (caseId → note), from the case trail. */
  publicNotes(caseIds: string[]): Promise<Map<string, PublicNote>>;
  /** The reporter contact stored on each case (caseId → contact). */
  reporters(caseIds: string[]): Promise<Map<string, Record<string, unknown>>>;
  /** Keep an uploaded photo as evidence of the case: the original and the public copy; returns their ids. */
  saveMedia(
    caseId: string,
    media: { mime: string; original: Buffer; publicJpeg: Buffer },
  ): Promise<{ original: number; public: number }>;
  /** The public (metadata-free) photo of the request with this public id, or null. */
  publicMedia(publicId: string): Promise<{ mime: string; bytes: Buffer } | null>;
}

const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : (v instanceof Date ? v : new Date(v as string)).toISOString();

/** A new public service_request_id: 20 hex characters from 80 random bits (not guessable, not countable). */
export function newPublicId(): string {
  return randomBytes(10).toString('hex');
}

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

  async saveRequest(row: NewRequestRow): Promise<void> {
    await this.q.query(
      `INSERT INTO open311_requests
         (case_id, code, public_id, token, key_id, address_id, client_ip, fingerprint, lng, lat,
          media_evidence, public_media_evidence)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (case_id) DO NOTHING`,
      [
        row.caseId,
        row.code,
        row.publicId,
        row.token,
        row.keyId,
        row.addressId,
        row.clientIp ?? null,
        row.fingerprint ?? null,
        row.location?.[0] ?? null,
        row.location?.[1] ?? null,
        row.mediaEvidence ?? null,
        row.publicMediaEvidence ?? null,
      ],
    );
  }

  async byPublicId(publicId: string): Promise<RequestRow | null> {
    if (!publicId || publicId.length > 100) return null;
    const r = await this.q.query<Record<string, unknown>>(`SELECT * FROM open311_requests WHERE public_id = $1`, [
      publicId,
    ]);
    return r.rows[0] ? toRow(r.rows[0]) : null;
  }

  async ensureRows(
    cases: { id: string; code: string }[],
    fresh: () => { publicId: string; token: string },
  ): Promise<Map<string, RequestRow>> {
    const have = await this.byCaseIds(cases.map((c) => c.id));
    const missing = cases.filter((c) => !have.has(c.id));
    for (const c of missing) {
      const f = fresh();
      await this.q.query(
        `INSERT INTO open311_requests (case_id, code, public_id, token) VALUES ($1, $2, $3, $4)
         ON CONFLICT (case_id) DO NOTHING`,
        [c.id, c.code, f.publicId, f.token],
      );
    }
    return missing.length ? this.byCaseIds(cases.map((c) => c.id)) : have;
  }

  async recentSimilar(
    fingerprint: string,
    keyId: string,
    clientIp: string | null,
    since: number,
  ): Promise<RequestRow[]> {
    const r = await this.q.query<Record<string, unknown>>(
      `SELECT * FROM open311_requests
        WHERE fingerprint = $1 AND created_at >= $2 AND (key_id = $3 OR client_ip = $4)
        ORDER BY created_at`,
      [fingerprint, new Date(since).toISOString(), keyId, clientIp],
    );
    return r.rows.map(toRow);
  }

  async publicNotes(caseIds: string[]): Promise<Map<string, PublicNote>> {
    if (caseIds.length === 0) return new Map();
    // The case trail (ingest/store/cases.ts, migration 004): entries whose action carried notePublic: true.
    const r = await this.q.query<{
      case_id: string;
      note: string | null;
      data: unknown;
      to_state: string | null;
      at: unknown;
    }>(
      `SELECT DISTINCT ON (case_id) case_id, note, data, to_state, at FROM case_trail
        WHERE case_id = ANY($1) AND data->>'notePublic' = 'true'
        ORDER BY case_id, seq DESC`,
      [caseIds],
    );
    const out = new Map<string, PublicNote>();
    for (const x of r.rows) {
      const data = (typeof x.data === 'string' ? JSON.parse(x.data) : x.data) as Record<string, unknown>;
      const text = publicTextOf(x.note, data);
      if (text) out.set(x.case_id, { text, toState: x.to_state, at: new Date(x.at as string).getTime() });
    }
    return out;
  }

  async reporters(caseIds: string[]): Promise<Map<string, Record<string, unknown>>> {
    if (caseIds.length === 0) return new Map();
    const r = await this.q.query<{ id: string; reporter: unknown }>(
      `SELECT id, reporter FROM cases WHERE id = ANY($1) AND reporter IS NOT NULL`,
      [caseIds],
    );
    return new Map(
      r.rows.map((x) => [
        x.id,
        (typeof x.reporter === 'string' ? JSON.parse(x.reporter) : x.reporter) as Record<string, unknown>,
      ]),
    );
  }

  async saveMedia(
    caseId: string,
    media: { mime: string; original: Buffer; publicJpeg: Buffer },
  ): Promise<{ original: number; public: number }> {
    // The evidence store of migration 006 (GET /api/cases/{id}/evidence/{eid} serves both to handlers).
    const ins = async (kind: string, mime: string, bytes: Buffer) =>
      Number(
        (
          await this.q.query<{ id: string }>(
            `INSERT INTO case_evidence (case_id, kind, source, mime, bytes) VALUES ($1, $2, 'open311', $3, $4) RETURNING id`,
            [caseId, kind, mime, bytes],
          )
        ).rows[0].id,
      );
    const original = await ins('citizen_media', media.mime, media.original);
    const pub = await ins('citizen_media_public', 'image/jpeg', media.publicJpeg);
    await this.q.query(
      `UPDATE open311_requests SET media_evidence = $2, public_media_evidence = $3 WHERE case_id = $1`,
      [caseId, original, pub],
    );
    return { original, public: pub };
  }

  async publicMedia(publicId: string): Promise<{ mime: string; bytes: Buffer } | null> {
    if (!publicId || publicId.length > 100) return null;
    const r = await this.q.query<{ mime: string; bytes: Buffer | Uint8Array }>(
      `SELECT e.mime, e.bytes FROM open311_requests o JOIN case_evidence e ON e.id = o.public_media_evidence
        WHERE o.public_id = $1`,
      [publicId],
    );
    const row = r.rows[0];
    return row ? { mime: row.mime, bytes: Buffer.from(row.bytes) } : null;
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
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const lng = num(x.lng);
  const lat = num(x.lat);
  return {
    caseId: x.case_id as string,
    code: x.code as string,
    publicId: x.public_id as string,
    token: x.token as string,
    keyId: (x.key_id as string | null) ?? null,
    addressId: (x.address_id as string | null) ?? null,
    createdAt: c instanceof Date ? c.getTime() : new Date(c as string).getTime(),
    clientIp: (x.client_ip as string | null) ?? null,
    fingerprint: (x.fingerprint as string | null) ?? null,
    location: lng !== null && lat !== null ? [lng, lat] : null,
    mediaEvidence: num(x.media_evidence),
    publicMediaEvidence: num(x.public_media_evidence),
  };
}

/**
 * The text a public trail entry shows the citizen: its note, else the reason (reject, return, extend), else
 * the handling result (handle).
 */
export function publicTextOf(note: string | null | undefined, data: Record<string, unknown>): string | null {
  for (const v of [note, data.reason, data.result]) if (typeof v === 'string' && v.trim()) return v.trim();
  return null;
}
