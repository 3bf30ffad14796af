import { beforeEach, describe, expect, it } from 'vitest';
import { Open311Api, Open311Error, WINDOW_MS, type Open311Result } from './api.ts';
import { collect } from './http.ts';
import type { ServiceRequestJson } from './requests.ts';
import { DISTRICT, FakeCases, MemoryStore, T0, fakeDeps } from './fake.test-util.ts';

const KEY = 'o311_test_key';
let cases: FakeCases;
let store: MemoryStore;
let api: Open311Api;

beforeEach(() => {
  cases = new FakeCases();
  store = new MemoryStore();
  store.keys.set(KEY, 'k1');
  api = new Open311Api(fakeDeps(cases, store));
});

const q = (s = '') => new URLSearchParams(s);
const post = (form: string) => api.postRequest(collect([...new URLSearchParams(form)]), null, 'en');
const requests = (r: Open311Result) => r.body as ServiceRequestJson[];
/** The public service_request_id of a case. */
const pid = (c: { id: string; code: string }) => store.idFor(c);

async function error(p: Promise<unknown> | (() => unknown)): Promise<Open311Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof Open311Error) return e;
    throw e;
  }
  throw new Error('expected an Open311Error');
}

const OK = `api_key=${KEY}&service_code=city_appearance.exposed_garbage&lat=39.5&long=117.5`;

