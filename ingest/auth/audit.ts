/**
 * Security audit log (安全审计, GB/T 22239-2019 8.1.4.3): who did what to whom, from where, when.
 *
 * Append-only and hash-chained with the case trail's hashing (core/cases/trail.ts `chainHash`: SHA-256 over
 * the previous hash and the entry's canonical JSON), so changing, removing or reordering a stored entry
 * breaks every hash after it. The database refuses UPDATE, TRUNCATE and any DELETE except a declared
 * retention prune of rows older than 180 days (migration 007_security.sql).
 *
 * Kinds recorded (stable strings): login, login_failed, account_locked, account_unlocked, logout,
 * session_expired, password_changed, password_reset, user_created, user_updated, user_disabled,
 * user_enabled, totp_enrolled, totp_disabled, audit_pruned — and, from other modules, open311_key_created,
 * contact_revealed, grid_published, export, rules_changed.
 */
import { GENESIS_HASH, chainHash } from '../../core/cases/trail.ts';
import type { Db, Queryable } from '../store/db.ts';
import { sha256Hex } from './secrets.ts';

export interface AuditEvent {
  /** What happened, e.g. `login_failed`. */
  kind: string;
  /** Username of who did it; null for the system or an anonymous caller. */
  actor: string | null;
  /** What it was done to (a username, a key id, a grid version…). */
  target?: string | null;
  /** Client address as the server saw it. */
  ip?: string | null;
  /** Anything else worth keeping; JSON values only. */
  detail?: Record<string, unknown>;
}

export interface AuditEntry {
  /** Chain position, 0-based; also the keyset for pages. */
  seq: number;
  /** ISO 8601 UTC, millisecond precision. */
  at: string;
  kind: string;
  actor: string | null;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** Advisory lock key serialising appends across processes sharing one PostgreSQL. */
const AUDIT_LOCK = 727_007;

/** Text columns and jsonb refuse U+0000: replace it so a hostile value cannot make an audit write fail. */
function clean(v: unknown): unknown {
  if (typeof v === 'string') return v.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(v)) return v.map(clean);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[clean(k) as string] = clean(x);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

function hashed(e: Omit<AuditEntry, 'hash' | 'prevHash'>) {
  // chainHash hashes every member except hash/prevHash; the cast only bridges the case-trail entry type.
  return e as unknown as Parameters<typeof chainHash>[1];
}

async function append(q: Queryable, e: AuditEvent, at: Date): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock($1)`, [AUDIT_LOCK]);
  const last = await q.query<{ seq: string | number; hash: string }>(
    `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`,
  );
  const prev = last.rows[0];
  const entry = {
    seq: prev ? Number(prev.seq) + 1 : 0,
    at: at.toISOString(),
    kind: clean(e.kind) as string,
    actor: (clean(e.actor ?? null) as string | null) ?? null,
    target: (clean(e.target ?? null) as string | null) ?? null,
    ip: (clean(e.ip ?? null) as string | null) ?? null,
    detail: JSON.parse(JSON.stringify(clean(e.detail ?? {}))) as Record<string, unknown>,
  };
  const prevHash = prev ? prev.hash : GENESIS_HASH;
  const hash = chainHash(prevHash, hashed(entry), sha256Hex);
  await q.query(
    `INSERT INTO audit_log (seq, at, kind, actor, target, ip, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [entry.seq, at, entry.kind, entry.actor, entry.target, entry.ip, JSON.stringify(entry.detail), prevHash, hash],
  );
}

/**
 * Append one event to the audit chain. `q` may be the database (the append runs in its own transaction)
 * or a transaction's Queryable (the append commits or rolls back with the caller's work). `at` is now,
 * except for an import of older records.
 */
export async function recordAudit(q: Queryable, e: AuditEvent, at: Date = new Date()): Promise<void> {
  const db = q as Partial<Db>;
  if (typeof db.tx === 'function') await db.tx((t) => append(t, e, at));
  else await append(q, e, at);
}

