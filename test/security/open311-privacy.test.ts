/**
 * Open311 leaks and floods (issue 11, finding 7), repeated from outside against the running platform:
 * anonymous GeoReport reads never show internal notes, contact data, typed phone numbers or exact
 * coordinates; request ids are not sequential and case codes do not resolve; identical posts fold and
 * floods get 429; a `media` upload is kept as evidence with a metadata-free public copy; the reporter's
 * contact reaches the case's handlers masked, and revealing it is audited (issue 13, "Citizen callback").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type Fixture } from './helpers.ts';

let f: Fixture;
let KEY = '';
let INSIDE: [number, number];
let GRID = '';
let OTHER_STREET = '';

const PHONE = '13912345678';
const TYPED_PHONE = '13800001111';
const EMAIL = 'zhang.secret@example.cn';
const FIRST = 'Zhangsecret';
const REASON = 'Reporter is a known troll, ignore (internal)';

function sampleGrids() {
  const fc = JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../../geo-data/sample/grids.geojson'), 'utf8'),
  ) as {
    features: {
      properties: { level: number; code: string; parent: string | null };
      geometry: { type: string; coordinates: number[][][] | number[][][][] };
    }[];
  };
  const g = fc.features.find((x) => x.properties.level === 4)!;
  const ring = (g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0]) as number[][];
  const pts = ring.slice(0, -1);
  INSIDE = [pts.reduce((s, c) => s + c[0], 0) / pts.length, pts.reduce((s, c) => s + c[1], 0) / pts.length];
  GRID = g.properties.code;
  OTHER_STREET = fc.features.find((x) => x.properties.level === 2 && !GRID.startsWith(x.properties.code))!.properties
    .code;
}

async function post(fields: Record<string, string>, fmt: 'json' | 'xml' = 'json') {
  const r = await fetch(`${f.p.url}/open311/v2/requests.${fmt}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: new URLSearchParams({
      api_key: KEY,
      service_code: 'city_appearance.exposed_garbage',
      lat: String(INSIDE[1]),
      long: String(INSIDE[0]),
      ...fields,
    }).toString(),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const idOf = (text: string) => (JSON.parse(text) as { service_request_id: string }[])[0].service_request_id;
const get = async (p: string) => {
  const r = await fetch(`${f.p.url}/open311/v2/${p}`, { headers: { 'accept-language': 'en' } });
  return { status: r.status, text: await r.text(), headers: r.headers };
};

/** The case behind a request (admin, by its unique description). */
async function caseOf(description: string): Promise<{ id: string; code: string; version: number }> {
  const r = await f.http('GET', `/api/cases?source=citizen&q=${encodeURIComponent(description)}`, f.admin);
  const found = (r.body.cases as { id: string; code: string; version: number; description: string }[]).filter(
    (c) => c.description === description,
  );
  expect(found).toHaveLength(1);
  return found[0];
}

beforeAll(async () => {
  sampleGrids();
  f = await startFixture({ OPEN311_RATE_ADDRESS: '40', OPEN311_RATE_KEY: '1000' });
  const k = await f.http('POST', '/api/open311/keys', f.admin, { name: 'privacy test' });
  expect(k.status).toBe(201);
  KEY = k.body.key;
}, 180_000);
afterAll(async () => {
  await f?.stop();
});