describe('POST requests', () => {
  it('creates a citizen case through CasePort.intake as the system actor and returns its code', async () => {
    const r = await post(
      `${OK}&description=Rubbish+%3Cscript%3E+%26+more&address_string=1+Main+St&media_url=https%3A%2F%2Fx.org%2Fa.jpg` +
        `&email=a%40b.cn&first_name=Li&last_name=Lei&phone=123&device_id=dev&account_id=acc&address_id=A-9`,
    );
    expect(r.status).toBe(201);
    expect(r.root).toBe('service_requests');
    const created = cases.docs[0];
    expect(r.body).toEqual([
      { service_request_id: store.publicIdOf(created.id), service_notice: expect.any(String), account_id: 'acc' },
    ]);
    expect(r.headers?.['Open311-Token']).toBe('tok1');
    const { input, actor } = cases.intakes[0];
    expect(actor.role).toBe('system');
    expect(input).toMatchObject({
      category: 'city_appearance.exposed_garbage',
      source: 'citizen',
      location: [117.5, 39.5],
      description: 'Rubbish <script> & more',
      address: '1 Main St',
      mediaUrl: 'https://x.org/a.jpg',
      reporter: { name: 'Li Lei', email: 'a@b.cn', phone: '123', deviceId: 'dev', accountId: 'acc' },
    });
    expect(input.title).toContain('暴露垃圾');
    expect(store.publicIdOf(created.id)).toMatch(/^[0-9a-f]{20}$/);
    expect(store.publicIdOf(created.id)).not.toContain(created.code);
    expect(store.rows[0]).toMatchObject({
      caseId: created.id,
      code: created.code,
      token: 'tok1',
      keyId: 'k1',
      addressId: 'A-9',
    });
  });

  it('passes checked attributes (attribute[code]=v, attribute[code][]=v) to the case', async () => {
    await post(
      `api_key=${KEY}&service_code=facility_fault.streetlight_fault&lat=39.5&long=117.5&attribute[fault_kind][]=off&attribute[fault_kind][]=damaged&attribute[pole_number]=P-17`,
    );
    expect(cases.intakes[0].input.attributes).toEqual({ fault_kind: ['off', 'damaged'], pole_number: 'P-17' });
  });

  it('normalises CR LF in the description', async () => {
    await post(`${OK}&description=a%0D%0Ab`);
    expect(cases.intakes[0].input.description).toBe('a\nb');
  });

  it('refuses without a key (403), saying so when no key was ever issued', async () => {
    let e = await error(post('service_code=city_appearance.graffiti&lat=39.5&long=117.5'));
    expect(e.status).toBe(403);
    expect(e.errors[0].code).toBe(403);
    expect(e.errors[0].description).not.toMatch(/No key has been issued/);
    store.keys.clear();
    e = await error(post('service_code=city_appearance.graffiti&lat=39.5&long=117.5'));
    expect(e.errors[0].description).toMatch(/No key has been issued.*POST \/api\/open311\/keys/);
    expect(cases.intakes).toHaveLength(0);
  });

  it('refuses a wrong or revoked key (403)', async () => {
    expect((await error(post(OK.replace(KEY, 'nope')))).status).toBe(403);
    store.revoked.add('k1');
    expect((await error(post(OK))).status).toBe(403);
    expect(cases.intakes).toHaveLength(0);
  });

  it('checks the key before anything else', async () => {
    expect((await error(post('api_key=bad&service_code=nope'))).status).toBe(403);
  });

  it('refuses a missing service_code (400) and an unknown one (404)', async () => {
    expect((await error(post(`api_key=${KEY}&lat=39.5&long=117.5`))).status).toBe(400);
    const e = await error(post(`api_key=${KEY}&service_code=potholes&lat=39.5&long=117.5`));
    expect(e.status).toBe(404);
    expect(e.errors[0].description).toMatch(/service_code potholes not found/);
  });

  it('refuses a missing location and an address without lat/long (no geocoder here)', async () => {
    let e = await error(post(`api_key=${KEY}&service_code=city_appearance.graffiti&attribute[surface]=wall`));
    expect(e.status).toBe(400);
    expect(e.errors[0].description).toMatch(/lat and long/);
    e = await error(post(`api_key=${KEY}&service_code=city_appearance.exposed_garbage&address_string=1+Main+St`));
    expect(e.status).toBe(400);
    expect(e.errors[0].description).toMatch(/cannot geocode/);
    e = await error(post(`api_key=${KEY}&service_code=city_appearance.exposed_garbage&address_id=A-9`));
    expect(e.errors[0].description).toMatch(/cannot geocode/);
    expect(cases.intakes).toHaveLength(0);
  });

  it('refuses half a location, bad numbers, and places outside the grids or the jurisdiction', async () => {
    const base = `api_key=${KEY}&service_code=city_appearance.exposed_garbage`;
    for (const loc of [
      'lat=39.5',
      'long=117.5',
      'lat=x&long=117.5',
      'lat=91&long=117.5',
      'lat=39.5&long=181',
      'lat=1e999&long=1',
    ])
      expect((await error(post(`${base}&${loc}`))).status, loc).toBe(400);
    const e = await error(post(`${base}&lat=10&long=10`));
    expect(e.errors[0].description).toMatch(/outside the area/);
    expect((await error(post(`${base}&lat=39.5&long=117.5&jurisdiction_id=999999`))).status).toBe(404);
    expect(cases.intakes).toHaveLength(0);
  });

  it('reports several input errors at once', async () => {
    const e = await error(
      post(
        `api_key=${KEY}&service_code=city_appearance.graffiti&lat=39.5&long=117.5&media_url=javascript:alert(1)&email=nope`,
      ),
    );
    expect(e.status).toBe(400);
    expect(e.errors.map((x) => x.description).join(' | ')).toMatch(/media_url.*\|.*email.*\|.*surface/);
  });

  it('refuses a description over 4000 characters', async () => {
    const e = await error(post(`${OK}&description=${'x'.repeat(4001)}`));
    expect(e.errors[0].description).toMatch(/4000/);
    await post(`${OK}&description=${'x'.repeat(4000)}`);
    expect(cases.intakes).toHaveLength(1);
  });

  it('turns a case-service refusal into 400 with its message', async () => {
    const orig = cases.intake.bind(cases);
    cases.intake = (input, actor) => orig({ ...input, title: 'boom' }, actor);
    const e = await error(post(OK));
    expect(e.status).toBe(400);
    expect(e.errors[0].description).toBe('title refused');
  });

  it('answers 503 while the case service is not wired', async () => {
    api = new Open311Api(fakeDeps(undefined, store));
    expect((await error(post(OK))).status).toBe(503);
    expect((await error(api.getRequests(q(), null, 'en'))).status).toBe(503);
  });

  it('speaks Chinese by default', async () => {
    const e = await error(api.postRequest(collect([]), null, 'zh'));
    expect(e.errors[0].description).toMatch(/缺少 api_key/);
  });
});

