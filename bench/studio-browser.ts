// Grid studio in the browser: the longest main-thread task while an analyst drags a shared vertex on a
// 992-grid draft (the sample district's published set copied into a draft) in headless Chromium.
//
// The platform runs in this process (ingest/platform.ts startPlatform, built app from build/ or
// BENCH_STUDIO_HANDLER); the admin opens /grids?draft=ID at 1440×900, the map is framed on a vertex two base
// grids share (zoom 18), the grid is selected with a click and the vertex dragged with the mouse (30 moves,
// ~16 ms apart, as a hand would). Measured in the page: PerformanceObserver 'longtask' entries (≥ 50 ms;
// 0 when none) and the largest gap between requestAnimationFrame callbacks, both only between mouse down and
// mouse up; and, separately, the longest task from the drop until the edit is stored and redrawn (the
// change set POSTed, the draft read back, 992 grids re-set on the map).
//
//   node --import tsx bench/studio-browser.ts   (bench/studio.ts calls measureDrag())
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import type { Position } from 'geojson';
import { loadConfig } from '../ingest/config.ts';
import { startPlatform, type Platform } from '../ingest/platform.ts';
import { SESSION_COOKIE } from '../ingest/auth/sessions.ts';
import { launchChromium } from '../test/harness/browser.ts';

const PASSWORD = 'bench-admin-pw-1';

// Page-side recorder (a string: tsx helpers must not leak into the page).
const RECORDER = `(() => {
  const w = window;
  w.__bench = { tasks: [], gaps: [], last: 0, on: false };
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__bench.tasks.push([e.startTime, e.duration]); })
      .observe({ type: 'longtask', buffered: true });
  } catch {}
  const tick = (t) => { if (w.__bench.on && w.__bench.last) w.__bench.gaps.push([t, t - w.__bench.last]); w.__bench.last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();`;

export interface DragResult {
  longestTaskMs: number;
  grids: number;
  /** Largest gap between animation frames during the drag (ms). */
  longestFrameGapMs: number;
  /** Longest task from the drop until the stored edit is drawn (ms). */
  afterDropLongestTaskMs: number;
  /** From the drop until the new revision is drawn (ms). */
  dropToDrawnMs: number;
  machine: string;
}