interface Row {
  seq: string | number;
  at: Date | string;
  kind: string;
  actor: string | null;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | string;
  prev_hash: string;
  hash: string;
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    at: new Date(r.at).toISOString(),
    kind: r.kind,
    actor: r.actor,
    target: r.target,
    ip: r.ip,
    detail: typeof r.detail === 'string' ? (JSON.parse(r.detail) as Record<string, unknown>) : r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const SELECT = `SELECT seq, at, kind, actor, target, ip, detail, prev_hash, hash FROM audit_log`;

export interface AuditQuery {
  /** Inclusive lower bound on `at`. */
  from?: Date;
  /** Exclusive upper bound on `at`. */
  to?: Date;
  actor?: string;
  kind?: string;
  /** Keyset: entries with seq < before (newest first). */
  before?: number;
  /** Page size, 1–500. */
  limit: number;
}

/** One page, newest first; `next` is the `before` of the following page, null at the end. */
export async function listAudit(q: Queryable, f: AuditQuery): Promise<{ items: AuditEntry[]; next: number | null }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.from) add('at >= ?', f.from);
  if (f.to) add('at < ?', f.to);
  if (f.actor !== undefined) add('actor = ?', f.actor);
  if (f.kind !== undefined) add('kind = ?', f.kind);
  if (f.before !== undefined) add('seq < ?', f.before);
  params.push(f.limit + 1);
  const r = await q.query<Row>(
    `${SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  const items = r.rows.slice(0, f.limit).map(toEntry);
  return { items, next: r.rows.length > f.limit ? items[items.length - 1].seq : null };
}

export interface AuditVerdict {
  verified: boolean;
  /** seq of the first entry that does not check out; null when verified. */
  brokenAt: number | null;
  /** Entries checked. */
  count: number;
}

/**
 * Check the whole stored chain: consecutive seq, prevHash = previous hash, every hash recomputed. After a
 * retention prune the first kept entry's prevHash must be the anchor an `audit_pruned` entry recorded.
 */
export async function verifyAudit(q: Queryable): Promise<AuditVerdict> {
  const rows = (await q.query<Row>(`${SELECT} ORDER BY seq`)).rows.map(toEntry);
  if (rows.length === 0) return { verified: true, brokenAt: null, count: 0 };
  let prev = GENESIS_HASH;
  let expectSeq = 0;
  if (rows[0].seq !== 0) {
    const anchor = rows.find(
      (e) =>
        e.kind === 'audit_pruned' && e.detail.throughSeq === rows[0].seq - 1 && e.detail.anchor === rows[0].prevHash,
    );
    if (!anchor) return { verified: false, brokenAt: rows[0].seq, count: rows.length };
    prev = rows[0].prevHash;
    expectSeq = rows[0].seq;
  }
  for (const e of rows) {
    const { hash, prevHash, ...rest } = e;
    let ok = e.seq === expectSeq && prevHash === prev;
    if (ok) {
      try {
        ok = chainHash(prev, hashed(rest), sha256Hex) === hash;
      } catch {
        ok = false;
      }
    }
    if (!ok) return { verified: false, brokenAt: e.seq, count: rows.length };
    prev = hash;
    expectSeq++;
  }
  return { verified: true, brokenAt: null, count: rows.length };
}

/** The standard's floor: audit records are kept at least six months. */
export const AUDIT_MIN_RETENTION_DAYS = 180;

/**
 * Delete entries older than `retentionDays` (never fewer than 180), then record an `audit_pruned` entry
 * carrying the anchor (the last pruned hash) so the shortened chain still verifies. Returns rows removed.
 */
export async function pruneAudit(db: Db, retentionDays: number, now = new Date()): Promise<number> {
  const days = Math.max(AUDIT_MIN_RETENTION_DAYS, retentionDays);
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  return db.tx(async (t) => {
    await t.query(`SELECT pg_advisory_xact_lock($1)`, [AUDIT_LOCK]);
    const last = await t.query<{ seq: string | number; hash: string }>(
      `SELECT seq, hash FROM audit_log WHERE at < $1 ORDER BY seq DESC LIMIT 1`,
      [cutoff],
    );
    const through = last.rows[0];
    if (!through) return 0;
    await t.query(`SELECT set_config('onegrid.audit_prune', 'on', true)`);
    const r = await t.query(`DELETE FROM audit_log WHERE seq <= $1`, [through.seq]);
    await t.query(`SELECT set_config('onegrid.audit_prune', 'off', true)`);
    await append(
      t,
      {
        kind: 'audit_pruned',
        actor: null,
        detail: { throughSeq: Number(through.seq), anchor: through.hash, before: cutoff.toISOString(), days },
      },
      new Date(),
    );
    return r.rowCount;
  });
}
