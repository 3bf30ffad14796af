import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { Open311Error } from './api.ts';
import { handle, publicOrigin, readPost, splitFormat } from './http.ts';

const xml = new XMLParser({
  parseTagValue: false,
  htmlEntities: true,
  isArray: (n) => n === 'error' || n === 'request',
});

describe('splitFormat', () => {
  it('takes the format after the last dot, so service codes may contain dots', () => {
    expect(splitFormat('city_appearance.graffiti.json')).toEqual({
      name: 'city_appearance.graffiti',
      format: 'json',
      ext: 'json',
    });
    expect(splitFormat('services.XML')).toEqual({ name: 'services', format: 'xml', ext: 'xml' });
    expect(splitFormat('services.html').format).toBeNull();
    expect(splitFormat('services').format).toBeNull();
    expect(splitFormat('.json').format).toBeNull();
  });
});

describe('handle', () => {
  const req = (lang?: string) =>
    new Request('http://h/open311/v2/x', { headers: lang ? { 'accept-language': lang } : {} });

  it('renders JSON and XML with the spec content types', async () => {
    const run = () => ({ status: 200, root: 'service_requests' as const, body: [{ service_request_id: 'A&B' }] });
    const j = await handle(req(), 'requests.json', null, run);
    expect(j.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await j.json()).toEqual([{ service_request_id: 'A&B' }]);
    const x = await handle(req(), 'requests.xml', null, run);
    expect(x.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const text = await x.text();
    expect(text.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    expect(xml.parse(text).service_requests.request[0].service_request_id).toBe('A&B');
  });

  it('renders Open311Error as the errors list with its status, in the asked format', async () => {
    const run = () => {
      throw new Open311Error(403, 'Invalid api_key');
    };
    const j = await handle(req(), 'requests.json', null, run);
    expect(j.status).toBe(403);
    expect(await j.json()).toEqual([{ code: 403, description: 'Invalid api_key' }]);
    const x = await handle(req(), 'requests.xml', null, run);
    expect(x.status).toBe(403);
    expect(xml.parse(await x.text()).errors.error).toEqual([{ code: '403', description: 'Invalid api_key' }]);
  });

  it('answers 404 (JSON errors) for a missing or unknown format and a wrong resource name', async () => {
    const run = () => ({ status: 200, root: 'services' as const, body: [] });
    for (const f of ['services', 'services.html']) {
      const r = await handle(req('en'), f, null, run);
      expect(r.status).toBe(404);
      expect((await r.json())[0].description).toMatch(/\.json or \.xml/);
    }
    expect((await handle(req(), 'services.json', 'requests', run)).status).toBe(404);
  });

  it('hides unexpected errors behind a 500 in the spec shape, and logs them', async () => {
    const logged: unknown[] = [];
    const r = await handle(
      req('en'),
      'services.xml',
      null,
      () => {
        throw new Error('db down: password=xyz');
      },
      { error: (o) => logged.push(o) },
    );
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toContain('xyz');
    expect(xml.parse(text).errors.error[0].description).toBe('Internal error.');
    expect(logged).toHaveLength(1);
  });
});

describe('readPost', () => {
  const postReq = (body: BodyInit, type: string, query = '') =>
    new Request(`http://h/open311/v2/requests.json${query}`, {
      method: 'POST',
      body,
      headers: { 'content-type': type },
    });

  it('reads form-encoded fields and attributes', async () => {
    const r = await readPost(
      postReq(
        'api_key=k&service_code=a&attribute%5Bx%5D=1&attribute[y][]=2&attribute[y][]=3',
        'application/x-www-form-urlencoded; charset=utf-8',
      ),
      'en',
    );
    expect(r).toEqual({ fields: { api_key: 'k', service_code: 'a' }, attributes: { x: '1', y: ['2', '3'] } });
  });

  it('reads JSON, with attributes as an object or as attribute[code] keys, numbers as strings', async () => {
    const r = await readPost(
      postReq(
        JSON.stringify({
          api_key: 'k',
          lat: 39.5,
          long: 117.5,
          attribute: { x: 1, y: ['a', 'b'] },
          'attribute[z]': 'q',
          n: null,
        }),
        'application/json',
      ),
      'en',
    );
    expect(r).toEqual({
      fields: { api_key: 'k', lat: '39.5', long: '117.5' },
      attributes: { x: '1', y: ['a', 'b'], z: 'q' },
    });
  });

  it('reads multipart forms', async () => {
    const fd = new FormData();
    fd.append('api_key', 'k');
    fd.append('attribute[x]', 'v');
    const r = await readPost(new Request('http://h/x', { method: 'POST', body: fd }), 'en');
    expect(r).toEqual({ fields: { api_key: 'k' }, attributes: { x: 'v' } });
  });

  it('takes api_key from the query string when the body has none', async () => {
    const r = await readPost(
      postReq('service_code=a', 'application/x-www-form-urlencoded', '?api_key=q&service_code=b'),
      'en',
    );
    expect(r.fields).toEqual({ api_key: 'q', service_code: 'a' });
  });

  it('refuses bad JSON and oversized bodies with 400', async () => {
    for (const [body, type] of [
      ['{nope', 'application/json'],
      ['[1]', 'application/json'],
      ['x='.padEnd(70_000, 'a'), 'application/x-www-form-urlencoded'],
    ]) {
      const e = await readPost(postReq(body, type), 'en').catch((x) => x);
      expect(e).toBeInstanceOf(Open311Error);
      expect(e.status).toBe(400);
    }
  });
});

describe('publicOrigin', () => {
  it('uses http and the Host header unless a proxy says otherwise', () => {
    const url = new URL('https://127.0.0.1:3000/open311/v2/discovery.json'); // adapter-node's https default
    const r = (h: Record<string, string>) => new Request(url, { headers: h });
    expect(publicOrigin(r({ host: '127.0.0.1:3000' }), url)).toBe('http://127.0.0.1:3000');
    expect(publicOrigin(r({ host: 'a', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'city.gov, x' }), url)).toBe(
      'https://city.gov',
    );
    expect(publicOrigin(r({ host: 'a', 'x-forwarded-proto': 'javascript' }), url)).toBe('http://a');
  });
});
