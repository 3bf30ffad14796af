/**
 * axe on every page a user opens (issue 13: "axe finds no serious or critical issue on any page"), in
 * Chromium, as the user who uses it: the sign-in page signed out; /cases, /devices, /video and /admin/users as
 * the admin; the grid studio /grids as an analyst; the grid worker's app /m as a grid worker. The wall itself is checked, with its drawer, in
 * workbench-wall.test.ts (its WebGL canvas is excluded there, as here).
 */
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../harness/browser.ts';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { userToken } from '../harness/accounts.ts';
import { SESSION_COOKIE } from '../../ingest/auth/sessions.ts';

let p: PlatformHandle;
let browser: Browser;
let admin: string;
let worker: string;
let analyst: string;

beforeAll(async () => {
  [p, browser] = await Promise.all([startPlatformProcess(), launchChromium()]);
  admin = await p.login();
  worker = await userToken(p, admin, 'axe-worker', {
    role: 'gridworker',
    name: '无障碍网格员',
    scope: { grid: '120106001001001' },
  });
  analyst = await userToken(p, admin, 'axe-analyst', {
    role: 'analyst',
    name: '无障碍分析员',
    scope: { grid: '120106' },
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

async function pageAs(token: string | null): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  if (token) await ctx.addCookies([{ name: SESSION_COOKIE, value: token, url: p.url }]);
  return ctx.newPage();
}

/**
 * axe's serious and critical findings on the page at `path`, once `ready` shows; and any API request the page
 * repeated more than 3 times while opening (a page whose effect re-runs itself fetches in a loop: /video once
 * fetched its camera list ~200 times, holding its tiles back for seconds).
 */
async function seriousViolations(page: Page, path: string, ready: string): Promise<string[]> {
  const requests = new Map<string, number>();
  const count = (r: { url(): string; method(): string }) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/'))
      requests.set(
        `${r.method()} ${u.pathname}${u.search}`,
        (requests.get(`${r.method()} ${u.pathname}${u.search}`) ?? 0) + 1,
      );
  };
  page.on('request', count);
  await page.goto(`${p.url}${path}`);
  await page.waitForSelector(ready, { timeout: 60_000 });
  const r = await new AxeBuilder({ page }).exclude('.map canvas').exclude('canvas').analyze();
  page.off('request', count);
  return [
    ...r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${path}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`),
    ...[...requests].filter(([, n]) => n > 3).map(([req, n]) => `${path}: ${req} requested ${n} times while opening`),
  ];
}

describe('axe: no serious or critical issue on any page', () => {
  it('the sign-in page', async () => {
    const page = await pageAs(null);
    expect(await seriousViolations(page, '/login', 'form')).toEqual([]);
    await page.context().close();
  });

  it("/cases, /devices, /video (empty, and with a case's cameras) and /admin/users as the admin", async () => {
    const cams = (await (
      await fetch(`${p.url}/api/devices?kind=camera&limit=1`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { devices: { id: string }[] };
    const linked = `/video?cams=${cams.devices.map((d) => d.id).join(',')}`;
    const page = await pageAs(admin);
    const found: string[] = [];
    for (const path of ['/cases', '/devices', '/video', linked, '/admin/users'])
      found.push(...(await seriousViolations(page, path, 'main, h1')));
    expect(found).toEqual([]);
    await page.context().close();
  });

  it('the grid studio /grids as an analyst, with a draft open', async () => {
    const r = await fetch(`${p.url}/api/grids/drafts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analyst}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'published' }),
    });
    expect(r.status).toBe(201);
    const { draft } = (await r.json()) as { draft: { id: number } };
    const page = await pageAs(analyst);
    expect(
      await seriousViolations(page, `/grids?draft=${draft.id}`, '.studio-map[data-status=ready][data-grids]'),
    ).toEqual([]);
    await page.context().close();
  });

  it('the grid worker app /m as a grid worker, on a phone', async () => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true });
    await ctx.addCookies([{ name: SESSION_COOKIE, value: worker, url: p.url }]);
    const page = await ctx.newPage();
    // The app's settled home view: `main[data-ready]` once it knows who is signed in. (It waited for 'main, h1'
    // before, which only the sign-in form had: when /api/me answered before the wait began, the home view
    // replaced the form and nothing matched until the 60 s limit.)
    expect(await seriousViolations(page, '/m', 'main[data-ready] [data-testid=report]')).toEqual([]);
    await ctx.close();
  });
});
