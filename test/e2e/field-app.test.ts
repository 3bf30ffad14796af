/**
 * The grid worker's app (/m) in Chromium as a phone (360×780, touch, geolocation), against the whole
 * platform: a report made offline waits in the outbox (counter shown), survives closing and reopening the
 * app while offline (service worker + IndexedDB), and is delivered exactly once after reconnecting; an
 * on-site check away from the case is refused without an override and goes through with one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Polygon } from 'geojson';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { launchChromium, artifactPath } from '../harness/browser.ts';
import { dataDirWithUsers, FIELD_PW } from '../field/users.ts';

const GRID1 = '120106001001001';
const ring = (
  JSON.parse(readFileSync('geo-data/sample/grids.geojson', 'utf8')) as {
    features: { properties: { code: string }; geometry: Polygon }[];
  }
).features.find((f) => f.properties.code === GRID1)!.geometry.coordinates[0];
const INSIDE: [number, number] = [
  ring.slice(0, -1).reduce((s, p) => s + p[0], 0) / (ring.length - 1),
  ring.slice(0, -1).reduce((s, p) => s + p[1], 0) / (ring.length - 1),
];

let p: PlatformHandle;
let dataDir: string;
let browser: Browser;
const tok: Record<string, string> = {};

async function api(method: string, url: string, who: string, body?: unknown) {
  const r = await fetch(p.url + url, {
    method,
    headers: { authorization: `Bearer ${tok[who]}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as any };
}

async function phone(at: [number, number]): Promise<BrowserContext> {
  return browser.newContext({
    viewport: { width: 360, height: 780 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    locale: 'zh-CN',
    geolocation: { longitude: at[0], latitude: at[1], accuracy: 8 },
    permissions: ['geolocation'],
  });
}

async function signIn(ctx: BrowserContext, username: string): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.stack));
  await page.goto(`${p.url}/m`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', FIELD_PW);
  await page.getByRole('button', { name: '登录' }).last().tap();
  await page.getByTestId('report').waitFor();
  // The service worker has the app before we rely on it offline.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  return page;
}

const pending = (page: Page) => page.getByTestId('pending-count').textContent();

beforeAll(async () => {
  dataDir = await dataDirWithUsers([
    ['fe-one', 'gridworker', GRID1],
    ['fe-check', 'gridworker', '120106001001'],
    ['fe-dispatch', 'dispatcher', null],
  ]);
  p = await startPlatformProcess({ dataDir });
  for (const u of ['fe-one', 'fe-check', 'fe-dispatch']) tok[u] = await p.login(u, FIELD_PW);
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the grid worker app offline', () => {
  it('a report made offline survives closing the app and is delivered once after reconnecting', async () => {
    const ctx = await phone(INSIDE);
    let page = await signIn(ctx, 'fe-one');
    // Icons are inline SVG beside their text labels, no emoji (Debian's Chromium has no emoji font: boxes).
    expect(await page.locator('[data-testid=report] svg[data-icon=camera]').count()).toBe(1);
    await expect.poll(() => page.getByRole('button', { name: '一键上报' }).count()).toBe(1);
    expect(await page.locator('body').innerText()).not.toMatch(/\p{Extended_Pictographic}/u);
    await ctx.setOffline(true);
    await expect.poll(() => page.getByTestId('net').textContent()).toBe('离线');

    // Three taps: 一键上报 → category → 提交 (the photo is the camera's).
    await page.getByTestId('report').tap();
    await page.locator('[data-category="city_appearance.exposed_garbage"]').tap();
    await page.getByTestId('photo-input').setInputFiles({
      name: 'p.jpg',
      mimeType: 'image/jpeg',
      buffer: await sharp({ create: { width: 800, height: 600, channels: 3, background: '#a52' } })
        .jpeg()
        .toBuffer(),
    });
    await expect.poll(() => page.locator('.file').first().textContent()).toContain('(1)');
    await page.getByTestId('submit').tap();
    await expect.poll(() => pending(page)).toBe('1');
    await page.screenshot({ path: artifactPath('field-offline-pending.png') });

    // Closed and opened again, still offline: the app comes from the service worker, the record from IndexedDB.
    await page.close();
    page = await ctx.newPage();
    await page.goto(`${p.url}/m`);
    await page.getByTestId('report').waitFor();
    await expect.poll(() => pending(page)).toBe('1');

    await ctx.setOffline(false);
    await expect.poll(() => pending(page), { timeout: 60_000 }).toBe('0');
    const list = await api('GET', '/api/cases?source=patrol&limit=50', 'fe-dispatch');
    const mine = list.body.cases.filter((c: { category: string }) => c.category === 'city_appearance.exposed_garbage');
    expect(mine).toHaveLength(1);
    const ev = await api('GET', `/api/cases/${mine[0].id}/evidence`, 'fe-dispatch');
    expect(ev.body.evidence).toHaveLength(2);
    await ctx.close();
  }, 240_000);

  it('a check away from the case is refused without an override, and passes with one', async () => {
    // A case handled by fe-one, to be checked by fe-check.
    const made = await api('POST', '/api/field/actions', 'fe-one', {
      key: randomUUID(),
      kind: 'report',
      category: 'city_appearance.graffiti',
      location: INSIDE,
      text: '乱涂乱画 e2e',
    });
    let c = made.body.case;
    c = (
      await api('POST', `/api/cases/${c.id}/actions`, 'fe-dispatch', {
        action: 'register',
        version: c.version,
        category: c.category,
        priority: 3,
      })
    ).body;
    c = (
      await api('POST', `/api/cases/${c.id}/actions`, 'fe-dispatch', {
        action: 'dispatch',
        version: c.version,
        to: { kind: 'user', id: 'fe-one' },
      })
    ).body;
    c = (
      await api('POST', '/api/field/actions', 'fe-one', {
        key: randomUUID(),
        kind: 'claim',
        caseId: c.id,
        version: c.version,
      })
    ).body.case;
    c = (
      await api('POST', '/api/field/actions', 'fe-one', {
        key: randomUUID(),
        kind: 'handle',
        caseId: c.id,
        version: c.version,
        result: '已清除',
      })
    ).body.case;
    expect(c.state).toBe('handled');

    // The checker stands 800 m away.
    const ctx = await phone([INSIDE[0] + 0.0093, INSIDE[1]]);
    const page = await signIn(ctx, 'fe-check');
    await page.getByTestId('task').filter({ hasText: c.code }).first().tap();
    await page.getByTestId('case-photo').setInputFiles({
      name: 'c.jpg',
      mimeType: 'image/jpeg',
      buffer: await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a5' } })
        .jpeg()
        .toBuffer(),
    });
    await page.getByTestId('verify-pass').tap();
    await page.getByTestId('pending').tap();
    await expect
      .poll(() => page.getByTestId('refused').first().textContent(), { timeout: 30_000 })
      .toContain('距离案件太远');
    expect((await api('GET', `/api/cases/${c.id}`, 'fe-dispatch')).body.state).toBe('handled');

    // With a reason, recorded in the trail.
    await page.getByRole('button', { name: /返回/ }).tap();
    await page.getByTestId('task').filter({ hasText: c.code }).first().tap();
    await page.getByTestId('override').fill('道路封闭，隔街核查');
    await page.getByTestId('verify-pass').tap();
    await expect
      .poll(async () => (await api('GET', `/api/cases/${c.id}`, 'fe-dispatch')).body.state, { timeout: 30_000 })
      .toBe('closed');
    const trail = await api('GET', `/api/cases/${c.id}/trail`, 'fe-dispatch');
    const v = trail.body.entries.find((e: { action: string }) => e.action === 'verify');
    expect(v.data.onSite.override).toBe('道路封闭，隔街核查');
    expect(v.data.onSite.distanceM).toBeGreaterThan(700);
    await ctx.close();
  }, 240_000);
});