describe('GET requests', () => {
  it('lists citizen cases only, newest first, as spec fields', async () => {
    cases.seed({ createdAt: T0 - 3000, source: 'sensor' });
    const a = cases.seed({ createdAt: T0 - 2000, description: 'older' });
    const b = cases.seed({ createdAt: T0 - 1000, description: 'newer' });
    const r = requests(await api.getRequests(q(), null, 'en'));
    expect(r.map((x) => x.service_request_id)).toEqual([pid(b), pid(a)]);
    expect(Object.keys(r[0]).sort()).toEqual(
      [
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
      ].sort(),
    );
    expect(r[0]).toMatchObject({
      status: 'open',
      service_code: 'city_appearance.exposed_garbage',
      service_name: 'Exposed garbage',
      description: 'newer',
      requested_datetime: '2026-11-24T07:59:59Z',
      lat: 39.1,
      long: 117.2,
      // no address posted: the grids describe the place, most specific first
      address: '景福新村社区第1网格, 景福新村社区, 东风街道, 示范区',
      agency_responsible: '景福新村社区',
    });
  });

  it('defaults to the last 90 days and asks the case service with source citizen', async () => {
    cases.seed({ createdAt: T0 - WINDOW_MS - 1 });
    const inside = cases.seed({ createdAt: T0 - WINDOW_MS + 1000 });
    const r = requests(await api.getRequests(q(), null, 'en'));
    expect(r.map((x) => x.service_request_id)).toEqual([pid(inside)]);
    expect(cases.listCalls[0]).toMatchObject({ source: 'citizen', from: T0 - WINDOW_MS, to: T0 + 1 });
  });

  it('filters by start_date/end_date (inclusive, w3 format)', async () => {
    const d1 = cases.seed({ createdAt: Date.UTC(2026, 9, 1) });
    const d2 = cases.seed({ createdAt: Date.UTC(2026, 9, 2) });
    const d3 = cases.seed({ createdAt: Date.UTC(2026, 9, 3) });
    const ids = async (s: string) => requests(await api.getRequests(q(s), null, 'en')).map((x) => x.service_request_id);
    expect(await ids('start_date=2026-10-02T00:00:00Z&end_date=2026-10-03T00:00:00Z')).toEqual([pid(d3), pid(d2)]);
    expect(await ids('start_date=2026-10-01T08:00:00%2B08:00&end_date=2026-10-01T23:59:59Z')).toEqual([pid(d1)]);
    // one bound: 90 days from/to it
    expect(await ids('start_date=2026-10-02T00:00:00Z')).toEqual([pid(d3), pid(d2)]);
    expect(await ids('end_date=2026-10-01T00:00:00Z')).toEqual([pid(d1)]);
  });

  it('refuses bad dates, reversed or over-90-day windows (400)', async () => {
    for (const s of [
      'start_date=yesterday',
      'end_date=2026-10-01T00:00:00',
      'start_date=2026-10-02T00:00:00Z&end_date=2026-10-01T00:00:00Z',
      'start_date=2026-01-01T00:00:00Z&end_date=2026-10-01T00:00:00Z',
    ]) {
      const e = await error(api.getRequests(q(s), null, 'en'));
      expect(e.status, s).toBe(400);
    }
  });

  it('filters by status (open, closed, both; comma list) — closed includes rejected and merged', async () => {
    const open = cases.seed({ createdAt: T0 - 5000, state: 'in_progress' });
    const closed = cases.seed({ createdAt: T0 - 4000, state: 'closed', closedAt: T0 - 100 });
    const rejected = cases.seed({ createdAt: T0 - 3000, state: 'rejected' });
    const merged = cases.seed({ createdAt: T0 - 2000, state: 'merged', mergedInto: open.id });
    const ids = async (s: string) => requests(await api.getRequests(q(s), null, 'en')).map((x) => x.service_request_id);
    expect(await ids('status=open')).toEqual([pid(open)]);
    expect(await ids('status=closed')).toEqual([pid(merged), pid(rejected), pid(closed)]);
    expect((await ids('status=open,closed')).length).toBe(4);
    expect((await ids('status=open&status=closed')).length).toBe(4);
    expect((await error(api.getRequests(q('status=pending'), null, 'en'))).status).toBe(400);
  });

  it('filters by service_code (one or a comma list), exact category; unknown code is 400', async () => {
    const g = cases.seed({ createdAt: T0 - 3000, category: 'city_appearance.graffiti' });
    const p = cases.seed({ createdAt: T0 - 2000, category: 'street_order.illegal_parking' });
    cases.seed({ createdAt: T0 - 1000, category: 'city_appearance' });
    const ids = async (s: string) => requests(await api.getRequests(q(s), null, 'en')).map((x) => x.service_request_id);
    expect(await ids('service_code=city_appearance.graffiti')).toEqual([pid(g)]);
    expect(await ids('service_code=city_appearance.graffiti,street_order.illegal_parking')).toEqual([pid(p), pid(g)]);
    expect((await error(api.getRequests(q('service_code=potholes'), null, 'en'))).status).toBe(400);
  });

  it('service_request_id (comma list) overrides every other argument; unknown ids are left out', async () => {
    const old = cases.seed({ createdAt: T0 - 400 * 86_400_000, state: 'closed' });
    const b = cases.seed({ createdAt: T0 - 1000 });
    const sensor = cases.seed({ source: 'sensor' });
    const r = requests(
      await api.getRequests(
        q(`service_request_id=${pid(old)},${pid(b)},NOPE,${sensor.code}&status=open&service_code=fire&start_date=bad`),
        null,
        'en',
      ),
    );
    expect(r.map((x) => x.service_request_id)).toEqual([pid(old), pid(b)]);
    // the internal, sequential case code never resolves
    expect(requests(await api.getRequests(q(`service_request_id=${old.code},${b.code}`), null, 'en'))).toEqual([]);
  });

  it('returns at most 1000 requests, paging through the case service', async () => {
    for (let i = 0; i < 1100; i++) cases.seed({ createdAt: T0 - 10_000 + i });
    const r = requests(await api.getRequests(q(), null, 'en'));
    expect(r).toHaveLength(1000);
    expect(cases.listCalls.length).toBe(2);
    expect(cases.listCalls.every((f) => (f.limit ?? 0) <= 500)).toBe(true);
  });

  it('accepts jurisdiction_id as the district code (narrowing) or the host; unknown is 404', async () => {
    cases.seed({});
    expect(requests(await api.getRequests(q(`jurisdiction_id=${DISTRICT}`), 'x.gov', 'en'))).toHaveLength(1);
    expect(cases.listCalls.at(-1)!.grid).toBe(DISTRICT);
    expect(requests(await api.getRequests(q('jurisdiction_id=www.x.gov'), 'x.gov', 'en'))).toHaveLength(1);
    expect(requests(await api.getRequests(q('jurisdiction_id='), 'x.gov', 'en'))).toHaveLength(1);
    const e = await error(api.getRequests(q('jurisdiction_id=sfgov.org'), 'x.gov', 'en'));
    expect(e.status).toBe(404);
    expect(e.errors[0].description).toMatch(/jurisdiction_id sfgov.org not found.*120106/);
  });
});

