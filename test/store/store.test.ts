import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, openPostgres, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { createGridVersion, gridsOfVersion, insertGrids, publishedVersion } from '../../ingest/store/grids.ts';
import { getDevice, insertDevices, listDevices } from '../../ingest/store/devices.ts';
import { startPostgres, createDatabase, type PostgresHandle } from '../harness/postgres.ts';

let pg: PostgresHandle;

beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const square = (x: number, y: number, d = 0.01) => ({
  type: 'Polygon' as const,
  coordinates: [
    [
      [x, y],
      [x + d, y],
      [x + d, y + d],
      [x, y + d],
      [x, y],
    ],
  ],
});

// The same store tests on both drivers: PGlite (embedded default) and a real PostgreSQL 15 with PostGIS.
const drivers: [string, () => Promise<Db>][] = [
  ['PGlite', () => openPglite(null)],
  [
    'PostgreSQL',
    async () => openPostgres(createDatabase(pg, `store_${Date.now()}_${Math.floor(Math.random() * 1e6)}`)),
  ],
];

describe.each(drivers)('store on %s', (_name, open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies the migrations, and applying them again is a no-op', async () => {
    const first = await migrate(db);
    expect(first.applied).toContain('001_init');
    const tables = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const second = await migrate(db);
    expect(second.applied).toEqual([]);
    const again = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(again.rows[0].n).toBe(tables.rows[0].n);
    // TimescaleDB is detected, never assumed: absent here, so its migration is skipped.
    expect(second.skipped).toContain('002_timeseries.timescale');
  });

  it('stores versioned grids and one published version', async () => {
    const v = await createGridVersion(db, 'test', 'published', 'test');
    await insertGrids(db, v, [
      { code: '120106001001001', level: 4, name: 'a', parent: '120106001001', kind: 'grid', geometry: square(117, 39) },
      {
        code: '120106001001002',
        level: 4,
        name: 'b',
        parent: '120106001001',
        kind: 'grid',
        geometry: square(117.01, 39),
      },
    ]);
    expect(await publishedVersion(db)).toBe(v);
    const rows = await gridsOfVersion(db, v, { level: 4 });
    expect(rows.map((r) => r.code)).toEqual(['120106001001001', '120106001001002']);
    expect(rows[0].geometry).toEqual(square(117, 39));
    await expect(createGridVersion(db, 'second', 'published', null)).rejects.toThrow();
  });

  it('keeps devices with hashed secrets and lists them by grid prefix', async () => {
    await insertDevices(db, [
      { id: 'gw-1', kind: 'gateway', location: [117, 39], grid: '120106001001001', secretHash: 'scrypt$x' },
      {
        id: 'smk-1',
        kind: 'smoke',
        gateway: 'gw-1',
        location: [117.001, 39.001],
        grid: '120106001001001',
        secretHash: null,
      },
      { id: 'smk-2', kind: 'smoke', location: [117.02, 39.001], grid: '120106002001001', secretHash: null },
    ]);
    expect((await getDevice(db, 'smk-1'))?.gateway).toBe('gw-1');
    expect((await listDevices(db, { gridPrefix: '120106001' })).map((d) => d.id)).toEqual(['gw-1', 'smk-1']);
    expect((await listDevices(db, { kind: 'smoke' })).map((d) => d.id)).toEqual(['smk-1', 'smk-2']);
  });

  it('stores a reading once however often it is delivered', async () => {
    const ins = `INSERT INTO readings (device_id, seq, ts, metrics) VALUES ('smk-1', 7, '2026-11-24T00:00:00Z', '{"t":1}') ON CONFLICT DO NOTHING`;
    await db.query(ins);
    await db.query(ins);
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE device_id = 'smk-1'`);
    expect(r.rows[0].n).toBe(1);
  });

  it('refuses updates and deletes of trail rows', async () => {
    await db.query(
      `INSERT INTO cases (id, code, state, priority, level, category, source, created_at, updated_at, doc)
       VALUES ('c1', 'HQ-20261124-0001', 'reported', 3, 'community', 'x', 'hotline', now(), now(), '{}')`,
    );
    await db.query(
      `INSERT INTO case_trail (case_id, seq, action, actor, role, at, prev_hash, hash) VALUES ('c1', 1, 'report', 'a', 'system', now(), '', 'h1')`,
    );
    await expect(db.query(`UPDATE case_trail SET note = 'changed'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM case_trail`)).rejects.toThrow(/append-only/);
  });
});
