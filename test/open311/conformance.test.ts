/**
 * Open311 GeoReport v2 conformance, against the real platform process (node bin/onegrid.js start), written
 * from the specification (http://wiki.open311.org/GeoReport_v2 and /Service_Discovery): every method in
 * JSON and XML, the spec's element names and nesting, form-encoded POST with attribute[code] values, the
 * GET requests filters, tokens, and the error responses (403 key, 404 unknown, 400 otherwise).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';

const SPEC = 'http://wiki.open311.org/GeoReport_v2';
const JSON_TYPE = 'application/json; charset=utf-8';
const XML_TYPE = 'text/xml; charset=utf-8';
const REQUEST_FIELDS = [
  'service_request_id',
  'status',
  'status_notes',
  'service_name',
  'service_code',
  'description',
  'agency_responsible',
  'service_notice',
  'requested_datetime',
  'updated_datetime',
  'expected_datetime',
  'address',
  'address_id',
  'zipcode',
  'lat',
  'long',
  'media_url',
].sort();
const SERVICE_FIELDS = ['service_code', 'service_name', 'description', 'metadata', 'type', 'keywords', 'group'].sort();
const W3C = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LISTS = ['service', 'request', 'error', 'attribute', 'value', 'endpoint', 'format'];

// A conformant XML reader: numeric character references decoded, lists always arrays, text as text.
const xmlParser = new XMLParser({ parseTagValue: false, htmlEntities: true, isArray: (n) => LISTS.includes(n) });

let p: PlatformHandle;
let admin: string;
let KEY = '';
let KEY_ID = '';
/** A point inside a base grid of the sample district: [lng, lat]. */
let INSIDE: [number, number];

const XML_DESCRIPTION = 'Two cars on the pavement (posted as XML)';
const NASTY = 'Rubbish <script>alert("x")</script> & more ]]> — 垃圾 & “quotes”\nline 2';
const SECRET = {
  email: 'zhang.secret@example.cn',
  first_name: 'Zhangsecret',
  last_name: 'Sanfamily',
  phone: '13912345678',
};

function sampleInside(): [number, number] {
  const fc = JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../../geo-data/sample/grids.geojson'), 'utf8'),
  ) as {
    features: {
      properties: { level: number };
      geometry: { type: string; coordinates: number[][][] | number[][][][] };
    }[];
  };
  const g = fc.features.find((f) => f.properties.level === 4)!;
  const ring = (g.geometry.type === 'Polygon' ? g.geometry.coordinates[0] : g.geometry.coordinates[0][0]) as number[][];
  const pts = ring.slice(0, -1);
  return [pts.reduce((s, c) => s + c[0], 0) / pts.length, pts.reduce((s, c) => s + c[1], 0) / pts.length];
}

const url = (p2: string) => `${p.url}/open311/v2/${p2}`;

async function getJson(p2: string, headers: Record<string, string> = {}) {
  const r = await fetch(url(p2), { headers: { 'accept-language': 'en', ...headers } });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), headers: r.headers, text, body: JSON.parse(text) };
}

async function getXml(p2: string, headers: Record<string, string> = {}) {
  const r = await fetch(url(p2), { headers: { 'accept-language': 'en', ...headers } });
  const text = await r.text();
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    headers: r.headers,
    text,
    doc: xmlParser.parse(text),
  };
}

/** POST form-encoded exactly as the spec's example (no Origin header: a server-side client). */
function postForm(fmt: 'json' | 'xml', fields: [string, string][] | Record<string, string>) {
  const body = new URLSearchParams(Array.isArray(fields) ? fields : Object.entries(fields));
  return fetch(url(`requests.${fmt}`), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'accept-language': 'en' },
    body: body.toString(),
  });
}

function loc(): Record<string, string> {
  return { lat: String(INSIDE[1]), long: String(INSIDE[0]) };
}

/**
 * The case behind a request, found by its (unique) description: the public service_request_id is not the
 * case's id or code, and nothing public maps one to the other.
 */