describe('GET request and status mapping', () => {
  it('finds one request by its public id; the case code, unknown ids and non-citizen cases are 404', async () => {
    const c = cases.seed({});
    const r = requests(await api.getRequest(pid(c), q(), null, 'en'));
    expect(r).toHaveLength(1);
    expect(r[0].service_request_id).toBe(pid(c));
    expect((await error(api.getRequest(c.code, q(), null, 'en'))).status).toBe(404);
    expect((await error(api.getRequest('HQ-19990101-0001', q(), null, 'en'))).status).toBe(404);
    const s = cases.seed({ source: 'camera' });
    expect((await error(api.getRequest(pid(s), q(), null, 'en'))).status).toBe(404);
  });

  it('recognises a DomainError from another copy of core/errors.ts (the web bundle vs the platform)', async () => {
    class DomainError extends Error {
      readonly code = 'not_found';
      constructor(m: string) {
        super(m);
        this.name = 'DomainError';
      }
      get status() {
        return 404;
      }
    }
    const id = pid(cases.seed({}));
    cases.get = async () => {
      throw new DomainError('no case');
    };
    expect((await error(api.getRequest(id, q(), null, 'en'))).status).toBe(404);
    cases.get = async () => {
      throw new Error('db down');
    };
    await expect(api.getRequest(id, q(), null, 'en')).rejects.toThrow('db down');
  });

  it('never returns reporter contact', async () => {
    await post(
      `${OK}&email=secret%40mail.cn&first_name=Secret&last_name=Person&phone=13900000000&device_id=DEV-SECRET`,
    );
    const text = JSON.stringify(await api.getRequests(q(), null, 'en'));
    for (const s of ['secret@mail.cn', 'Secret', 'Person', '13900000000', 'DEV-SECRET']) expect(text).not.toContain(s);
  });

  it('shows address, address_id and media_url posted with the request', async () => {
    await post(`${OK}&address_string=5+Park+Rd&address_id=A-1&media_url=http%3A%2F%2Fm.org%2Fp.png`);
    const [r] = requests(await api.getRequest(pid(cases.docs[0]), q(), null, 'en'));
    expect(r).toMatchObject({
      address: '5 Park Rd',
      address_id: 'A-1',
      media_url: 'http://m.org/p.png',
      zipcode: null,
    });
  });

  it('follows the case: agency from the dispatched department, standard notes; internal results stay internal', async () => {
    const c = cases.seed({});
    const one = async (lang: 'en' | 'zh' = 'en') => requests(await api.getRequest(pid(c), q(), null, lang))[0];
    expect((await one()).status_notes).toMatch(/awaiting review/);
    await cases.act(c.id, { action: 'register', category: c.category, priority: 3, version: 1 });
    let r = await one();
    expect(r.expected_datetime).toBe('2026-11-25T08:00:00Z');
    await cases.act(c.id, { action: 'dispatch', to: { kind: 'department', id: 'urban' }, version: 2 });
    r = await one();
    expect(r).toMatchObject({
      status: 'open',
      agency_responsible: 'Urban Management',
      status_notes: 'Dispatched to Urban Management.',
    });
    expect((await one('zh')).agency_responsible).toBe('城市管理（城管）');
    await cases.act(c.id, { action: 'claim', version: 3 });
    await cases.act(c.id, { action: 'handle', result: 'Cleared the rubbish', version: 4 });
    expect((await one()).status_notes).toBe('Handled, awaiting verification.');
    cases.now = T0 + 3600_000;
    await cases.act(c.id, { action: 'verify', pass: true, version: 5 });
    r = await one();
    expect(r).toMatchObject({
      status: 'closed',
      status_notes: 'Resolved.',
      updated_datetime: '2026-11-24T09:00:00Z',
      service_notice: null,
    });

    const x = cases.seed({});
    await cases.act(x.id, { action: 'reject', reason: 'Not in our remit', version: 1 });
    const [rx] = requests(await api.getRequest(pid(x), q(), null, 'en'));
    expect(rx).toMatchObject({ status: 'closed', status_notes: 'Not accepted.' });
    expect(JSON.stringify(rx)).not.toContain('Not in our remit');

    const m = cases.seed({});
    await cases.act(m.id, { action: 'merge', into: c.id, version: 1 });
    const [rm] = requests(await api.getRequest(pid(m), q(), null, 'en'));
    expect(rm).toMatchObject({ status: 'closed', status_notes: `Duplicate request, merged into ${pid(c)}.` });
  });
});

