import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';
import { launchChromium, artifactPath } from '../harness/browser.ts';

let platform: PlatformHandle;
let browser: Browser;

beforeAll(async () => {
  platform = await startPlatformProcess({ demo: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('the wall (Chromium)', () => {
  it('signs in and draws the grids on the canvas', async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(platform.url + '/');
    await page.waitForURL(/\/login$/);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(platform.url + '/');
    await page.waitForSelector('.map[data-status=ready]', { timeout: 60_000 });
    await expect.poll(async () => page.textContent('[data-testid=grid-count]')).toBe('992');
    // Pixels, not DOM: the WebGL canvas must hold grid fill colours, not only the background.
    const stats = await page.evaluate(() => {
      const c = document.querySelector('.map canvas') as HTMLCanvasElement;
      const w = 400;
      const h = 300;
      const off = document.createElement('canvas');
      off.width = w;
      off.height = h;
      const ctx = off.getContext('2d')!;
      ctx.drawImage(c, 0, 0, w, h);
      const px = ctx.getImageData(0, 0, w, h).data;
      let background = 0;
      let drawn = 0;
      for (let i = 0; i < px.length; i += 4) {
        const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
        if (Math.abs(r - 7) < 6 && Math.abs(g - 16) < 6 && Math.abs(b - 31) < 6) background++;
        else if (b > r + 20) drawn++; // blue-ish grid fill and boundaries
      }
      return { background, drawn, total: w * h };
    });
    expect(stats.drawn / stats.total).toBeGreaterThan(0.15);
    expect(stats.background).toBeGreaterThan(0);
    await page.screenshot({ path: artifactPath('wall-1920x1080.png') });
    await page.close();
  });

  it('refuses the API without a session and with a wrong password', async () => {
    const r = await fetch(platform.url + '/api/grids?level=2');
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe('unauthorized');
    const bad = await fetch(platform.url + '/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'nope-nope' }),
    });
    expect(bad.status).toBe(401);
  });
});
