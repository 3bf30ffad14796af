/**
 * Security audit log (ingest/auth/audit.ts): append-only in the database, hash-chained, filters and keyset
 * pages, retention never below 180 days. Run on PGlite and a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, openPostgres, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { listAudit, pruneAudit, recordAudit, verifyAudit } from '../../ingest/auth/audit.ts';
import { startPostgres, createDatabase, type PostgresHandle } from '../harness/postgres.ts';

let pg: PostgresHandle;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

const drivers: [string, () => Promise<Db>][] = [
  ['PGlite', () => openPglite(null)],
  ['PostgreSQL', async () => openPostgres(createDatabase(pg, `audit_${Date.now()}_${process.pid}`))],
];

describe.each(drivers)('audit log on %s', (_name, open) => {
  let db: Db;
  beforeAll(async () => {
    db = await open();
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('chains entries, concurrent appends included, and verifies', async () => {
    await recordAudit(db, { kind: 'login', actor: 'alice', ip: '127.0.0.1' });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordAudit(db, { kind: i % 2 ? 'login_failed' : 'logout', actor: i % 3 ? 'bob' : 'alice', detail: { i } }),
      ),
    );
    // Inside a caller's transaction too, and hostile strings do not break the write.
    await db.tx((t) =>
      recordAudit(t, { kind: 'user_created', actor: 'admin', target: 'x\u0000y', detail: { note: 'a\u0000' } }),
    );
    const v = await verifyAudit(db);
    expect(v).toEqual({ verified: true, brokenAt: null, count: 22 });
  });

  it('filters by actor and kind, pages by keyset without gaps or repeats', async () => {
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const p = await listAudit(db, { limit: 4, before });
      seen.push(...p.items.map((e) => e.seq));
      if (p.next === null) break;
      before = p.next;
    }
    expect(seen).toEqual(Array.from({ length: 22 }, (_, i) => 21 - i));
    const bob = await listAudit(db, { actor: 'bob', kind: 'login_failed', limit: 100 });
    expect(bob.items.length).toBeGreaterThan(0);
    expect(bob.items.every((e) => e.actor === 'bob' && e.kind === 'login_failed')).toBe(true);
    const future = await listAudit(db, { from: new Date(Date.now() + 60_000), limit: 10 });
    expect(future.items).toEqual([]);
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(db.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 0`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_log WHERE seq = 0`)).rejects.toThrow(/append-only/);
    await expect(db.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    // Even a declared prune may not remove a row younger than 180 days.
    await expect(
      db.tx(async (t) => {
        await t.query(`SELECT set_config('onegrid.audit_prune', 'on', true)`);
        await t.query(`DELETE FROM audit_log WHERE seq = 0`);
      }),
    ).rejects.toThrow(/append-only/);
  });

  it('prunes only past the retention (min 180 days) and the chain still verifies', async () => {
    // Nothing is older than 180 days: a 1-day retention is raised to 180 and removes nothing.
    expect(await pruneAudit(db, 1)).toBe(0);
    // From a clock 200 days ahead every entry is past 180 days; the trigger compares with the database's
    // now(), so only what is really older goes: still nothing.
    await expect(pruneAudit(db, 180, new Date(Date.now() + 200 * 86_400_000))).rejects.toThrow(/append-only/);
    expect((await verifyAudit(db)).verified).toBe(true);
  });

  it('detects a tampered entry', async () => {
    // Tamper as a superuser would: drop the trigger, change a row, restore it.
    await db.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await db.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`);
    await db.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    expect(await verifyAudit(db)).toMatchObject({ verified: false, brokenAt: 3 });
  });

  it('a retention prune removes only entries past AUDIT_RETENTION_DAYS and the shortened chain verifies', async () => {
    const d = await open();
    await migrate(d);
    const day = 86_400_000;
    for (let i = 0; i < 3; i++)
      await recordAudit(d, { kind: 'login', actor: 'old' }, new Date(Date.now() - (300 - i) * day));
    await recordAudit(d, { kind: 'login', actor: 'mid' }, new Date(Date.now() - 200 * day));
    await recordAudit(d, { kind: 'login', actor: 'new' });
    // 365 days kept: the oldest entries are 298-300 days old, so nothing goes.
    expect(await pruneAudit(d, 365)).toBe(0);
    // 250 days: the three oldest go, the 200-day-old one stays.
    expect(await pruneAudit(d, 250)).toBe(3);
    const left = (await listAudit(d, { limit: 10 })).items;
    expect(left.map((e) => e.actor)).toEqual([null, 'new', 'mid']);
    expect(left[0]).toMatchObject({ kind: 'audit_pruned', detail: { throughSeq: 2 } });
    expect(await verifyAudit(d)).toMatchObject({ verified: true });
    // 100 days asked: raised to the 180-day floor, so the 200-day-old entry goes but nothing younger.
    expect(await pruneAudit(d, 100)).toBe(1);
    expect((await listAudit(d, { actor: 'new', limit: 10 })).items).toHaveLength(1);
    expect(await verifyAudit(d)).toMatchObject({ verified: true });
    // Removing the oldest kept entry by hand (as a superuser) is detected: its anchor no longer matches.
    await d.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await d.query(`DELETE FROM audit_log WHERE seq = (SELECT min(seq) FROM audit_log)`);
    await d.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    expect((await verifyAudit(d)).verified).toBe(false);
    await d.close();
  });
});
