/**
 * One database interface over PGlite (embedded, default) and node-postgres (DATABASE_URL).
 * Both speak PostgreSQL; the same SQL and migrations run on each.
 */
import { mkdirSync } from 'node:fs';
import { DATA_DIR_MODE, secureDataDir } from './datadir.ts';
import path from 'node:path';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Several statements, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Run fn in one transaction; rolled back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openPglite(dataDir: string | null): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  let dir: string | undefined;
  if (dataDir) {
    // DATA_DIR 0700, its files 0600, files created later owner-only (./datadir.ts).
    dir = path.join(secureDataDir(dataDir), 'pglite');
    mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  }
  const pg = dir ? await PGlite.create(dir) : await PGlite.create();
  // PGlite creates its files 0666 whatever the umask: tightened now, every minute, and at close.
  const tighten = () => {
    if (dataDir) secureDataDir(dataDir);
  };
  tighten();
  const timer = dir ? setInterval(tighten, 60_000) : null;
  timer?.unref();
  const wrap = (q: { query: typeof pg.query; exec: typeof pg.exec }): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      const r = await q.query<T>(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const base = wrap(pg);
  return {
    kind: 'pglite',
    query: base.query,
    exec: base.exec,
    tx(fn) {
      return pg.transaction((t) => fn(wrap(t)));
    },
    async close() {
      if (timer) clearInterval(timer);
      await pg.close();
      tighten();
    },
  };
}

export async function openPostgres(url: string, max = 10): Promise<Db> {
  const pgmod = await import('pg');
  const Pool = pgmod.default.Pool;
  // Timestamps come back as JS Dates (timestamptz); bigint counts as strings — callers convert.
  const pool = new Pool({ connectionString: url, max });
  // A broken idle client must not crash the process (it is discarded by the pool).
  pool.on('error', () => {});
  return {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      const r = await pool.query(sql, params as unknown[]);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async tx(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({
          async query<T>(sql: string, params?: unknown[]) {
            const r = await client.query(sql, params as unknown[]);
            return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

export async function openDb(opts: { databaseUrl: string | null; dataDir: string | null }): Promise<Db> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.dataDir);
}
