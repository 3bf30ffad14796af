/**
 * Finding 8, CSP: the pages (login, the wall with maplibre workers and deck.gl/WebGL, /cases, /devices with
 * its charts, the grid studio /grids (maplibre, terra-draw), /video with MSE and JSMpeg tiles over the
 * relay's WebSockets) work in Chromium under the Content-Security-Policy of svelte.config.js with no
 * `securitypolicyviolation` and no CSP console error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../harness/browser.ts';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';
import { startRtspServer, type RtspServer } from '../harness/rtsp.ts';

let platform: PlatformHandle;
let browser: Browser;
let rtsp: RtspServer;

beforeAll(async () => {
  rtsp = await startRtspServer();
  platform = await startPlatformProcess({ demo: true });
  const token = await platform.login();
  for (const [id, mount, location] of [
    ['csp-cam-h264', 'h264-360', [117.2, 39.12]],
    ['csp-cam-mjpeg', 'mjpeg', [117.201, 39.121]],
  ] as const) {
    const r = await fetch(`${platform.url}/api/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id, kind: 'camera', location, rtsp: rtsp.url(mount) }),
    });
    expect(r.status).toBe(201);
  }
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await rtsp?.stop();
});

describe('CSP in Chromium', { timeout: 240_000 }, () => {
  it('the login, wall, cases, devices, grid studio and video pages run with no CSP violation', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    await ctx.addInitScript(() => {
      localStorage.setItem('og.video.wall', JSON.stringify({ layout: 4, slots: ['csp-cam-h264', 'csp-cam-mjpeg'] }));
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
      );
    });
    const problems: string[] = [];
    const watch = (page: Page) => {
      page.on('console', (m) => {
        if (m.type() === 'error' && /content security policy|refused to/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    };
    const page = await ctx.newPage();
    watch(page);
    const violations = async () => (await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)) ?? [];
    const seen: string[] = [];

    await page.goto(platform.url + '/login');
    const csp = (await page.request.get(platform.url + '/login')).headers()['content-security-policy'];
    expect(csp).toContain("frame-ancestors 'none'");
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    seen.push(...(await violations()));
    await page.click('button[type=submit]');
    await page.waitForURL(platform.url + '/');
    await page.waitForSelector('.map[data-status=ready]', { timeout: 90_000 });
    await page.waitForTimeout(3000); // live feed, patrols, heatmap
    expect(await page.textContent('[data-testid=live-status]')).toContain('实时连接正常');
    seen.push(...(await violations()));

    await page.goto(platform.url + '/cases');
    await page.waitForLoadState('networkidle');
    seen.push(...(await violations()));

    await page.goto(platform.url + '/devices');
    await page.waitForLoadState('networkidle');
    seen.push(...(await violations()));

    // The grid studio: maplibre and terra-draw's layers on the studio map.
    await page.goto(platform.url + '/grids');
    await page.waitForSelector('.studio-map[data-status=ready]', { timeout: 90_000 });
    seen.push(...(await violations()));

    await page.goto(platform.url + '/video');
    // Both tiles play: H.264 through MSE (blob: media), MJPEG re-encoded for JSMpeg (WebAssembly, canvas).
    await page.waitForFunction(() => document.querySelectorAll('.tile[data-phase=live]').length >= 2, undefined, {
      timeout: 90_000,
    });
    seen.push(...(await violations()));

    expect(seen).toEqual([]);
    expect(problems).toEqual([]);
    await ctx.close();
  });
});
