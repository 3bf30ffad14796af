// The wall's video player in Chromium against the real relay: the passthrough tile plays (MSE, the video's
// time advances) and the JSMpeg tile draws (canvas pixels not all black).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRtspServer, type RtspServer } from '../harness/rtsp.ts';
import { startRelay, type RelayHarness } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));

let rtsp: RtspServer;
let h: RelayHarness;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(here, 'fixtures/page.ts')],
    bundle: true,
    format: 'iife',
    write: false,
    target: 'es2022',
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0].contents;
  rtsp = await startRtspServer();
  h = await startRelay({ cam: { rtsp: rtsp.url('h264-360') }, mj: { rtsp: rtsp.url('mjpeg') } }, {}, (req, res) => {
    if (req.url === '/') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><body style="background:#111"><script src="/page.js"></script></body>');
      return true;
    }
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(Buffer.from(js));
      return true;
    }
    return false;
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${h.port}/`);
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await rtsp?.stop();
});

describe('video tile in Chromium', () => {
  it('plays a passthrough camera through MSE: video time advances', async () => {
    // Debian's chromium does ship H.264 (ffmpeg-based proprietary codecs); were it not so, the player would
    // fall back to ?mode=mpeg1 and this test would fail rather than pass on a faked path.
    expect(await page.evaluate(() => (window as unknown as { canPlayH264(): boolean }).canPlayH264())).toBe(true);
    await page.evaluate(() => (window as unknown as { startTile(id: string): void }).startTile('cam'));
    const t = () =>
      page.evaluate(
        () =>
          (window as unknown as { tiles: Record<string, { player: { video: HTMLVideoElement } }> }).tiles.cam.player
            .video.currentTime,
      );
    await page.waitForFunction(() => (window as any).tiles.cam.player.video.currentTime > 0.2, null, {
      timeout: 20_000,
    });
    const t1 = await t();
    await page.waitForTimeout(2_000);
    const t2 = await t();
    expect(t2 - t1).toBeGreaterThan(1.2);
    const statuses = await page.evaluate(() =>
      (window as any).tiles.cam.statuses.map((s: { phase: string }) => s.phase),
    );
    expect(statuses).toContain('live');
    const size = await page.evaluate(() => {
      const v = (window as any).tiles.cam.player.video as HTMLVideoElement;
      return [v.videoWidth, v.videoHeight];
    });
    expect(size).toEqual([640, 360]);
  });

  it('draws a JSMpeg tile for a non-H.264 camera: canvas pixels are not all black', async () => {
    await page.evaluate(() => (window as any).startTile('mj'));
    await page.waitForFunction(
      () => (window as any).tiles.mj.statuses.some((s: { phase: string }) => s.phase === 'live'),
      null,
      {
        timeout: 20_000,
      },
    );
    await page.waitForTimeout(500);
    const lit = await page.evaluate(() => {
      const src = (window as any).tiles.mj.player.canvas as HTMLCanvasElement;
      const c = document.createElement('canvas');
      c.width = src.width;
      c.height = src.height;
      const g = c.getContext('2d')!;
      g.drawImage(src, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let bright = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 120) bright++;
      return { bright, total: px.length / 4, w: c.width, h: c.height };
    });
    expect(lit.w).toBe(640);
    expect(lit.bright / lit.total).toBeGreaterThan(0.2); // SMPTE bars: mostly bright
  });
});
