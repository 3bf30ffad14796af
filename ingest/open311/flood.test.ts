/**
 * Flood control of POST service request (issue 11, finding 7: 150 identical posts in 0.8 s made 150 cases):
 * identical submissions fold into one request, and the key and the address are rate-limited (429 with
 * Retry-After in the GeoReport error format).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Open311Api, Open311Error } from './api.ts';
import { collect, renderError } from './http.ts';
import { FloodGuard, fingerprintOf } from './flood.ts';
import { FakeCases, MemoryStore, T0, fakeDeps } from './fake.test-util.ts';

const KEY = 'o311_test_key';
let cases: FakeCases;
let store: MemoryStore;
let now: number;

function make(limits = { perKeyPerMinute: 1000, perAddressPerMinute: 1000, foldWindowMs: 600_000 }) {
  return new Open311Api({ ...fakeDeps(cases, store, () => now), limits });
}

beforeEach(() => {
  cases = new FakeCases();
  store = new MemoryStore();
  store.keys.set(KEY, 'k1');
  store.keys.set('o311_other', 'k2');
  now = T0;
});

const form = (extra = '', key = KEY) =>
  collect([
    ...new URLSearchParams(
      `api_key=${key}&service_code=city_appearance.exposed_garbage&lat=39.5&long=117.5&description=Bin+overflowing${extra}`,
    ),
  ]);
const idOf = (r: { body: unknown }) => (r.body as { service_request_id: string }[])[0].service_request_id;

async function error(p: Promise<unknown>): Promise<Open311Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Open311Error) return e;
    throw e;
  }
  throw new Error('expected an Open311Error');
}

describe('folding identical submissions', () => {
  it('150 identical posts at once make one case and all answer its id', async () => {
    const api = make();
    const answers = await Promise.all(
      Array.from({ length: 150 }, () => api.postRequest(form(), null, 'en', { ip: '192.0.2.7' })),
    );
    expect(cases.docs).toHaveLength(1);
    const ids = new Set(answers.map(idOf));
    expect(ids.size).toBe(1);
    expect(answers.every((a) => a.status === 201)).toBe(true);
    expect(answers.filter((a) => a.headers?.['Open311-Duplicate-Of']).length).toBe(149);
  });

  it('folds by key or by address, same service, same text (white space and case aside), within 50 m', async () => {
    const api = make();
    const first = idOf(await api.postRequest(form(), null, 'en', { ip: '192.0.2.7' }));
    // same key from elsewhere, description differing only in spaces and case, 30 m away
    const again = await api.postRequest(
      collect([
        ...new URLSearchParams(
          `api_key=${KEY}&service_code=city_appearance.exposed_garbage&lat=39.50027&long=117.5&description=bin++OVERFLOWING`,
        ),
      ]),
      null,
      'en',
      { ip: '198.51.100.1' },
    );
    expect(idOf(again)).toBe(first);
    // another key from the same address folds too
    expect(idOf(await api.postRequest(form('', 'o311_other'), null, 'en', { ip: '192.0.2.7' }))).toBe(first);
    expect(cases.docs).toHaveLength(1);
  });

  it('does not fold a different text, service, place (> 50 m), another key from another address, or after the window', async () => {
    const api = make();
    await api.postRequest(form(), null, 'en', { ip: '192.0.2.7' });
    await api.postRequest(form('+again+and+again'), null, 'en', { ip: '192.0.2.7' });
    await api.postRequest(
      collect([
        ...new URLSearchParams(
          `api_key=${KEY}&service_code=city_appearance.graffiti&attribute[surface]=wall&lat=39.5&long=117.5&description=Bin+overflowing`,
        ),
      ]),
      null,
      'en',
      { ip: '192.0.2.7' },
    );
    await api.postRequest(
      collect([
        ...new URLSearchParams(
          `api_key=${KEY}&service_code=city_appearance.exposed_garbage&lat=39.501&long=117.5&description=Bin+overflowing`,
        ),
      ]),
      null,
      'en',
      { ip: '192.0.2.7' },
    );
    await api.postRequest(form('', 'o311_other'), null, 'en', { ip: '203.0.113.5' });
    expect(cases.docs).toHaveLength(5);
    now = T0 + 600_001;
    await api.postRequest(form(), null, 'en', { ip: '192.0.2.7' });
    expect(cases.docs).toHaveLength(6);
  });

  it('fingerprints service and normalised text', () => {
    expect(fingerprintOf('a', ' Bin  overflowing ')).toBe(fingerprintOf('a', 'bin overflowing'));
    expect(fingerprintOf('a', 'x')).not.toBe(fingerprintOf('b', 'x'));
  });
});

describe('rate limits', () => {
  it('refuses the address over its limit with 429 and Retry-After, before looking at the key', async () => {
    const api = make({ perKeyPerMinute: 1000, perAddressPerMinute: 3, foldWindowMs: 0 });
    for (let i = 0; i < 3; i++)
      await api.postRequest(form(`+${i}`, 'o311_wrong'), null, 'en', { ip: '192.0.2.9' }).catch(() => null);
    const e = await error(api.postRequest(form('+x'), null, 'en', { ip: '192.0.2.9' }));
    expect(e.status).toBe(429);
    expect(Number(e.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(e.errors).toEqual([
      { code: 429, description: expect.stringMatching(/Too many requests from this address/) },
    ]);
    // another address is not affected
    expect((await api.postRequest(form('+y'), null, 'en', { ip: '192.0.2.10' })).status).toBe(201);
  });

  it('refuses the key over its limit from any address', async () => {
    const api = make({ perKeyPerMinute: 2, perAddressPerMinute: 1000, foldWindowMs: 0 });
    await api.postRequest(form('+1'), null, 'zh', { ip: '192.0.2.1' });
    await api.postRequest(form('+2'), null, 'zh', { ip: '192.0.2.2' });
    const e = await error(api.postRequest(form('+3'), null, 'zh', { ip: '192.0.2.3' }));
    expect(e.status).toBe(429);
    expect(e.errors[0].description).toMatch(/api_key 提交过于频繁/);
    expect(cases.docs).toHaveLength(2);
  });

  it('renders 429 in the GeoReport error format, JSON and XML, with Retry-After', async () => {
    const e = new Open311Error(429, 'Too many', { 'retry-after': '42' });
    const j = renderError('json', e, 'en');
    expect(j.status).toBe(429);
    expect(j.headers.get('retry-after')).toBe('42');
    expect(await j.json()).toEqual([{ code: 429, description: 'Too many' }]);
    const x = renderError('xml', e, 'en');
    expect((await x.text()).replace(/\s+/g, '')).toContain(
      '<errors><error><code>429</code><description>Toomany</description></error></errors>',
    );
  });

  it('serialises calls per key and lets others run', async () => {
    const g = new FloodGuard();
    const order: string[] = [];
    const slow = (tag: string, ms: number) => () =>
      new Promise<void>((r) =>
        setTimeout(() => {
          order.push(tag);
          r();
        }, ms),
      );
    await Promise.all([g.serial('a', slow('a1', 30)), g.serial('a', slow('a2', 1)), g.serial('b', slow('b1', 5))]);
    expect(order).toEqual(['b1', 'a1', 'a2']);
  });
});
