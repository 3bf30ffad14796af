/**
 * The grid studio API on a running platform (`onegrid start`, built web app): /api/grids/drafts… with
 * roles, the error envelope, the revision check (409), undo, history, diff, re-code preview, an upload
 * refused as the field case says (04: metres without a .prj) and one accepted (01: GBK via the DBF code
 * page), self-approval refused, and the OpenAPI document listing the routes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';

const GEO = resolve(import.meta.dirname, '../../../shared/field-cases/geo');
let p: PlatformHandle;
let auth: Record<string, string>;

beforeAll(async () => {
  p = await startPlatformProcess();
  auth = { authorization: `Bearer ${await p.login()}` };
}, 120_000);
afterAll(async () => {
  await p?.stop();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const r = await fetch(`${p.url}${path}`, {
    method,
    headers: {
      ...headers,
      ...(body === undefined
        ? {}
        : { 'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json' }),
    },
    body: body === undefined ? undefined : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

describe('/api/grids/drafts', () => {
  it('needs a session', async () => {
    const r = await call('GET', '/api/grids/drafts', undefined, {});
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
  });

  it('a draft from the published set: edit, stale revision 409, undo, history, diff, re-code preview', async () => {
    const c = await call('POST', '/api/grids/drafts', { from: 'published', label: 'API draft' });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    const id = c.body.draft.id;
    const got = await call('GET', `/api/grids/drafts/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.grids.features.length).toBe(1126);
    expect(got.body.report.ok).toBe(true);
    const rev = got.body.draft.rev;
    const edit = await call('POST', `/api/grids/drafts/${id}/changes`, {
      rev,
      summary: 'rename',
      ops: [{ op: 'update', code: '120106001001001', after: { name: '景福一格' } }],
    });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    expect(edit.body.draft.rev).toBe(rev + 1);
    const stale = await call('POST', `/api/grids/drafts/${id}/changes`, {
      rev,
      ops: [{ op: 'delete', code: '120106001001002' }],
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    const diff = await call('GET', `/api/grids/drafts/${id}/diff`);
    expect(diff.body.changed).toEqual([expect.objectContaining({ code: '120106001001001', fields: ['name'] })]);
    const undo = await call('POST', `/api/grids/drafts/${id}/undo`, { rev: rev + 1 });
    expect(undo.status).toBe(200);
    expect(undo.body.draft).toMatchObject({ head: 0, redoable: 1 });
    const history = await call('GET', `/api/grids/drafts/${id}/history`);
    expect(history.body.history.map((h: { kind: string; actor: string }) => `${h.kind}:${h.actor}`)).toEqual([
      'created:admin',
      'edit:admin',
      'undo:admin',
    ]);
    const recode = await call('POST', `/api/grids/drafts/${id}/recode`, { community: '120106001001' });
    expect(recode.status).toBe(200);
    expect(Array.isArray(recode.body.map)).toBe(true);
    const bad = await call('POST', `/api/grids/drafts/${id}/changes`, {
      rev: rev + 2,
      ops: [{ op: 'create', after: { code: '12' } }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_code');
    // Nobody approves their own draft.
    const sub = await call('POST', `/api/grids/drafts/${id}/submit`, { rev: rev + 2 });
    expect(sub.status).toBe(200);
    const own = await call('POST', `/api/grids/drafts/${id}/approve`, { rev: sub.body.draft.rev });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/another analyst or an admin/);
  });

  it('uploads: metres without a .prj refused saying how to fix it; GBK names read from the DBF code page', async () => {
    const r04 = await call(
      'POST',
      '/api/grids/drafts',
      new Uint8Array(readFileSync(resolve(GEO, '04_gk_epsg4548_no_prj.zip'))),
    );
    expect(r04.status).toBe(400);
    expect(r04.body.error.message).toMatch(/not degrees.*--crs EPSG/);
    const r01 = await call(
      'POST',
      '/api/grids/drafts?label=gbk',
      new Uint8Array(readFileSync(resolve(GEO, '01_gbk_ldid_no_cpg.zip'))),
    );
    expect(r01.status, JSON.stringify(r01.body)).toBe(201);
    expect(r01.body.source.encoding).toBe('gbk');
    const d = await call('GET', `/api/grids/drafts/${r01.body.draft.id}`);
    expect(d.body.grids.features.map((f: { properties: { name: string } }) => f.properties.name)).toContain(
      '景福新村社区第1网格',
    );
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await call('GET', '/api/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/grids/drafts', '/api/grids/drafts/{id}', '/api/grids/drafts/{id}/{action}']),
    );
  });
});