describe('tokens, services, discovery', () => {
  it('resolves the token of a posted request to its id; unknown token is 404', async () => {
    const r = await post(OK);
    const token = r.headers!['Open311-Token'];
    const t = await api.token(token, q(), null, 'en');
    expect(t.body).toEqual([{ service_request_id: pid(cases.docs[0]), token }]);
    expect((await error(api.token('nope', q(), null, 'en'))).status).toBe(404);
  });

  it('lists services and definitions; unknown service_code and jurisdiction are 404', async () => {
    expect((api.services(q(), null, 'en').body as unknown[]).length).toBeGreaterThan(40);
    expect(api.serviceDefinition('city_appearance.graffiti', q(), null, 'en').body).toMatchObject({
      service_code: 'city_appearance.graffiti',
    });
    expect((await error(() => api.serviceDefinition('x', q(), null, 'en'))).status).toBe(404);
    expect((await error(() => api.services(q('jurisdiction_id=nope'), null, 'en'))).status).toBe(404);
  });

  it('describes the endpoint in discovery', () => {
    const d = api.discovery('https://city.example', 'en').body as Record<string, unknown>;
    expect(d).toMatchObject({
      changeset: expect.any(String),
      contact: expect.any(String),
      key_service: expect.stringContaining('/api/open311/keys'),
      endpoints: [
        {
          specification: 'http://wiki.open311.org/GeoReport_v2',
          url: 'https://city.example/open311/v2',
          type: 'production',
          formats: ['text/xml', 'application/json'],
        },
      ],
    });
  });
});

describe('collect (form fields)', () => {
  it('splits attribute[code] and attribute[code][] from other fields', () => {
    expect(
      collect([
        ['api_key', 'k'],
        ['attribute[a]', '1'],
        ['attribute[b][]', 'x'],
        ['attribute[b][]', 'y'],
        ['attribute[c]', 'p'],
        ['attribute[c]', 'q'],
      ]),
    ).toEqual({ fields: { api_key: 'k' }, attributes: { a: '1', b: ['x', 'y'], c: ['p', 'q'] } });
  });
});
