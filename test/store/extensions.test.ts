/**
 * Optional extensions are decided by what works, not by what is installed (issue: a PostgreSQL with
 * TimescaleDB installed but not in shared_preload_libraries stopped migrations with `extension "timescaledb"
 * must be preloaded`). Every answer a server can give is scripted against a fake; the cases this machine can
 * stage are run on a real PostgreSQL 15 with PostGIS: a superuser, a database without the extension created,
 * and a user without the right to create extensions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Db, type Queryable } from '../../ingest/store/db.ts';
import { detectFeatures, extensionWarnings, migrate } from '../../ingest/store/migrate.ts';
import { startPostgres, type PostgresHandle } from '../harness/postgres.ts';

interface Script {
  available: { name: string; created: boolean }[];
  /** null: reading the setting is refused (a non-superuser). */
  preload: string | null;
  /** What CREATE EXTENSION does per extension: 'ok' or an error {code, message}. */
  create: Record<string, 'ok' | { code: string; message: string }>;
}

/** A Db that answers the detector's queries from a script, and records what was executed. */
function fakeDb(s: Script): Db & { executed: string[] } {
  const executed: string[] = [];
  const q: Queryable = {
    async query<T>(sql: string) {
      executed.push(sql);
      if (sql.includes('pg_available_extensions')) return { rows: s.available as T[], rowCount: s.available.length };
      if (sql.includes('shared_preload_libraries')) {
        if (s.preload === null)
          throw Object.assign(new Error('must be superuser or have privileges of pg_read_all_settings'), {
            code: '42501',
          });
        return { rows: [{ v: s.preload }] as T[], rowCount: 1 };
      }
      throw new Error(`unexpected query ${sql}`);
    },
    async exec(sql: string) {
      executed.push(sql);
      const m = /CREATE EXTENSION IF NOT EXISTS (\w+)/.exec(sql);
      if (m) {
        const r = s.create[m[1]] ?? 'ok';
        if (r !== 'ok') throw Object.assign(new Error(r.message), { code: r.code });
      }
    },
  };
  return {
    kind: 'postgres',
    executed,
    ...q,
    async tx(fn) {
      executed.push('BEGIN');
      try {
        const out = await fn(q);
        executed.push('COMMIT');
        return out;
      } catch (e) {
        executed.push('ROLLBACK');
        throw e;
      }
    },
    async close() {},
  };
}

const TS_PRELOAD_ERROR = {
  code: '0A000',
  message: 'extension "timescaledb" must be preloaded',
};