describe('anonymous reads', () => {
  const DESC = `Bin overflowing, ${FIRST} here, call me on ${TYPED_PHONE}`;
  let id = '';

  it('ids are random, case codes do not resolve', async () => {
    const r = await post({ description: DESC, first_name: FIRST, last_name: 'Sanfamily', phone: PHONE, email: EMAIL });
    expect(r.status, r.text).toBe(201);
    id = idOf(r.text);
    expect(id).toMatch(/^[0-9a-f]{20}$/);
    const c = await caseOf(DESC);
    expect((await get(`requests/${id}.json`)).status).toBe(200);
    for (const p of [
      `requests/${c.code}.json`,
      `requests/${c.id}.json`,
      `requests.json?service_request_id=${c.code}`,
    ]) {
      const g = await get(p);
      if (g.status === 200) expect(JSON.parse(g.text)).toEqual([]);
      else expect(g.status).toBe(404);
    }
    // the previous and next codes are not found by counting either
    const n = Number(c.code.slice(-4));
    for (const k of [n - 1, n + 1]) {
      const code = `${c.code.slice(0, -4)}${String(k).padStart(4, '0')}`;
      expect((await get(`requests/${code}.json`)).status).toBe(404);
    }
  });

  it('shows no contact data, masks typed phone numbers and the name, coarsens coordinates (JSON, XML, list, detail)', async () => {
    for (const p of [`requests/${id}.json`, `requests/${id}.xml`, 'requests.json', 'requests.xml']) {
      const g = await get(p);
      expect(g.status, p).toBe(200);
      for (const s of [PHONE, TYPED_PHONE, EMAIL, FIRST, 'Sanfamily']) expect(g.text, `${p}: ${s}`).not.toContain(s);
    }
    const [req] = JSON.parse((await get(`requests/${id}.json`)).text);
    expect(req.description).toContain('138****1111');
    expect(req.lat).toBe(Math.round(INSIDE[1] * 1000) / 1000);
    expect(req.long).toBe(Math.round(INSIDE[0] * 1000) / 1000);
    expect(req.lat).not.toBe(INSIDE[1]);
  });

  it("never shows a handler's internal reason; a note marked public is shown", async () => {
    const desc = 'Something odd at the gate';
    const r = await post({ description: desc });
    const rid = idOf(r.text);
    const c = await caseOf(desc);
    const a = await f.http('POST', `/api/cases/${c.id}/actions`, f.admin, {
      action: 'reject',
      reason: REASON,
      version: c.version,
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    for (const p of [`requests/${rid}.json`, `requests/${rid}.xml`, 'requests.json?status=closed']) {
      const g = await get(p);
      expect(g.text).not.toContain('troll');
    }
    expect(JSON.parse((await get(`requests/${rid}.json`)).text)[0].status_notes).toBe('Not accepted.');
    const c2 = await caseOf(desc);
    const cm = await f.http('POST', `/api/cases/${c2.id}/actions`, f.admin, {
      action: 'comment',
      note: 'This is private land; the owner has been told.',
      notePublic: true,
      version: c2.version,
    });
    expect(cm.status, JSON.stringify(cm.body)).toBe(200);
    expect(JSON.parse((await get(`requests/${rid}.json`)).text)[0].status_notes).toBe(
      'Not accepted. Note: This is private land; the owner has been told.',
    );
    const bad = await f.http('POST', `/api/cases/${c2.id}/actions`, f.admin, {
      action: 'comment',
      note: 'x',
      notePublic: 'yes',
      version: c2.version + 1,
    });
    expect(bad.status).toBe(400);
  });
});

describe('media upload', () => {
  it('keeps the photo as case evidence and serves a copy without EXIF/GPS at media_url', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c33' } })
      .jpeg()
      .withExif({
        IFD0: { Model: 'SecretCam 9' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '39/1 7/1 1234/100',
          GPSLongitudeRef: 'E',
          GPSLongitude: '117/1 12/1 0/1',
        },
      })
      .toBuffer();
    const fd = new FormData();
    const desc = 'Photo of the overflowing bin';
    for (const [k, v] of Object.entries({
      api_key: KEY,
      service_code: 'city_appearance.exposed_garbage',
      lat: String(INSIDE[1]),
      long: String(INSIDE[0]),
      description: desc,
    }))
      fd.append(k, v);
    fd.append('media', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'bin.jpg');
    const r = await fetch(`${f.p.url}/open311/v2/requests.json`, { method: 'POST', body: fd });
    const text = await r.text();
    expect(r.status, text).toBe(201);
    const rid = idOf(text);
    const [req] = JSON.parse((await get(`requests/${rid}.json`)).text);
    expect(req.media_url).toMatch(new RegExp(`/open311/v2/media/${rid}\\.jpg$`));
    const m = await fetch(req.media_url.replace(/^https?:\/\/[^/]+/, f.p.url));
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toBe('image/jpeg');
    const pub = Buffer.from(await m.arrayBuffer());
    expect((await sharp(pub).metadata()).exif).toBeUndefined();
    expect(pub.includes(Buffer.from('SecretCam'))).toBe(false);
    // the handlers have the original
    const c = await caseOf(desc);
    const ev = await f.http('GET', `/api/cases/${c.id}/evidence`, f.admin);
    expect(ev.status).toBe(200);
    const original = (ev.body.evidence as { kind: string; url: string }[]).find((e) => e.kind === 'citizen_media')!;
    const o = await fetch(f.p.url + original.url, { headers: { authorization: `Bearer ${f.admin}` } });
    expect(Buffer.from(await o.arrayBuffer()).equals(jpeg)).toBe(true);
    // not an image: refused clearly, no case
    const fd2 = new FormData();
    for (const [k, v] of fd.entries())
      if (typeof v === 'string') fd2.append(k, k === 'description' ? 'not a photo' : v);
    fd2.append('media', new Blob(['<svg onload=alert(1)>'], { type: 'image/jpeg' }), 'x.jpg');
    const bad = await fetch(`${f.p.url}/open311/v2/requests.json`, { method: 'POST', body: fd2 });
    expect(bad.status).toBe(415);
    expect((await bad.json())[0]).toMatchObject({ code: 415 });
    const none = await f.http('GET', `/api/cases?source=citizen&q=${encodeURIComponent('not a photo')}`, f.admin);
    expect(none.body.cases).toEqual([]);
  });
});

describe('reporter contact for handlers', () => {
  const DESC = 'Please call me back about the bin';
  let caseId = '';

  it('is masked for the case handlers, and a reveal is audited', async () => {
    expect((await post({ description: DESC, first_name: FIRST, phone: PHONE, email: EMAIL })).status).toBe(201);
    caseId = (await caseOf(DESC)).id;
    const m = await f.http('GET', `/api/cases/${caseId}/contact`, f.admin);
    expect(m.status).toBe(200);
    expect(m.body).toEqual({
      contact: { name: 'Z**********', phone: '139****5678', email: 'z***@example.cn' },
      masked: true,
    });
    const before = await f.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE kind = 'contact_revealed'`);
    const r = await f.http('POST', `/api/cases/${caseId}/contact/reveal`, f.admin);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ contact: { name: FIRST, phone: PHONE, email: EMAIL }, masked: false });
    const after = await f.db.query<{ actor: string; target: string }>(
      `SELECT actor, target FROM audit_log WHERE kind = 'contact_revealed' ORDER BY seq`,
    );
    expect(after.rows.length).toBe((before.rows[0] as { n: number }).n + 1);
    expect(after.rows.at(-1)).toMatchObject({ actor: 'admin', target: caseId });
  });

  it('is not for users outside the case scope, nor for viewers, nor anonymous', async () => {
    const outside = await f.user({ username: 'o311_outside', role: 'dispatcher', scopeGrid: OTHER_STREET });
    const viewer = await f.user({ username: 'o311_viewer', role: 'viewer', scopeGrid: GRID.slice(0, 9) });
    const inside = await f.user({ username: 'o311_inside', role: 'dispatcher', scopeGrid: GRID.slice(0, 9) });
    expect((await f.http('GET', `/api/cases/${caseId}/contact`, outside)).status).toBe(404);
    expect((await f.http('POST', `/api/cases/${caseId}/contact/reveal`, outside)).status).toBe(404);
    expect((await f.http('GET', `/api/cases/${caseId}/contact`, viewer)).status).toBe(403);
    expect((await f.http('POST', `/api/cases/${caseId}/contact/reveal`, viewer)).status).toBe(403);
    expect((await f.http('GET', `/api/cases/${caseId}/contact`, null)).status).toBe(401);
    expect((await f.http('GET', `/api/cases/${caseId}/contact`, inside)).body.contact.phone).toBe('139****5678');
  });

  it('records the creation of an Open311 key in the audit log', async () => {
    const r = await f.db.query<{ actor: string }>(`SELECT actor FROM audit_log WHERE kind = 'open311_key_created'`);
    expect(r.rows.map((x) => x.actor)).toContain('admin');
  });
});

describe('floods', () => {
  it('150 identical posts at once make one case; past the address limit 429 with Retry-After', async () => {
    const desc = 'Flood test: identical report';
    const answers = await Promise.all(Array.from({ length: 150 }, () => post({ description: desc })));
    const ok = answers.filter((a) => a.status === 201);
    const limited = answers.filter((a) => a.status === 429);
    expect(ok.length + limited.length).toBe(150);
    expect(ok.length).toBeGreaterThan(0);
    expect(limited.length).toBeGreaterThan(0);
    expect(new Set(ok.map((a) => idOf(a.text))).size).toBe(1);
    await caseOf(desc); // exactly one case
    const l = limited[0];
    expect(Number(l.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = JSON.parse(l.text);
    expect(body).toEqual([{ code: 429, description: expect.stringMatching(/Too many requests/) }]);
  });
});
