// The wall's video player in Chromium against the real relay: the passthrough tile plays (MSE, the video's
// time advances) and the JSMpeg tile draws (canvas pixels not all black).
import { build } from 'esbuild';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { build as viteBuild } from 'vite';
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
let tileDir: string;

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
  // The Svelte tile itself, compiled by Vite with the Svelte plugin (runes in .svelte and .svelte.ts).
  tileDir = mkdtempSync(join(tmpdir(), 'onegrid-tile-'));
  await viteBuild({
    configFile: false,
    logLevel: 'silent',
    plugins: [svelte()],
    build: {
      outDir: tileDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: {
        input: join(here, 'fixtures/tile-page.ts'),
        output: { entryFileNames: 'tile.js', chunkFileNames: '[name].js' },
      },
    },
  });
  const html = (script: string, module = false) =>
    `<!doctype html><meta charset="utf-8"><body style="background:#111"><script ${module ? 'type="module" ' : ''}src="${script}"></script></body>`;
  rtsp = await startRtspServer();
  h = await startRelay(
    {
      cam: { rtsp: rtsp.url('h264-360') },
      mj: { rtsp: rtsp.url('mjpeg') },
      dead: { rtsp: 'rtsp://admin:s3cret@127.0.0.1:1/none' },
    },
    { backoffInitialMs: 60_000 },
    (req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html('/page.js'));
        return true;
      }
      if (req.url === '/page.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(Buffer.from(js));
        return true;
      }
      if (req.url === '/tile') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(html('/tile/tile.js', true));
        return true;
      }
      const m = /^\/tile\/([\w.-]+\.(js|css))$/.exec(req.url ?? '');
      if (m) {
        try {
          const body = readFileSync(join(tileDir, m[1]));
          res.writeHead(200, { 'content-type': m[2] === 'js' ? 'text/javascript' : 'text/css' }).end(body);
        } catch {
          res.writeHead(404).end();
        }
        return true;
      }
      return false;
    },
  );
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
  if (tileDir) rmSync(tileDir, { recursive: true, force: true });
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

  it('the Svelte VideoTile shows live video with its state, and a failed camera with its reason', async () => {
    const p = await browser.newPage();
    try {
      await p.goto(`http://127.0.0.1:${h.port}/tile`);
      await p.waitForFunction(() => typeof (window as any).mountTile === 'function');
      await p.evaluate(() => (window as any).mountTile('cam', '东门路口'));
      await p.evaluate(() => (window as any).mountTile('dead', '北门'));
      await p.waitForSelector('#tile-cam .tile[data-phase="live"]', { timeout: 20_000 });
      expect(await p.textContent('#tile-cam .state')).toBe('实时');
      // one language at a time: no English tooltip beside the Chinese state (issue 13)
      expect(await p.getAttribute('#tile-cam .state', 'title')).toBeNull();
      expect(await p.textContent('#tile-cam .name')).toBe('东门路口');
      const t1 = await p.evaluate(() => document.querySelector<HTMLVideoElement>('#tile-cam video')!.currentTime);
      await p.waitForTimeout(1_500);
      const t2 = await p.evaluate(() => document.querySelector<HTMLVideoElement>('#tile-cam video')!.currentTime);
      expect(t2 - t1).toBeGreaterThan(0.8);
      await p.waitForSelector('#tile-dead .tile[data-phase="failed"]', { timeout: 10_000 });
      expect(await p.textContent('#tile-dead .state')).toBe('故障');
      const reason = (await p.textContent('#tile-dead .reason')) ?? '';
      expect(reason).toMatch(/refused/i);
      expect(await p.content()).not.toContain('s3cret');
    } finally {
      await p.close();
    }
  });
});
