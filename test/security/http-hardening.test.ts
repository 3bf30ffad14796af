/**
 * Finding 8: security headers and CSP, no-store on the API, U+0000 → 400, oversize bodies → 413 JSON,
 * unknown API paths → JSON 404, /metrics not anonymous, DATA_DIR 0700 / files 0600, no camera address in
 * browser-facing errors, bidi controls stripped from titles and names.
 */
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../ingest/store/db.ts';
import { secureDataDir } from '../../ingest/store/datadir.ts';
import { redactForBrowser } from '../../ingest/video/redact.ts';
import { openSocket, startFixture, waitFor, type Fixture } from './helpers.ts';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';
let f: Fixture;

beforeAll(async () => {
  f = await startFixture({
    METRICS_TOKEN,
    CSP_EXTRA_ORIGINS: 'https://tiles.intranet.example',
    PUBLIC_BASEMAP_STYLE: 'https://style.intranet.example:8443/styles/dark.json',
  });
}, 300_000);

afterAll(async () => {
  if (process.env.SEC_DEBUG) console.log(f?.p.output());
  await f?.stop();
});

describe('headers', () => {
  it('pages carry a CSP with frame-ancestors none and the other security headers; no HSTS over plain HTTP', async () => {
    const r = await fetch(`${f.p.url}/login`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(/script-src 'self'[^;]*'nonce-/);
    // The intranet basemap's origins may serve tiles, styles, glyphs and sprites — nothing else.
    const directive = (name: string) => csp.split(';').find((d) => d.trim().startsWith(name + ' ')) ?? '';
    for (const d of ['connect-src', 'img-src', 'font-src']) {
      expect(directive(d)).toContain('https://tiles.intranet.example');
      expect(directive(d)).toContain('https://style.intranet.example:8443');
    }
    expect(directive('script-src')).not.toContain('intranet');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('referrer-policy')).toBe('same-origin');
    expect(r.headers.get('permissions-policy')).toContain('camera=()');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('strict-transport-security')).toBeNull();
  });

  it('HSTS only when the request came over HTTPS (X-Forwarded-Proto of the TLS proxy)', async () => {
    const r = await fetch(`${f.p.url}/login`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
  });

  it('API answers are never cached', async () => {
    for (const p of ['/api/me', '/api/grids?level=2', '/api/devices?limit=1', '/api/events/heat', '/api/nope']) {
      const r = await f.http('GET', p, f.admin);
      expect(r.headers.get('cache-control'), p).toBe('no-store');
    }
  });
});

describe('bad requests', () => {
  it('a U+0000 anywhere (path, query, JSON field, form field) is 400 bad_request, never 500', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', '/api/cases?q=a%00b'],
      ['GET', '/api/devices?grid=%00'],
      ['GET', '/api/devices/ab%00c'],
      ['GET', '/api/cases?category=%00'],
      [
        'POST',
        '/api/cases',
        { title: 'a\u0000b', category: 'fire.fire_alarm', location: [117.2, 39.1], source: 'hotline' },
      ],
      ['POST', '/api/session', { username: 'admin\u0000', password: 'x' }],
      ['POST', '/api/devices', { id: 'x', kind: 'smoke', name: { 'k\u0000': 1 } }],
    ];
    for (const [m, p, body] of cases) {
      const r = await f.http(m, p, f.admin, body);
      expect(r.status, `${m} ${p}`).toBe(400);
      expect(r.body.error.code, `${m} ${p}`).toBe('bad_request');
    }
    const form = await fetch(`${f.p.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: f.p.url },
      body: 'username=ad%00min&password=x',
    });
    expect(form.status).toBe(400);
    const fd = new FormData();
    fd.set('service_code', 'x');
    fd.set('description', 'a\u0000b');
    const multi = await fetch(`${f.p.url}/open311/v2/requests.json`, { method: 'POST', body: fd });
    expect(multi.status).toBe(400);
  });

  it('a body over the limit is 413 payload_too_large in the JSON error format', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024), category: 'fire.fire_alarm' });
    const r = await f.http('POST', '/api/cases', f.admin, JSON.parse(big));
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
  });

  it('unknown /api paths answer a JSON 404', async () => {
    for (const m of ['GET', 'POST']) {
      const r = await f.http(m, '/api/no/such/thing', f.admin, m === 'POST' ? {} : undefined);
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/json');
      expect(r.body.error.code).toBe('not_found');
    }
  });
});

describe('/metrics', () => {
  it('is not anonymous: the METRICS_TOKEN bearer or an admin session', async () => {
    expect((await fetch(`${f.p.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${f.p.url}/metrics`, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    const viewer = await f.user({ username: 'm-viewer', role: 'viewer' });
    expect((await fetch(`${f.p.url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } })).status).toBe(403);
    for (const t of [METRICS_TOKEN, f.admin]) {
      const r = await fetch(`${f.p.url}/metrics`, { headers: { authorization: `Bearer ${t}` } });
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(/^onegrid_/m);
    }
  });
});