async function caseIdOf(description: string): Promise<string> {
  const r = await fetch(`${p.url}/api/cases?source=citizen&q=${encodeURIComponent(description)}`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  expect(r.status, await r.clone().text()).toBe(200);
  const { cases } = (await r.json()) as { cases: { id: string; description: string }[] };
  const found = cases.filter((c) => c.description === description);
  expect(found).toHaveLength(1);
  return found[0].id;
}

async function caseAction(description: string, action: Record<string, unknown>) {
  const code = await caseIdOf(description);
  const c = await fetch(`${p.url}/api/cases/${code}`, { headers: { authorization: `Bearer ${admin}` } });
  expect(c.status, await c.clone().text()).toBe(200);
  const { version } = (await c.json()) as { version: number };
  const r = await fetch(`${p.url}/api/cases/${code}/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...action, version }),
  });
  expect(r.status, await r.clone().text()).toBe(200);
}

function expectErrorsJson(body: unknown, status: number, match?: RegExp) {
  expect(Array.isArray(body)).toBe(true);
  const list = body as { code: unknown; description: unknown }[];
  expect(list.length).toBeGreaterThan(0);
  for (const e of list) {
    expect(Object.keys(e).sort()).toEqual(['code', 'description']);
    expect(e.code).toBe(status);
    expect(typeof e.description).toBe('string');
  }
  if (match) expect(list.map((e) => e.description).join(' ')).toMatch(match);
}

function expectErrorsXml(doc: Record<string, unknown>, status: number) {
  expect(Object.keys(doc).filter((k) => k !== '?xml')).toEqual(['errors']);
  const errors = (doc.errors as { error: { code: string; description: string }[] }).error;
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(Object.keys(e).sort()).toEqual(['code', 'description']);
    expect(e.code).toBe(String(status));
  }
}

beforeAll(async () => {
  INSIDE = sampleInside();
  p = await startPlatformProcess({});
  admin = await p.login();
});
afterAll(async () => {
  await p?.stop();
});
// On a failure, show what the platform logged (warnings and errors).
beforeEach(({ onTestFailed }) => onTestFailed(() => console.log(p?.output().slice(-4000))));

describe('bootstrap: no key until an administrator creates one', () => {
  it('refuses every POST while no key exists, saying how to get one', async () => {
    const r = await postForm('json', { service_code: 'city_appearance.exposed_garbage', ...loc() });
    expect(r.status).toBe(403);
    expectErrorsJson(await r.json(), 403, /POST \/api\/open311\/keys/);
  });

  it('creates keys only for a signed-in admin, shows the key once, lists without it', async () => {
    const anon = await fetch(`${p.url}/api/open311/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    expect(anon.status).toBe(401);
    const bad = await fetch(`${p.url}/api/open311/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({}),
    });
    expect(bad.status).toBe(400);
    const r = await fetch(`${p.url}/api/open311/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'conformance suite' }),
    });
    expect(r.status).toBe(201);
    const created = (await r.json()) as { id: string; key: string; name: string };
    expect(created.name).toBe('conformance suite');
    expect(created.key).toMatch(/^o311_/);
    KEY = created.key;
    KEY_ID = created.id;
    const list = await fetch(`${p.url}/api/open311/keys`, { headers: { authorization: `Bearer ${admin}` } });
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(text).toContain(KEY_ID);
    expect(text).not.toContain(KEY);
  });
});