describe('optional extension decisions (every answer a server can give)', () => {
  it('neither installed: plain tables, no warning', async () => {
    const f = await detectFeatures(fakeDb({ available: [], preload: '', create: {} }));
    expect(f.timescale).toBe(false);
    expect(f.extensions.timescaledb.state).toBe('not installed');
    expect(f.extensions.postgis.state).toBe('not installed');
    expect(extensionWarnings(f)).toEqual([]);
  });

  it('TimescaleDB installed but not preloaded: not used, one warning naming shared_preload_libraries', async () => {
    const db = fakeDb({ available: [{ name: 'timescaledb', created: false }], preload: '', create: {} });
    const f = await detectFeatures(db);
    expect(f.timescale).toBe(false);
    expect(f.extensions.timescaledb.state).toBe('available, not preloaded');
    const w = extensionWarnings(f);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("shared_preload_libraries = 'timescaledb'");
    // decided from the setting alone: no CREATE EXTENSION was tried
    expect(db.executed.some((x) => x.includes('CREATE EXTENSION IF NOT EXISTS timescaledb'))).toBe(false);
  });

  it('preload setting unreadable: the probe decides, and its preload error is recognised', async () => {
    const db = fakeDb({
      available: [{ name: 'timescaledb', created: false }],
      preload: null,
      create: { timescaledb: TS_PRELOAD_ERROR },
    });
    const f = await detectFeatures(db);
    expect(f.extensions.timescaledb).toMatchObject({ use: false, state: 'available, not preloaded' });
    expect(f.extensions.timescaledb.reason).toContain('must be preloaded');
  });

  it('preloaded and creatable: used; the probe is rolled back', async () => {
    const db = fakeDb({
      available: [
        { name: 'timescaledb', created: false },
        { name: 'postgis', created: true },
      ],
      preload: 'pg_stat_statements, timescaledb',
      create: {},
    });
    const f = await detectFeatures(db);
    expect(f.timescale).toBe(true);
    expect(f.extensions.timescaledb.state).toBe('usable');
    expect(f.extensions.postgis.state).toBe('enabled');
    expect(extensionWarnings(f)).toEqual([]);
    expect(db.executed.at(-1)).toBe('ROLLBACK');
    expect(db.executed).not.toContain('COMMIT');
  });

  it('a user without the right to create extensions: not used, a warning that says so', async () => {
    const f = await detectFeatures(
      fakeDb({
        available: [
          { name: 'timescaledb', created: false },
          { name: 'postgis', created: false },
        ],
        preload: 'timescaledb',
        create: {
          timescaledb: { code: '42501', message: 'permission denied to create extension "timescaledb"' },
          postgis: { code: '42501', message: 'permission denied to create extension "postgis"' },
        },
      }),
    );
    expect(f.timescale).toBe(false);
    expect(f.postgis).toBe(false);
    expect(f.extensions.postgis.state).toBe('available, not permitted');
    const w = extensionWarnings(f);
    expect(w).toHaveLength(2);
    expect(w.join('\n')).toMatch(/as a superuser/);
  });

  it('any other failure: not used, the server error kept as the reason', async () => {
    const f = await detectFeatures(
      fakeDb({
        available: [{ name: 'postgis', created: false }],
        preload: '',
        create: { postgis: { code: '58P01', message: 'could not load library "postgis-3.so"' } },
      }),
    );
    expect(f.extensions.postgis).toMatchObject({ use: false, state: 'available, failed' });
    expect(f.extensions.postgis.reason).toContain('could not load library');
  });
});

describe('optional extensions on a real PostgreSQL 15', () => {
  let pg: PostgresHandle;
  let admin: Db;
  beforeAll(async () => {
    pg = await startPostgres({ postgis: false });
    admin = await openPostgres(pg.url, 2);
    await admin.exec(`CREATE ROLE og_plain LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    await admin.exec(`CREATE DATABASE og_plain OWNER og_plain`);
    await admin.exec(`CREATE DATABASE og_super`);
  });
  afterAll(async () => {
    await admin?.close();
    await pg?.stop();
  });
  const urlFor = (user: string, db: string) => `postgres://${user}@127.0.0.1:${pg.port}/${db}`;

  it('superuser, PostGIS installed but not created: usable, and deciding creates nothing', async () => {
    const db = await openPostgres(urlFor('postgres', 'og_super'), 2);
    try {
      const f = await detectFeatures(db);
      expect(f.extensions.postgis).toMatchObject({ use: true, state: 'usable' });
      expect(f.extensions.timescaledb.state).toBe('not installed'); // not packaged for Debian 12
      const created = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'postgis'`);
      expect(created.rows).toHaveLength(0);
    } finally {
      await db.close();
    }
  });

  it('a user without the right to create extensions migrates on plain tables with one warning', async () => {
    const db = await openPostgres(urlFor('og_plain', 'og_plain'), 2);
    try {
      const report = await migrate(db);
      expect(report.applied).toContain('001_init');
      expect(report.skipped).toContain('002_timeseries.timescale');
      expect(report.features.extensions.postgis.state).toBe('available, not permitted');
      expect(report.warnings).toHaveLength(1);
      expect(report.warnings[0]).toMatch(/^postgis is installed but not permitted .*superuser/);
      const again = await migrate(db);
      expect(again.applied).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
