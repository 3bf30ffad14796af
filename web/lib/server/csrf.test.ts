import { describe, expect, it } from 'vitest';
import { csrfRefusal } from './csrf.ts';

const at = (path: string, init: { method?: string; type?: string; origin?: string; accept?: string } = {}) => {
  const url = new URL(`https://city.example${path}`);
  const headers: Record<string, string> = {};
  if (init.type) headers['content-type'] = init.type;
  if (init.origin) headers.origin = init.origin;
  if (init.accept) headers.accept = init.accept;
  const method = init.method ?? 'POST';
  return csrfRefusal(new Request(url, { method, headers, body: method === 'GET' ? undefined : 'x=1' }), url);
};

describe('csrfRefusal', () => {
  it('refuses cross-site and origin-less form posts, as SvelteKit does', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain;charset=utf-8',
    ]) {
      expect(at('/api/session', { type })?.status, type).toBe(403);
      expect(at('/api/session', { type, origin: 'https://evil.example' })?.status).toBe(403);
    }
    for (const method of ['PUT', 'PATCH', 'DELETE'])
      expect(at('/api/x', { method, type: 'application/x-www-form-urlencoded' })?.status).toBe(403);
    const r = at('/api/session', { type: 'text/plain', accept: 'application/json' })!;
    expect(await r.json()).toEqual({ message: 'Cross-site POST form submissions are forbidden' });
  });

  it('lets same-origin forms, JSON, GET and Open311 through', () => {
    expect(
      at('/api/session', { type: 'application/x-www-form-urlencoded', origin: 'https://city.example' }),
    ).toBeNull();
    expect(at('/api/session', { type: 'application/json' })).toBeNull();
    expect(at('/api/session', { method: 'GET', type: 'application/x-www-form-urlencoded' })).toBeNull();
    expect(at('/open311/v2/requests.json', { type: 'application/x-www-form-urlencoded' })).toBeNull();
    expect(
      at('/open311/v2/requests.xml', { type: 'multipart/form-data; boundary=x', origin: 'https://app.example' }),
    ).toBeNull();
    expect(at('/open3110/x', { type: 'application/x-www-form-urlencoded' })?.status).toBe(403);
  });
});
