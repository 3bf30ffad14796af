/**
 * Photos from the grid worker's app are stored once, in the evidence store the case drawer reads (migration
 * 012): a completed upload's original and public copy are case_evidence rows of no case; attaching gives them
 * the case (no copy); only a second case gets its own copy. A database where 013 ran before 012 existed has
 * its photos' bytes moved into the evidence store by 012 (run again here: it is idempotent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { openPglite, type Db } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { completeUpload, initUpload, putChunk } from '../../ingest/field/uploads.ts';
import { attachPhotos } from '../../ingest/field/actions.ts';
import type { Actor } from '../../core/cases/types.ts';

let db: Db;
const actor = { id: 'ps-worker', role: 'gridworker', scope: { grid: null, department: null } } as unknown as Actor;

async function caseRow(id: string): Promise<void> {
  await db.query(
    `INSERT INTO cases (id, code, state, priority, level, category, source, created_at, updated_at, doc)
     VALUES ($1, $1, 'reported', 3, 'community', 'x', 'patrol', now(), now(), '{}'::jsonb)`,
    [id],
  );
}

async function upload(seed: number): Promise<string> {
  const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: seed, g: 9, b: 99 } } })
    .jpeg()
    .toBuffer();
  const id = randomUUID();
  await initUpload(db, actor.id, id, bytes.length);
  await putChunk(db, actor.id, id, 0, bytes);
  return (await completeUpload(db, actor.id, id)).sha256;
}

const count = async (sql: string, params: unknown[] = []) =>
  Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params)).rows[0].n);

beforeAll(async () => {
  db = await openPglite(null);
  await migrate(db);
});
afterAll(async () => {
  await db?.close();
});

describe('field photos stored once, in the evidence store', () => {
  it('an upload is two evidence rows of no case; attaching gives them the case without a copy', async () => {
    const sha = await upload(1);
    expect(await count(`case_evidence WHERE case_id IS NULL`)).toBe(2);
    expect(await count(`field_photos WHERE sha256 = $1 AND bytes IS NULL AND public_jpeg IS NULL`, [sha])).toBe(1);
    // The same bytes again (a retried upload under a new id): nothing more is stored.
    await upload(1);
    expect(await count(`case_evidence`)).toBe(2);

    await caseRow('C-ONE');
    const [a] = await attachPhotos(db, 'C-ONE', [sha], 'photo', actor);
    expect(await count(`case_evidence`)).toBe(2);
    expect(await count(`case_evidence WHERE case_id = 'C-ONE'`)).toBe(2);
    expect(a.evidence).toMatch(/^\/api\/cases\/C-ONE\/evidence\/\d+$/);
    // Attached again to the same case: the same rows.
    const [again] = await attachPhotos(db, 'C-ONE', [sha], 'photo', actor);
    expect(again.evidence).toBe(a.evidence);
    // A second case gets its own copy (each case's evidence is its own).
    await caseRow('C-TWO');
    const [b] = await attachPhotos(db, 'C-TWO', [sha], 'photo', actor);
    expect(b.evidence).not.toBe(a.evidence);
    expect(await count(`case_evidence WHERE case_id = 'C-TWO'`)).toBe(2);
  });

  it('only the uploader attaches its photo', async () => {
    const sha = await upload(2);
    await caseRow('C-THREE');
    await expect(attachPhotos(db, 'C-THREE', [sha], 'photo', { ...actor, id: 'someone-else' })).rejects.toThrow(
      /no photo/,
    );
  });

  it('migration 012 moves photos stored the old way (bytes in field_photos) into the evidence store', async () => {
    await db.query(
      `INSERT INTO field_photos (sha256, mime, size, bytes, public_jpeg, uploaded_by)
       VALUES ('old1', 'image/jpeg', 3, '\\x010203'::bytea, '\\x0405'::bytea, $1)`,
      [actor.id],
    );
    await db.exec(readFileSync('ingest/store/migrations/012_field_photos_once.sql', 'utf8'));
    const r = await db.query<{ evidence_id: string; bytes: unknown }>(
      `SELECT evidence_id, bytes FROM field_photos WHERE sha256 = 'old1'`,
    );
    expect(r.rows[0].evidence_id).not.toBeNull();
    expect(r.rows[0].bytes).toBeNull();
    const ev = await db.query<{ kind: string; case_id: string | null; bytes: Uint8Array }>(
      `SELECT kind, case_id, bytes FROM case_evidence WHERE id = $1`,
      [r.rows[0].evidence_id],
    );
    expect(ev.rows[0].kind).toBe('photo');
    expect(ev.rows[0].case_id).toBeNull();
    expect([...ev.rows[0].bytes]).toEqual([1, 2, 3]);
    await caseRow('C-OLD');
    await attachPhotos(db, 'C-OLD', ['old1'], 'photo', actor);
    expect(await count(`case_evidence WHERE case_id = 'C-OLD'`)).toBe(2);
  });

  it('migration 012 after 013 (a database made before 012 existed): reshaped, bytes moved', async () => {
    const old = await openPglite(null);
    try {
      const dir = 'ingest/store/migrations';
      for (const f of readdirSync(dir)
        .filter((f) => /^\d{3}_.+\.sql$/.test(f) && !f.includes('.timescale.') && !f.startsWith('012_'))
        .sort())
        await old.exec(readFileSync(`${dir}/${f}`, 'utf8'));
      await old.query(
        `INSERT INTO field_photos (sha256, mime, size, bytes, public_jpeg, uploaded_by)
         VALUES ('old2', 'image/jpeg', 2, '\\x0102'::bytea, '\\x03'::bytea, 'w')`,
      );
      await old.exec(readFileSync(`${dir}/012_field_photos_once.sql`, 'utf8'));
      const r = await old.query<{ evidence_id: string | null; public_evidence_id: string | null; bytes: unknown }>(
        `SELECT evidence_id, public_evidence_id, bytes FROM field_photos WHERE sha256 = 'old2'`,
      );
      expect(r.rows[0].evidence_id).not.toBeNull();
      expect(r.rows[0].public_evidence_id).not.toBeNull();
      expect(r.rows[0].bytes).toBeNull();
    } finally {
      await old.close();
    }
  });
});