describe('service discovery', () => {
  it('JSON: changeset, contact, key_service, endpoints with the GeoReport v2 specification', async () => {
    for (const at of [url('discovery.json'), `${p.url}/open311/discovery.json`]) {
      const r = await fetch(at);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(JSON_TYPE);
      const d = (await r.json()) as Record<string, unknown>;
      expect(Object.keys(d).sort()).toEqual(['changeset', 'contact', 'endpoints', 'key_service']);
      const [e] = d.endpoints as Record<string, unknown>[];
      expect(e).toEqual({
        specification: SPEC,
        url: `${p.url}/open311/v2`,
        changeset: expect.any(String),
        type: 'production',
        formats: ['text/xml', 'application/json'],
      });
    }
  });

  it('XML: the same under <discovery>, formats as <format> elements', async () => {
    const r = await getXml('discovery.xml');
    expect(r.status).toBe(200);
    expect(r.type).toBe(XML_TYPE);
    expect(r.text.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    const d = r.doc.discovery;
    expect(Object.keys(d).sort()).toEqual(['changeset', 'contact', 'endpoints', 'key_service']);
    const [e] = d.endpoints.endpoint;
    expect(e.specification).toBe(SPEC);
    expect(e.type).toBe('production');
    expect(e.formats.format).toEqual(['text/xml', 'application/json']);
  });
});

describe('GET services', () => {
  it('JSON: a list of services with the spec fields', async () => {
    const r = await getJson('services.json');
    expect(r.status).toBe(200);
    expect(r.type).toBe(JSON_TYPE);
    expect(r.body.length).toBeGreaterThan(20);
    for (const s of r.body) {
      expect(Object.keys(s).sort()).toEqual(SERVICE_FIELDS);
      expect(typeof s.metadata).toBe('boolean');
      expect(['realtime', 'batch', 'blackbox']).toContain(s.type);
    }
    expect(r.body.find((s: { service_code: string }) => s.service_code === 'city_appearance.graffiti')).toMatchObject({
      service_name: 'Graffiti',
      metadata: true,
      group: 'City appearance',
    });
  });

  it('XML: <services><service>… with the same content', async () => {
    const j = await getJson('services.json');
    const r = await getXml('services.xml');
    expect(r.type).toBe(XML_TYPE);
    const list = r.doc.services.service as Record<string, string>[];
    expect(list).toHaveLength(j.body.length);
    for (const s of list) expect(Object.keys(s).sort()).toEqual(SERVICE_FIELDS);
    expect(list.map((s) => s.service_code)).toEqual(j.body.map((s: { service_code: string }) => s.service_code));
    expect(list.find((s) => s.service_code === 'city_appearance.graffiti')!.metadata).toBe('true');
  });

  it('speaks Chinese by default', async () => {
    const r = await fetch(url('services.json'));
    const list = (await r.json()) as { service_code: string; service_name: string }[];
    expect(list.find((s) => s.service_code === 'city_appearance.graffiti')!.service_name).toBe('乱涂乱画');
  });

  it('accepts the district as jurisdiction_id; an unknown one is 404 in the errors format', async () => {
    expect((await getJson('services.json?jurisdiction_id=120106')).status).toBe(200);
    const j = await getJson('services.json?jurisdiction_id=sfgov.org');
    expect(j.status).toBe(404);
    expectErrorsJson(j.body, 404, /jurisdiction_id/);
    const x = await getXml('services.xml?jurisdiction_id=sfgov.org');
    expect(x.status).toBe(404);
    expectErrorsXml(x.doc, 404);
  });
});

describe('GET service definition', () => {
  it('JSON: service_code and attributes with the spec fields; values for lists', async () => {
    const r = await getJson('services/facility_fault.streetlight_fault.json');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(['attributes', 'service_code']);
    expect(r.body.service_code).toBe('facility_fault.streetlight_fault');
    for (const a of r.body.attributes) {
      expect(
        Object.keys(a)
          .filter((k) => k !== 'values')
          .sort(),
      ).toEqual(['code', 'datatype', 'datatype_description', 'description', 'order', 'required', 'variable'].sort());
      expect(['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist']).toContain(a.datatype);
    }
    const kind = r.body.attributes.find((a: { code: string }) => a.code === 'fault_kind');
    expect(kind).toMatchObject({ datatype: 'multivaluelist', required: true, variable: true, order: 1 });
    expect(kind.values.map((v: { key: string }) => v.key)).toContain('off');
    for (const v of kind.values) expect(Object.keys(v).sort()).toEqual(['key', 'name']);
  });

  it('XML: <service_definition><attributes><attribute>…<values><value><key/><name/>', async () => {
    const r = await getXml('services/city_appearance.graffiti.xml');
    expect(r.status).toBe(200);
    const d = r.doc.service_definition;
    expect(d.service_code).toBe('city_appearance.graffiti');
    const [a] = d.attributes.attribute;
    expect(a).toMatchObject({
      variable: 'true',
      code: 'surface',
      datatype: 'singlevaluelist',
      required: 'true',
      order: '1',
    });
    expect(a.values.value.map((v: { key: string }) => v.key)).toEqual(['wall', 'pavement', 'pole', 'other']);
  });

  it('a service without attributes has an empty list', async () => {
    const j = await getJson('services/city_appearance.exposed_garbage.json');
    expect(j.body).toEqual({ service_code: 'city_appearance.exposed_garbage', attributes: [] });
    const x = await getXml('services/city_appearance.exposed_garbage.xml');
    expect(x.doc.service_definition.service_code).toBe('city_appearance.exposed_garbage');
    expect(x.doc.service_definition.attributes).toBe('');
  });

  it('an unknown service_code is 404 (JSON and XML)', async () => {
    const j = await getJson('services/potholes.json');
    expect(j.status).toBe(404);
    expectErrorsJson(j.body, 404, /potholes/);
    const x = await getXml('services/potholes.xml');
    expect(x.status).toBe(404);
    expect(x.type).toBe(XML_TYPE);
    expectErrorsXml(x.doc, 404);
  });

  it('a path without .json/.xml is 404', async () => {
    expect((await fetch(url('services/city_appearance.graffiti'))).status).toBe(404);
    expect((await fetch(url('services.html'))).status).toBe(404);
  });
});

let FORM_ID = ''; // posted form-encoded, with description NASTY and contact data
let ATTR_ID = ''; // posted with attributes
let JSON_ID = ''; // posted as JSON
let XML_ID = ''; // posted, response as XML
let TOKEN = '';

describe('POST service request', () => {
  it('form-encoded: 201 and [{service_request_id, service_notice, account_id}]', async () => {
    const r = await postForm('json', {
      api_key: KEY,
      service_code: 'city_appearance.exposed_garbage',
      ...loc(),
      address_string: '1 Jingfu Rd, Dongfeng St',
      description: NASTY,
      media_url: 'https://media.example/p/1.jpg',
      device_id: 'DEVICE-SECRET-1',
      account_id: 'ACC-7',
      ...SECRET,
    });
    expect(r.status, await r.clone().text()).toBe(201);
    expect(r.headers.get('content-type')).toBe(JSON_TYPE);
    const body = (await r.json()) as Record<string, unknown>[];
    expect(body).toHaveLength(1);
    expect(Object.keys(body[0]).sort()).toEqual(['account_id', 'service_notice', 'service_request_id']);
    // a public id: 20 random hex characters, not the sequential case code (HQ-20261123-0001)
    expect(body[0].service_request_id).toMatch(/^[0-9a-f]{20}$/);
    expect(body[0].account_id).toBe('ACC-7');
    expect(typeof body[0].service_notice).toBe('string');
    FORM_ID = body[0].service_request_id as string;
    TOKEN = r.headers.get('open311-token') ?? '';
    expect(TOKEN).not.toBe('');
  });

  it('form-encoded with attribute[code] and attribute[code][] values', async () => {
    const r = await postForm('json', [
      ['api_key', KEY],
      ['service_code', 'facility_fault.streetlight_fault'],
      ['lat', loc().lat],
      ['long', loc().long],
      ['attribute[fault_kind][]', 'off'],
      ['attribute[fault_kind][]', 'damaged'],
      ['attribute[pole_number]', 'P-0042'],
      ['description', 'Street light out'],
    ]);
    expect(r.status, await r.clone().text()).toBe(201);
    ATTR_ID = ((await r.json()) as { service_request_id: string }[])[0].service_request_id;
    const g = await postForm('json', [
      ['api_key', KEY],
      ['service_code', 'city_appearance.graffiti'],
      ['lat', loc().lat],
      ['long', loc().long],
      ['attribute[surface]', 'wall'],
    ]);
    expect(g.status, await g.clone().text()).toBe(201);
  });

  it('answers in XML: <service_requests><request><service_request_id>…', async () => {
    const r = await postForm('xml', {
      api_key: KEY,
      service_code: 'street_order.illegal_parking',
      ...loc(),
      description: XML_DESCRIPTION,
      'attribute[vehicle_count]': '2',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe(XML_TYPE);
    const doc = xmlParser.parse(await r.text());
    const [req] = doc.service_requests.request;
    expect(Object.keys(req).sort()).toEqual(['account_id', 'service_notice', 'service_request_id']);
    expect(req.account_id).toBe('');
    XML_ID = req.service_request_id;
  });

  it('also takes a JSON body', async () => {
    const r = await fetch(url('requests.json'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        api_key: KEY,
        service_code: 'emergency.fallen_tree',
        lat: INSIDE[1],
        long: INSIDE[0],
        attribute: { severity: 'severe' },
        description: 'Tree across the road',
      }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    JSON_ID = ((await r.json()) as { service_request_id: string }[])[0].service_request_id;
  });

  it('403 without api_key and with a wrong one (JSON and XML)', async () => {
    const fields = { service_code: 'city_appearance.exposed_garbage', ...loc() };
    let r = await postForm('json', fields);
    expect(r.status).toBe(403);
    expectErrorsJson(await r.json(), 403, /api_key/);
    r = await postForm('xml', { ...fields, api_key: 'o311_wrong' });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toBe(XML_TYPE);
    expectErrorsXml(xmlParser.parse(await r.text()), 403);
  });

  it('404 for an unknown service_code, 400 without one', async () => {
    let r = await postForm('json', { api_key: KEY, service_code: 'potholes', ...loc() });
    expect(r.status).toBe(404);
    expectErrorsJson(await r.json(), 404, /potholes/);
    r = await postForm('xml', { api_key: KEY, ...loc() });
    expect(r.status).toBe(400);
    expectErrorsXml(xmlParser.parse(await r.text()), 400);
  });

  it('400 without a location; address_string alone is refused too (no geocoder): lat/long required', async () => {
    let r = await postForm('json', { api_key: KEY, service_code: 'city_appearance.exposed_garbage' });
    expect(r.status).toBe(400);
    expectErrorsJson(await r.json(), 400, /lat and long/);
    r = await postForm('json', {
      api_key: KEY,
      service_code: 'city_appearance.exposed_garbage',
      address_string: '1 Main St',
    });
    expect(r.status).toBe(400);
    expectErrorsJson(await r.json(), 400, /cannot geocode/);
    r = await postForm('xml', { api_key: KEY, service_code: 'city_appearance.exposed_garbage', lat: '0', long: '0' });
    expect(r.status).toBe(400);
    expectErrorsXml(xmlParser.parse(await r.text()), 400);
  });

  it('400 for a missing required attribute or a value outside its list', async () => {
    let r = await postForm('json', { api_key: KEY, service_code: 'city_appearance.graffiti', ...loc() });
    expect(r.status).toBe(400);
    expectErrorsJson(await r.json(), 400, /attribute\[surface\]/);
    r = await postForm('json', {
      api_key: KEY,
      service_code: 'city_appearance.graffiti',
      ...loc(),
      'attribute[surface]': 'roof',
    });
    expect(r.status).toBe(400);
  });
});

describe('GET service request', () => {
  it('JSON: one request with every spec field; description round-trips; contact never shown', async () => {
    const r = await getJson(`requests/${FORM_ID}.json`);
    expect(r.status).toBe(200);
    expect(r.type).toBe(JSON_TYPE);
    expect(r.body).toHaveLength(1);
    const req = r.body[0];
    expect(Object.keys(req).sort()).toEqual(REQUEST_FIELDS);
    expect(req).toMatchObject({
      service_request_id: FORM_ID,
      status: 'open',
      service_code: 'city_appearance.exposed_garbage',
      service_name: 'Exposed garbage',
      description: NASTY,
      address: '1 Jingfu Rd, Dongfeng St',
      media_url: 'https://media.example/p/1.jpg',
    });
    // coarsened to 3 decimals (about 100 m)
    expect(req.lat).toBe(Math.round(INSIDE[1] * 1000) / 1000);
    expect(req.long).toBe(Math.round(INSIDE[0] * 1000) / 1000);
    expect(req.requested_datetime).toMatch(W3C);
    expect(req.updated_datetime).toMatch(W3C);
    for (const s of [...Object.values(SECRET), 'DEVICE-SECRET-1']) expect(r.text).not.toContain(s);
  });

  it('XML: <service_requests><request> with the spec elements; <script> and & escaped and round-tripped', async () => {
    const r = await getXml(`requests/${FORM_ID}.xml`);
    expect(r.status).toBe(200);
    expect(r.type).toBe(XML_TYPE);
    expect(r.text).not.toContain('<script>');
    const [req] = r.doc.service_requests.request;
    expect(Object.keys(req).sort()).toEqual(REQUEST_FIELDS);
    expect(req.description).toBe(NASTY);
    expect(req.status).toBe('open');
    expect(Number(req.lat)).toBe(Math.round(INSIDE[1] * 1000) / 1000);
    for (const s of [...Object.values(SECRET), 'DEVICE-SECRET-1']) expect(r.text).not.toContain(s);
  });

  it('an unknown id is 404 (JSON and XML)', async () => {
    const j = await getJson('requests/HQ-19990101-0001.json');
    expect(j.status).toBe(404);
    expectErrorsJson(j.body, 404, /HQ-19990101-0001/);
    const x = await getXml('requests/HQ-19990101-0001.xml');
    expect(x.status).toBe(404);
    expectErrorsXml(x.doc, 404);
  });
});

describe('GET service requests', () => {
  const ids = (body: { service_request_id: string }[]) => body.map((r) => r.service_request_id);

  it('lists the recent requests (default window) in JSON and XML', async () => {
    const j = await getJson('requests.json');
    expect(j.status).toBe(200);
    expect(ids(j.body)).toEqual(expect.arrayContaining([FORM_ID, ATTR_ID, JSON_ID, XML_ID]));
    for (const r of j.body) expect(Object.keys(r).sort()).toEqual(REQUEST_FIELDS);
    const x = await getXml('requests.xml');
    const list = x.doc.service_requests.request as Record<string, string>[];
    expect(list.map((r) => r.service_request_id)).toEqual(ids(j.body));
    for (const r of list) expect(Object.keys(r).sort()).toEqual(REQUEST_FIELDS);
    for (const s of Object.values(SECRET)) {
      expect(j.text).not.toContain(s);
      expect(x.text).not.toContain(s);
    }
  });

  it('service_request_id: a comma list, overriding other arguments', async () => {
    const j = await getJson(`requests.json?service_request_id=${FORM_ID},${JSON_ID},HQ-19990101-0009&status=closed`);
    expect(ids(j.body)).toEqual([FORM_ID, JSON_ID]);
  });

  it('service_code: one or a comma list', async () => {
    let j = await getJson('requests.json?service_code=facility_fault.streetlight_fault');
    expect(ids(j.body)).toEqual([ATTR_ID]);
    j = await getJson('requests.json?service_code=facility_fault.streetlight_fault,emergency.fallen_tree');
    expect(ids(j.body).sort()).toEqual([ATTR_ID, JSON_ID].sort());
    const x = await getXml('requests.xml?service_code=emergency.fallen_tree');
    expect(x.doc.service_requests.request.map((r: { service_request_id: string }) => r.service_request_id)).toEqual([
      JSON_ID,
    ]);
  });

  it('status: open and closed (a rejected case is closed; its reason shows only when marked public)', async () => {
    await caseAction(XML_DESCRIPTION, { action: 'reject', reason: 'Not a public road', notePublic: true });
    const closed = await getJson('requests.json?status=closed');
    expect(ids(closed.body)).toEqual([XML_ID]);
    expect(closed.body[0]).toMatchObject({ status: 'closed' });
    expect(closed.body[0].status_notes).toContain('Not a public road');
    const open = await getJson('requests.json?status=open');
    expect(ids(open.body)).not.toContain(XML_ID);
    expect(ids(open.body)).toContain(FORM_ID);
    const both = await getJson('requests.json?status=open,closed');
    expect(ids(both.body)).toEqual(expect.arrayContaining([XML_ID, FORM_ID]));
    const x = await getXml('requests.xml?status=closed');
    expect(x.doc.service_requests.request[0].status).toBe('closed');
  });

  it('agency_responsible and status_notes follow dispatch', async () => {
    await caseAction('Street light out', {
      action: 'register',
      category: 'facility_fault.streetlight_fault',
      priority: 3,
    });
    await caseAction('Street light out', { action: 'dispatch', to: { kind: 'department', id: 'public_works' } });
    const [r] = (await getJson(`requests/${ATTR_ID}.json`)).body;
    expect(r.status).toBe('open');
    expect(r.agency_responsible).toBeTruthy();
    expect(r.status_notes).toContain(r.agency_responsible);
    expect(r.expected_datetime).toMatch(W3C);
  });

  it('start_date and end_date (w3 format) bound requested_datetime', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let j = await getJson(`requests.json?start_date=${iso(now - 3600_000)}&end_date=${iso(now + 3600_000)}`);
    expect(ids(j.body)).toEqual(expect.arrayContaining([FORM_ID, JSON_ID]));
    j = await getJson(`requests.json?start_date=${iso(now + 86_400_000)}`);
    expect(j.body).toEqual([]);
    j = await getJson(`requests.json?end_date=${iso(now - 86_400_000)}`);
    expect(j.body).toEqual([]);
    const x = await getXml(`requests.xml?start_date=${iso(now + 86_400_000)}`);
    expect(x.status).toBe(200);
    expect(x.doc.service_requests).toBe('');
  });

  it('400 for a malformed date, a window over 90 days, a bad status; 404 for an unknown jurisdiction', async () => {
    for (const q of [
      'start_date=yesterday',
      'start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z',
      'status=pending',
    ]) {
      const j = await getJson(`requests.json?${q}`);
      expect(j.status, q).toBe(400);
      expectErrorsJson(j.body, 400);
      const x = await getXml(`requests.xml?${q}`);
      expect(x.status, q).toBe(400);
      expectErrorsXml(x.doc, 400);
    }
    const j = await getJson('requests.json?jurisdiction_id=nowhere');
    expect(j.status).toBe(404);
  });
});

describe('GET service_request_id from a token', () => {
  it('JSON and XML: [{service_request_id, token}]', async () => {
    const j = await getJson(`tokens/${TOKEN}.json`);
    expect(j.status).toBe(200);
    expect(j.body).toEqual([{ service_request_id: FORM_ID, token: TOKEN }]);
    const x = await getXml(`tokens/${TOKEN}.xml`);
    expect(x.doc.service_requests.request).toEqual([{ service_request_id: FORM_ID, token: TOKEN }]);
  });

  it('an unknown token is 404', async () => {
    const j = await getJson('tokens/nope.json');
    expect(j.status).toBe(404);
    expectErrorsJson(j.body, 404, /token/);
    const x = await getXml('tokens/nope.xml');
    expect(x.status).toBe(404);
    expectErrorsXml(x.doc, 404);
  });
});

describe('keys and the rest of the platform', () => {
  it('a revoked key is refused (403)', async () => {
    const del = await fetch(`${p.url}/api/open311/keys/${KEY_ID}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(del.status).toBe(204);
    const r = await postForm('json', { api_key: KEY, service_code: 'city_appearance.exposed_garbage', ...loc() });
    expect(r.status).toBe(403);
  });

  it('cross-site form posts elsewhere are still refused', async () => {
    const r = await fetch(`${p.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'username=admin&password=x',
    });
    expect(r.status).toBe(403);
  });
});
