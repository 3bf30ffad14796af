import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, type Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { sha256Hex } from '../auth/secrets.ts';
import { SqlOpen311Store, createKey, listKeys, newPublicId, revokeKey } from './store.ts';

let db: Db;
let store: SqlOpen311Store;

beforeAll(async () => {
  db = await openPglite(null);
  await migrate(db);
  store = new SqlOpen311Store(db);
});
afterAll(async () => {
  await db?.close();
});

describe('API keys', () => {
  it('has none at first: no key verifies', async () => {
    expect(await store.anyKey()).toBe(false);
    expect(await store.verifyKey('')).toBeNull();
    expect(await store.verifyKey('o311_whatever')).toBeNull();
  });

  it('creates a key shown once and stores only its hash', async () => {
    const { key, info } = await createKey(db, 'FixMyStreet', 'admin');
    expect(key).toMatch(/^o311_[A-Za-z0-9_-]{32}$/);
    expect(info).toMatchObject({ name: 'FixMyStreet', createdBy: 'admin', revokedAt: null });
    const raw = await db.query<{ key_hash: string }>(`SELECT key_hash FROM open311_keys WHERE id = $1`, [info.id]);
    expect(raw.rows[0].key_hash).toBe(sha256Hex(key));
    const dump = JSON.stringify((await db.query(`SELECT * FROM open311_keys`)).rows);
    expect(dump).not.toContain(key);
    expect(await store.anyKey()).toBe(true);
    expect(await store.verifyKey(key)).toBe(info.id);
    expect(await store.verifyKey(key + 'x')).toBeNull();
    const listed = (await listKeys(db)).find((k) => k.id === info.id)!;
    expect(listed.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(key);
  });

  it('revokes a key', async () => {
    const { key, info } = await createKey(db, 'temp', 'admin');
    expect(await revokeKey(db, info.id)).toBe(true);
    expect(await revokeKey(db, info.id)).toBe(false);
    expect(await store.verifyKey(key)).toBeNull();
  });
});

describe('requests and tokens', () => {
  it('saves a request once and finds it by token and by case id', async () => {
    const { info } = await createKey(db, 'k', null);
    await store.saveRequest({
      caseId: 'c1',
      code: 'HQ-20261124-0001',
      publicId: 'aaaaaaaaaaaaaaaaaaa1',
      token: 'tok-1',
      keyId: info.id,
      addressId: 'A-1',
      clientIp: '192.0.2.1',
      fingerprint: 'fp1',
      location: [117.2, 39.1],
    });
    await store.saveRequest({
      caseId: 'c1',
      code: 'HQ-20261124-0001',
      publicId: 'aaaaaaaaaaaaaaaaaaa2',
      token: 'tok-2',
      keyId: info.id,
      addressId: null,
    });
    expect(await store.byToken('tok-1')).toMatchObject({ caseId: 'c1', code: 'HQ-20261124-0001', addressId: 'A-1' });
    expect(await store.byToken('tok-2')).toBeNull();
    expect(await store.byToken('')).toBeNull();
    const m = await store.byCaseIds(['c1', 'c2']);
    expect([...m.keys()]).toEqual(['c1']);
    expect((await store.byCaseIds([])).size).toBe(0);
    expect(await store.byPublicId('aaaaaaaaaaaaaaaaaaa1')).toMatchObject({ caseId: 'c1', location: [117.2, 39.1] });
    expect(await store.byPublicId('HQ-20261124-0001')).toBeNull();
    expect(await store.byPublicId('aaaaaaaaaaaaaaaaaaa2')).toBeNull();
  });

  it('finds recent submissions of a fingerprint by key or by address', async () => {
    const since = Date.now() - 60_000;
    expect((await store.recentSimilar('fp1', 'other-key', '192.0.2.1', since)).map((r) => r.caseId)).toEqual(['c1']);
    const { info } = await createKey(db, 'k2', null);
    expect(await store.recentSimilar('fp1', info.id, '198.51.100.9', since)).toEqual([]);
    expect(await store.recentSimilar('fp2', 'other-key', '192.0.2.1', since)).toEqual([]);
    expect(await store.recentSimilar('fp1', 'other-key', '192.0.2.1', Date.now() + 60_000)).toEqual([]);
  });

  it('gives a case without a row one with a fresh public id, once', async () => {
    let n = 0;
    const fresh = () => ({ publicId: `bbbbbbbbbbbbbbbbbbb${++n}`, token: `t${n}` });
    const a = await store.ensureRows(
      [
        { id: 'c1', code: 'HQ-20261124-0001' },
        { id: 'c9', code: 'HQ-20261124-0009' },
      ],
      fresh,
    );
    expect(a.get('c1')!.publicId).toBe('aaaaaaaaaaaaaaaaaaa1');
    expect(a.get('c9')!.publicId).toBe('bbbbbbbbbbbbbbbbbbb1');
    const b = await store.ensureRows([{ id: 'c9', code: 'HQ-20261124-0009' }], fresh);
    expect(b.get('c9')!.publicId).toBe('bbbbbbbbbbbbbbbbbbb1');
    expect(n).toBe(1);
  });

  it('makes public ids of 80 random bits', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newPublicId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{20}$/);
  });
});
