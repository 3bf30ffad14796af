/**
 * A grid worker's real patrol on the wall (issue 15), in Chromium against the whole platform (no demo fleet):
 * the wall is open (a dispatcher scoped to the worker's community), the worker walks a known path round its
 * grid — fixes sent through POST /api/field/actions as the phone's outbox sends them — and the wall's patrol
 * layer draws that path live, labelled with the worker's name; with the simulated fleet off there is no
 * SIMULATED walker. Asserted on what is handed to deck.gl (the layer data), on picking the drawn path and
 * label at their screen positions, and kept as a screenshot (artifacts/field-wall-patrol.png).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { Polygon } from 'geojson';
import { booleanPointInPolygon } from '@turf/turf';
import { startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';
import { launchChromium, artifactPath } from '../harness/browser.ts';
import { dataDirWithUsers, FIELD_PW } from '../field/users.ts';

const GRID1 = '120106001001001';
const COMMUNITY = GRID1.slice(0, 12);
const WORKER = 'fw-walker';
const NAME = `测试 ${WORKER}`;

/** The known path: round GRID1's ring pulled 20% towards its centre, a fix every ~25 m (at least 10 m apart, inside the grid). */
function knownPath(): [number, number][] {
  const grid = (
    JSON.parse(readFileSync('geo-data/sample/grids.geojson', 'utf8')) as {
      features: { properties: { code: string }; geometry: Polygon }[];
    }
  ).features.find((f) => f.properties.code === GRID1)!.geometry;
  const ring = grid.coordinates[0];
  const pts = ring.slice(0, -1);
  const c = [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
  const inner = ring.map((p) => [c[0] + (p[0] - c[0]) * 0.8, c[1] + (p[1] - c[1]) * 0.8]);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < inner.length; i++) {
    const [a, b] = [inner[i], inner[i + 1]];
    const m = Math.hypot((b[0] - a[0]) * 93_000, (b[1] - a[1]) * 111_000);
    const n = Math.max(1, Math.round(m / 25));
    for (let k = 0; k < n; k++) {
      const q: [number, number] = [a[0] + ((b[0] - a[0]) * k) / n, a[1] + ((b[1] - a[1]) * k) / n];
      const last = out[out.length - 1];
      // Short edges of the ring: no two fixes within 10 m (the server thins those as standing still).
      // Inside the grid only (its ring is not convex): fixes elsewhere belong to other grids' scopes.
      if (!booleanPointInPolygon(q, grid)) continue;
      if (!last || Math.hypot((q[0] - last[0]) * 86_000, (q[1] - last[1]) * 111_000) >= 10) out.push(q);
    }
  }
  return out;
}

let p: PlatformHandle;
let dataDir: string;
let browser: Browser;
let wall: Page;

beforeAll(async () => {
  dataDir = await dataDirWithUsers([
    [WORKER, 'gridworker', GRID1],
    ['fw-watch', 'dispatcher', COMMUNITY],
  ]);
  p = await startPlatformProcess({ dataDir });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('real patrol tracks on the wall', () => {
  it('a worker walking a known path shows on the patrol layer live, labelled with the name', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    wall = await ctx.newPage();
    wall.on('pageerror', (e) => console.error('page error:', e.stack));
    await wall.goto(`${p.url}/`);
    await wall.waitForURL(/\/login$/);
    await wall.fill('input[name=username]', 'fw-watch');
    await wall.fill('input[name=password]', FIELD_PW);
    await wall.click('button[type=submit]');
    await wall.waitForURL(`${p.url}/`);
    await wall.waitForSelector('.map[data-status=ready]', { timeout: 90_000 });
    const layer = (id: string) => wall.evaluate((l) => (window as any).__wallMap.layerData(l), id);
    expect(await layer('patrols-real')).toBeNull();

    // The worker walks: two batches a minute apart as the app's outbox sends them (fix every 15 s).
    const path = knownPath();
    const token = await p.login(WORKER, FIELD_PW);
    const patrol = randomUUID();
    // A fix every 15 s, all of them today (the wall shows today's tracks; just after midnight, closer together).
    const now = Date.now();
    const dt = Math.min(15_000, (now - new Date(now).setHours(0, 0, 0, 0)) / (path.length + 1));
    const start = now - path.length * dt;
    const fixes = path.map(([lng, lat], k) => ({ t: Math.round(start + k * dt), lng, lat, accuracyM: 6 }));
    const half = Math.ceil(fixes.length / 2);
    for (const part of [fixes.slice(0, half), fixes.slice(half)]) {
      const r = await fetch(`${p.url}/api/field/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ key: randomUUID(), kind: 'track', patrol, fixes: part, sentAt: Date.now() }),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { accepted: number }).accepted).toBe(part.length);
    }

    // Live: the track batches' `patrol` messages make the wall reload the layer (no page reload here).
    await expect
      .poll(async () => ((await layer('patrols-real')) as unknown[] | null)?.length ?? 0, { timeout: 60_000 })
      .toBe(1);
    const [trip] = (await layer('patrols-real')) as { name: string; simulated: boolean; path: number[][] }[];
    expect(trip.name).toBe(NAME);
    expect(trip.simulated).toBe(false);
    expect(trip.path).toHaveLength(path.length);
    trip.path.forEach((q, i) => {
      expect(q[0]).toBeCloseTo(path[i][0], 6);
      expect(q[1]).toBeCloseTo(path[i][1], 6);
    });
    const labels = (await layer('patrol-labels')) as { trip: { name?: string; simulated: boolean } }[];
    expect(labels.map((l) => l.trip.name)).toEqual([NAME]);
    expect(labels.some((l) => l.trip.simulated)).toBe(false);

    // What is drawn: picking the path between two fixes, and the label just above the newest fix.
    const pick = async (at: number[], dy: number, ids: string[]) => {
      const xy = await wall.evaluate((q) => (window as any).__wallMap.project(q), at);
      return wall.evaluate(([x, y, l]) => (window as any).__wallMap.pick(x, y, l), [xy.x, xy.y + dy, ids] as const);
    };
    const mid = [(path[3][0] + path[4][0]) / 2, (path[3][1] + path[4][1]) / 2];
    await expect
      .poll(async () => ((await pick(mid, 0, ['patrols-real'])) as any)?.object?.name, { timeout: 30_000 })
      .toBe(NAME);
    await expect
      .poll(async () => ((await pick(path[path.length - 1], -22, ['patrol-labels'])) as any)?.object?.trip?.name, {
        timeout: 30_000,
      })
      .toBe(NAME);
    await wall.screenshot({ path: artifactPath('field-wall-patrol.png') });
    await ctx.close();
  }, 240_000);
});
