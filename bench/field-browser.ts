/**
 * The grid worker app's figures in headless Chromium (Debian's, test/harness/browser.ts) against the whole
 * platform (`node bin/onegrid.js start --no-build`, the built app in build/: run `npx vite build` first), a
 * grid worker signed in on a 360×780 phone with touch and geolocation — the same set-up as
 * test/e2e/field-app.test.ts. Used by bench/field.ts.
 *
 * (a) Saving a report with three 12-megapixel JPEGs offline (4000×3000, gradient + noise, EXIF time and GPS,
 *     made by sharp): the app's own time from the photos being chosen to the outbox write — the reading of
 *     the photos (`field:photos-chosen` → `field:photos-ready`) plus the tap on 提交 to the record written
 *     (`field:submit` → `field:saved`), performance marks set by the app; the test's own think time and the
 *     transfer of the files into the browser are not counted. Median of RUNS reports. Goal ≤ 1 s.
 * (b) Outbox drain: 50 reports (one photo each: a photo the app compressed in (a), made distinct per report)
 *     written into the app's IndexedDB outbox, the app reopened offline, the network switched on: seconds until
 *     the counter shows 0, and the cases the server then holds. Goal ≤ 30 s.
 * (c) Photo size after the background compression (≤ 500 KB), and its ratio to the original.
 */
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import type { Browser, Page } from 'playwright-core';
import type { Polygon } from 'geojson';
import sharp from 'sharp';
import { startPlatformProcess, type PlatformHandle } from '../test/harness/platform.ts';
import { launchChromium } from '../test/harness/browser.ts';
import { dataDirWithUsers, FIELD_PW } from '../test/field/users.ts';

const GRID1 = '120106001001001';
const RUNS = 3;
const DRAIN = 50;

export interface BrowserFigures {
  saveMs: number;
  tapToSavedMs: number;
  compressMs: number;
  originalBytes: number;
  compressedBytes: number;
  compressedBytesMax: number;
  drainS: number;
  drainedCases: number;
  notes: string[];
}

function inside(): [number, number] {
  const fc = JSON.parse(readFileSync('geo-data/sample/grids.geojson', 'utf8')) as {
    features: { properties: { code: string }; geometry: Polygon }[];
  };
  const ring = fc.features.find((f) => f.properties.code === GRID1)!.geometry.coordinates[0].slice(0, -1);
  return [ring.reduce((s, p) => s + p[0], 0) / ring.length, ring.reduce((s, p) => s + p[1], 0) / ring.length];
}

const dms = (v: number) => {
  const d = Math.floor(v);
  const m = Math.floor((v - d) * 60);
  const s = Math.round(((v - d) * 60 - m) * 60 * 10000);
  return `${d}/1 ${m}/1 ${s}/10000`;
};

/** A camera-like JPEG: a colour gradient with sensor-like noise, quality 92, EXIF time and GPS. */
export async function cameraJpeg(width: number, height: number, seed: number, at: [number, number]): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let x = seed * 2654435761;
  for (let y = 0, i = 0; y < height; y++)
    for (let c = 0; c < width; c++, i += 3) {
      x = (x * 1103515245 + 12345) >>> 0;
      const n = ((x >>> 16) & 31) - 16;
      px[i] = Math.max(0, Math.min(255, (c * 255) / width + n));
      px[i + 1] = Math.max(0, Math.min(255, (y * 255) / height + n));
      px[i + 2] = Math.max(0, Math.min(255, 128 + ((seed * 40) % 100) - 50 + n));
    }
  return sharp(px, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92 })
    .withExif({
      IFD0: { Make: 'OneGrid', Model: 'bench phone' },
      IFD2: { DateTimeOriginal: '2026:11:29 10:00:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: dms(at[1]), GPSLongitudeRef: 'E', GPSLongitude: dms(at[0]) },
    })
    .toBuffer();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function marks(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const m of performance.getEntriesByType('mark')) out[m.name] = m.startTime;
    return out;
  });
}