describe('camera addresses', () => {
  it('never reach a browser: snapshot errors and video state messages', async () => {
    const id = 'sec-cam-redact';
    const rtsp = 'rtsp://operator:s3cret@127.0.0.1:9/hidden/path-77?channel=2';
    expect(
      (await f.http('POST', '/api/devices', f.admin, { id, kind: 'camera', location: [117.2, 39.12], rtsp })).status,
    ).toBe(201);
    const snap = await f.http('GET', `/api/cameras/${id}/snapshot`, f.admin);
    expect(snap.status).toBe(422);
    const text = JSON.stringify(snap.body);
    for (const part of ['127.0.0.1', 'hidden', 'path-77', 's3cret', 'operator', 'channel'])
      expect(text).not.toContain(part);
    const s = await openSocket(`${f.p.url.replace('http', 'ws')}/video/${id}`, { authorization: `Bearer ${f.admin}` });
    const failed = await waitFor(() => s.messages.find((m) => m.type === 'state' && m.state === 'failed'), 30_000);
    for (const part of ['127.0.0.1', 'hidden', 'path-77', 's3cret']) expect(JSON.stringify(failed)).not.toContain(part);
    s.ws.close();
    expect(redactForBrowser('Connection to tcp://cam.example.org:554?timeout=5 failed')).toBe(
      'Connection to [camera] failed',
    );
    expect(redactForBrowser('[rtsp @ 0x1] method DESCRIBE failed: 10.1.2.3:554 404')).not.toContain('10.1.2.3');
  }, 60_000);
});

describe('bidi controls', () => {
  it('are stripped from case titles and device names on input', async () => {
    const c = await f.http('POST', '/api/cases', f.admin, {
      title: 'Fire \u202Eenod\u202C at \u2066gate\u2069\u200F',
      description: 'x\u202Dy',
      category: 'fire.fire_alarm',
      location: [117.2, 39.1],
      source: 'hotline',
    });
    expect(c.status).toBe(201);
    expect(c.body.title).toBe('Fire enod at gate');
    expect(c.body.description).toBe('xy');
    const d = await f.http('POST', '/api/devices', f.admin, {
      id: 'sec-bidi-1',
      kind: 'smoke',
      name: 'smoke\u202E1',
      location: [117.2, 39.1],
    });
    expect(d.status).toBe(201);
    expect(d.body.name).toBe('smoke1');
  });
});

// Last: it runs in this process for a while, and the platform's idle keep-alive sockets would time out.
describe('DATA_DIR', () => {
  it('is created 0700 with files 0600, and an existing one is tightened', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'onegrid-perm-'));
    const dir = path.join(root, 'data');
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(path.join(dir, 'rules.json'), '{}');
    chmodSync(path.join(dir, 'rules.json'), 0o644);
    const umask = process.umask();
    try {
      const db = await openPglite(dir);
      await db.query('CREATE TABLE t (x int)');
      await db.close();
      writeFileSync(path.join(dir, 'later.txt'), 'x'); // written after: owner-only by the umask
      const bad: string[] = [];
      const walk = (p: string) => {
        const st = statSync(p);
        if (st.isDirectory()) {
          if ((st.mode & 0o777) !== 0o700) bad.push(`${p} ${(st.mode & 0o777).toString(8)}`);
          for (const n of readdirSync(p)) walk(path.join(p, n));
        } else if ((st.mode & 0o077) !== 0) bad.push(`${p} ${(st.mode & 0o777).toString(8)}`);
      };
      walk(dir);
      expect(bad).toEqual([]);
      expect(secureDataDir(dir)).toBe(path.resolve(dir));
    } finally {
      process.umask(umask);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