export async function measureDrag(): Promise<DragResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-bench-studio-browser-'));
  let platform: Platform | null = null;
  const browser = await launchChromium();
  try {
    const cfg = loadConfig({
      ...process.env,
      PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: PASSWORD,
      DEMO: '0',
      LOG_LEVEL: 'warn',
    });
    platform = await startPlatform(
      cfg,
      process.env.BENCH_STUDIO_HANDLER ? { handlerPath: process.env.BENCH_STUDIO_HANDLER } : {},
    );
    const base = `http://127.0.0.1:${platform.httpPort}`;
    const login = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = (await (
      await fetch(`${base}/api/grids/drafts`, { method: 'POST', headers: auth, body: '{"from":"published"}' })
    ).json()) as { draft: { id: number } };
    const id = created.draft.id;
    type G = { properties: { code: string; level: number }; geometry: { type: string; coordinates: Position[][] } };
    const draft = (await (await fetch(`${base}/api/grids/drafts/${id}`, { headers: auth })).json()) as {
      grids: { features: G[] };
    };
    const baseGrids = draft.grids.features.filter((f) => f.properties.level === 4 && f.geometry.type === 'Polygon');
    const owners = new Map<string, number>();
    const key = (q: Position) => `${q[0]},${q[1]}`;
    for (const g of baseGrids)
      for (const q of g.geometry.coordinates[0].slice(0, -1)) owners.set(key(q), (owners.get(key(q)) ?? 0) + 1);
    const grid = baseGrids[Math.floor(baseGrids.length / 2)];
    const ring = grid.geometry.coordinates[0].slice(0, -1);
    const shared = ring.filter((q) => owners.get(key(q)) === 2);
    const vertex = shared[Math.floor(shared.length / 2)];
    const inside = (() => {
      // A point just inside the grid next to the vertex: towards the ring's average.
      const cx = ring.reduce((s, q) => s + q[0], 0) / ring.length;
      const cy = ring.reduce((s, q) => s + q[1], 0) / ring.length;
      return [vertex[0] + (cx - vertex[0]) * 0.3, vertex[1] + (cy - vertex[1]) * 0.3];
    })();

    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await ctx.addCookies([{ name: SESSION_COOKIE, value: token, url: base }]);
    const page = await ctx.newPage();
    await page.addInitScript(RECORDER);
    await page.goto(`${base}/grids?draft=${id}`);
    await page.waitForSelector('.studio-map[data-status=ready]', { timeout: 180_000 });
    const grids = Number(await page.getAttribute('.studio-map', 'data-grids'));
    const screen = (at: Position) =>
      page.evaluate((ll) => {
        const el = document.querySelector('.studio-map') as HTMLElement & {
          studioMap: { project: (p: number[]) => { x: number; y: number } };
        };
        const r = el.getBoundingClientRect();
        const q = el.studioMap.project(ll);
        return { x: r.left + q.x, y: r.top + q.y };
      }, at as number[]);
    await page.evaluate(
      (ll) =>
        new Promise<void>((resolve) => {
          const el = document.querySelector('.studio-map') as HTMLElement & {
            studioMap: { map: { jumpTo: (o: unknown) => void; once: (e: string, f: () => void) => void } };
          };
          el.studioMap.map.jumpTo({ center: ll, zoom: 18 });
          el.studioMap.map.once('idle', () => resolve());
        }),
      vertex as number[],
    );
    const click = await screen(inside);
    await page.mouse.click(click.x, click.y);
    await page.waitForFunction(
      (c) => document.querySelector('[data-testid=selection]')?.textContent?.includes(c),
      grid.properties.code,
    );
    await new Promise((r) => setTimeout(r, 1500)); // selection drawn, map idle
    const rev0 = Number(await page.getAttribute('.studio-map', 'data-rev'));
    const from = await screen(vertex);
    await page.mouse.move(from.x, from.y);
    const t0 = (await page.evaluate('(window.__bench.on = true, performance.now())')) as number;
    await page.mouse.down();
    for (let i = 1; i <= 30; i++) {
      await page.mouse.move(from.x + i * 0.4, from.y + i * 0.3);
      await new Promise((r) => setTimeout(r, 16));
    }
    await page.mouse.up();
    const t1 = (await page.evaluate('(window.__bench.on = false, performance.now())')) as number;
    await page.waitForFunction(
      (r) => Number(document.querySelector('.studio-map')?.getAttribute('data-rev')) > r,
      rev0,
      { timeout: 120_000 },
    );
    await page.waitForSelector('.studio-map[data-status=ready]');
    await new Promise((r) => setTimeout(r, 500));
    const t2 = (await page.evaluate('performance.now()')) as number;
    const rec = (await page.evaluate('window.__bench')) as { tasks: [number, number][]; gaps: [number, number][] };
    const inWindow = (a: number, b: number) => rec.tasks.filter(([s]) => s >= a && s <= b).map(([, d]) => d);
    const round = (x: number) => Math.round(x * 10) / 10;
    const render = (await page.evaluate(() => {
      const c = document.createElement('canvas').getContext('webgl');
      const e = c?.getExtension('WEBGL_debug_renderer_info');
      return e && c ? String(c.getParameter(e.UNMASKED_RENDERER_WEBGL)) : 'unknown';
    })) as string;
    await ctx.close();
    return {
      longestTaskMs: round(Math.max(0, ...inWindow(t0, t1))),
      grids,
      longestFrameGapMs: round(Math.max(0, ...rec.gaps.filter(([t]) => t >= t0 && t <= t1).map(([, g]) => g))),
      afterDropLongestTaskMs: round(Math.max(0, ...inWindow(t1, t2))),
      dropToDrawnMs: round(t2 - t1 - 500),
      machine: `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}; Chromium ${browser.version()} (${render})`,
    };
  } finally {
    await browser.close().catch(() => {});
    await platform?.stop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  measureDrag().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