export async function browserFigures(): Promise<BrowserFigures> {
  const at = inside();
  const dataDir = await dataDirWithUsers([
    ['bench-w', 'gridworker', GRID1],
    ['bench-d', 'dispatcher', null],
  ]);
  let p: PlatformHandle | null = null;
  let browser: Browser | null = null;
  try {
    p = await startPlatformProcess({ dataDir, timeoutMs: 240_000 });
    browser = await launchChromium();
    const ctx = await browser.newContext({
      viewport: { width: 360, height: 780 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
      locale: 'zh-CN',
      geolocation: { longitude: at[0], latitude: at[1], accuracy: 8 },
      permissions: ['geolocation'],
    });
    let page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.stack));
    await page.goto(`${p.url}/m`);
    await page.fill('input[name=username]', 'bench-w');
    await page.fill('input[name=password]', FIELD_PW);
    await page.getByRole('button', { name: '登录' }).last().tap();
    await page.getByTestId('report').waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const waitCount = (n: string, timeout = 120_000) =>
      page.waitForFunction((v) => document.querySelector('[data-testid=pending-count]')?.textContent === v, n, {
        polling: 'raf',
        timeout,
      });

    // (a) three 12-megapixel photos, offline.
    const photos = await Promise.all([1, 2, 3].map((k) => cameraJpeg(4000, 3000, k, at)));
    const originalBytes = Math.round(photos.reduce((s, b) => s + b.length, 0) / photos.length);
    await ctx.setOffline(true);
    await page.waitForFunction(() => document.querySelector('[data-testid=net]')?.textContent === '离线');
    const save: number[] = [];
    const tap: number[] = [];
    const compress: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await page.evaluate(() => performance.clearMarks());
      await page.getByTestId('report').tap();
      await page.locator('[data-category="city_appearance.exposed_garbage"]').tap();
      await page
        .getByTestId('photo-input')
        .setInputFiles(photos.map((buffer, k) => ({ name: `IMG_${run}${k}.jpg`, mimeType: 'image/jpeg', buffer })));
      await page.waitForFunction(() => performance.getEntriesByName('field:photos-ready').length > 0);
      await page.getByTestId('submit').tap();
      await waitCount(String(run + 1));
      await page.waitForFunction(
        () => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('field:compressed:')).length >= 3,
        undefined,
        { timeout: 300_000 },
      );
      const m = await marks(page);
      const read = m['field:photos-ready'] - m['field:photos-chosen'];
      tap.push(m['field:saved'] - m['field:submit']);
      save.push(read + tap[tap.length - 1]);
      const done = Object.entries(m)
        .filter(([k]) => k.startsWith('field:compressed:'))
        .map(([, v]) => v);
      compress.push(Math.max(...done) - m['field:saved']);
    }
    const sizes = await page.evaluate(
      () =>
        new Promise<{ size: number; original: number | null; compressed: boolean | null }[]>((ok, fail) => {
          const r = indexedDB.open('onegrid-field');
          r.onerror = () => fail(r.error);
          r.onsuccess = () => {
            const all = r.result.transaction('photos').objectStore('photos').getAll();
            all.onsuccess = () =>
              ok(
                (all.result as { blob: Blob; originalBytes?: number; compressed?: boolean }[]).map((x) => ({
                  size: x.blob.size,
                  original: x.originalBytes ?? null,
                  compressed: x.compressed ?? null,
                })),
              );
          };
        }),
    );
    if (sizes.some((s) => s.compressed !== true)) throw new Error('a photo was left uncompressed');
    // One compressed photo is kept in the page for (b): the phone's own output, not a stand-in.
    const drainPhotoBytes = await page.evaluate(
      () =>
        new Promise<number>((ok, fail) => {
          const r = indexedDB.open('onegrid-field');
          r.onerror = () => fail(r.error);
          r.onsuccess = () => {
            const all = r.result.transaction('photos').objectStore('photos').getAll();
            all.onsuccess = () => {
              const blob = (all.result[0] as { blob: Blob }).blob;
              (window as unknown as { benchPhoto: Blob }).benchPhoto = blob;
              r.result.close();
              ok(blob.size);
            };
          };
        }),
    );
    const compressedBytes = Math.round(sizes.reduce((s, x) => s + x.size, 0) / sizes.length);
    const compressedBytesMax = Math.max(...sizes.map((x) => x.size));

    // Send those, then (b): 50 reports waiting, the network switched on.
    await ctx.setOffline(false);
    await waitCount('0', 300_000);
    await ctx.setOffline(true);
    await page.evaluate(
      async ({ n, where }) => {
        const bytes = (window as unknown as { benchPhoto: Blob }).benchPhoto;
        const d = await new Promise<IDBDatabase>((ok, fail) => {
          const r = indexedDB.open('onegrid-field');
          r.onerror = () => fail(r.error);
          r.onsuccess = () => ok(r.result);
        });
        const tx = d.transaction(['outbox', 'photos'], 'readwrite');
        const now = Date.now();
        for (let i = 0; i < n; i++) {
          const id = crypto.randomUUID();
          // Bytes after the JPEG's end marker make each photo distinct (decoders ignore them).
          const blob = new Blob([bytes, new TextEncoder().encode(id)], { type: 'image/jpeg' });
          tx.objectStore('photos').put({ id, blob, sha256: null, takenAt: null, location: null, compressed: true });
          tx.objectStore('outbox').put({
            key: crypto.randomUUID(),
            kind: 'report',
            body: { category: 'city_appearance.exposed_garbage', location: where, accuracyM: 8, text: `bench ${i}` },
            photos: [id],
            after: [],
            createdAt: now + i,
            tries: 0,
            error: null,
            label: `bench ${i}`,
          });
        }
        await new Promise((ok, fail) => {
          tx.oncomplete = ok;
          tx.onerror = () => fail(tx.error);
        });
        d.close();
      },
      { n: DRAIN, where: at },
    );
    // The app reads its outbox when it opens: reopened offline (from the service worker), then reconnected.
    await page.close();
    page = await ctx.newPage();
    await page.goto(`${p.url}/m`);
    await page.getByTestId('report').waitFor();
    await waitCount(String(DRAIN));
    const t0 = Date.now();
    await ctx.setOffline(false);
    await waitCount('0', 600_000);
    const drainS = (Date.now() - t0) / 1000;
    const tok = await p.login('bench-d', FIELD_PW);
    const list = (await (
      await fetch(`${p.url}/api/cases?source=patrol&limit=200`, { headers: { authorization: `Bearer ${tok}` } })
    ).json()) as { cases: { title: string; description?: string }[] };
    const drainedCases = list.cases.length - RUNS;
    await ctx.close();
    return {
      saveMs: Math.round(median(save)),
      tapToSavedMs: Math.round(median(tap)),
      compressMs: Math.round(median(compress)),
      originalBytes,
      compressedBytes,
      compressedBytesMax,
      drainS: Number(drainS.toFixed(2)),
      drainedCases,
      notes: [
        `load average (1 min) at the end: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs (a shared machine inflates the drain)`,
        `save: median of ${RUNS} reports, each 3 × 4000×3000 JPEG (${(originalBytes / 1e6).toFixed(1)} MB avg), offline; ` +
          `runs ms ${save.map((x) => Math.round(x)).join('/')}; the originals are saved, compression follows in a Web Worker`,
        `compress3PhotosInBackgroundMs: after the save, until the 3rd photo is compressed (runs ${compress.map((x) => Math.round(x)).join('/')})`,
        `drain: ${DRAIN} reports with one ${(drainPhotoBytes / 1e3).toFixed(0)} KB photo each (a photo the app compressed in (a), ` +
          `made distinct per report), sent in order, photo uploads of the next 2 records running ahead, 256 KiB chunks`,
      ],
    };
  } finally {
    await browser?.close();
    await p?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
