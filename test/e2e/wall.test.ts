/**
 * The wall in Debian's Chromium against the whole platform (SIMULATED fleet on): sign-in, the map drawn
 * (pixels on the WebGL canvas), drill-down and back, a fire alarm over real MQTT reaching the feed and the
 * map, a case action from the drawer (and a 409 that says what changed), scope, text-only rendering of
 * hostile titles, the English switch, axe, screenshots at 1920×1080 and 3840×2160.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import mqtt from 'mqtt';
import AxeBuilder from '@axe-core/playwright';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';
import { samplePassword } from '../harness/accounts.ts';
import { launchChromium, artifactPath } from '../harness/browser.ts';

let platform: PlatformHandle;
let browser: Browser;
let adminToken: string;
let admin: BrowserContext;
let wall: Page;

interface GridFC {
  features: { geometry: { type: string; coordinates: number[][][] }; properties: { code: string; name: string } }[];
}

async function api<T>(path: string, init: RequestInit = {}, token = adminToken): Promise<{ status: number; body: T }> {
  const r = await fetch(platform.url + path, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const text = await r.text();
  return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
}

function centroid(ring: number[][]): [number, number] {
  let x = 0;
  let y = 0;
  for (const p of ring.slice(0, -1)) {
    x += p[0];
    y += p[1];
  }
  const n = ring.length - 1;
  return [x / n, y / n];
}

async function signIn(ctx: BrowserContext, username = 'admin'): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(platform.url + '/');
  await page.waitForURL(/\/login$/);
  await page.fill('input[name=username]', username);
  // Sample users have their own passwords, printed once at the demo platform's first start.
  await page.fill('input[name=password]', username === 'admin' ? ADMIN_PASSWORD : samplePassword(platform, username));
  await page.click('button[type=submit]');
  await page.waitForURL(platform.url + '/');
  await page.waitForSelector('.map[data-status=ready]', { timeout: 60_000 });
  return page;
}

/** Fractions of canvas pixels that are background, blue-ish (grids), and warm (devices, alarms). */
function canvasStats(page: Page) {
  return page.evaluate(() => {
    const c = document.querySelector('.map canvas') as HTMLCanvasElement;
    const w = 480;
    const h = 270;
    const off = document.createElement('canvas');
    off.width = w;
    off.height = h;
    const ctx = off.getContext('2d')!;
    ctx.drawImage(c, 0, 0, w, h);
    const px = ctx.getImageData(0, 0, w, h).data;
    let background = 0;
    let blue = 0;
    let warm = 0;
    for (let i = 0; i < px.length; i += 4) {
      const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
      if (Math.abs(r - 7) < 6 && Math.abs(g - 16) < 6 && Math.abs(b - 31) < 6) background++;
      else if (b > r + 20) blue++;
      else if (r > 180 && r > b + 60) warm++;
    }
    const total = w * h;
    return { background: background / total, blue: blue / total, warm: warm / total };
  });
}

beforeAll(async () => {
  platform = await startPlatformProcess({ demo: true });
  browser = await launchChromium();
  adminToken = await platform.login();
  admin = await browser.newContext({ viewport: { width: 1920, height: 1080 }, reducedMotion: 'reduce' });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('the wall (Chromium)', { timeout: 120_000 }, () => {
  it('signs in and draws grids, devices and panels on the canvas', async () => {
    wall = await signIn(admin);
    await expect.poll(async () => wall.textContent('[data-testid=grid-count]')).toBe('992');
    const stats = await canvasStats(wall);
    expect(stats.blue).toBeGreaterThan(0.15); // extruded base grids and boundaries
    expect(stats.warm).toBeGreaterThan(0.0005); // smoke/heat detectors are drawn in warm colours
    expect(stats.background).toBeGreaterThan(0);
    // Panels: indicators, devices online from the registry, the SIMULATED badge (healthz.demo).
    await expect.poll(async () => wall.textContent('[data-testid=kpi-devices]')).toMatch(/^\d{3,}\/\d{3,}$/);
    expect(await wall.isVisible('[data-testid=simulated-badge]')).toBe(true);
    expect(await wall.textContent('[data-testid=live-status]')).toContain('实时连接正常');
    await wall.screenshot({ path: artifactPath('wall-1920x1080.png') });
    // No animation loop: with the camera still and motion reduced, the wall asks for a frame only when live
    // news arrives or a walker moves a pixel (every 10 s at this zoom), not 60 times a second.
    const asked = () => wall.evaluate(() => (window as any).__wallMap.framesAsked());
    const before = await asked();
    await wall.waitForTimeout(3000);
    expect((await asked()) - before).toBeLessThan(30);
  });

  it('drills down district → street → community → grid on click and back up with Esc and the button', async () => {
    const crumbs = async () => (await wall.$$eval('[data-testid=breadcrumbs] ol li', (l) => l.length)) as number;
    expect(await crumbs()).toBe(1);
    // Click the map where a base grid is drawn: the centre of the framed district.
    const vp = wall.viewportSize()!;
    const at = async () => {
      for (const [dx, dy] of [
        [0, 0],
        [40, 20],
        [-40, 30],
        [60, -30],
      ]) {
        const x = vp.width / 2 + dx;
        const y = vp.height / 2 + dy;
        const hit = await wall.evaluate(([x, y]) => (window as any).__wallMap.pick(x, y), [x, y]);
        if (hit?.layer === 'base-grids') return { x, y };
      }
      throw new Error('no base grid under the map centre');
    };
    for (const depth of [2, 3, 4]) {
      const { x, y } = await at();
      await wall.mouse.click(x, y);
      await expect.poll(crumbs, { timeout: 5000 }).toBe(depth);
      // Reduced motion: the camera jumps rather than flies (GridMap); still, wait until it stands.
      await wall.waitForFunction(() => !(window as any).__wallMap.moving(), null, { polling: 100 });
    }
    await wall.screenshot({ path: artifactPath('wall-drilled-grid.png') });
    await wall.keyboard.press('Escape');
    await expect.poll(crumbs).toBe(3);
    await wall.click('[data-testid=drill-up]', { force: true });
    await expect.poll(crumbs).toBe(2);
    await wall.keyboard.press('Escape');
    await expect.poll(crumbs).toBe(1);
    expect(await wall.isDisabled('[data-testid=drill-up]')).toBe(true);
    await wall.waitForFunction(() => !(window as any).__wallMap.moving(), null, { polling: 100 });
  });

  let fireCaseId = '';
  // The 2 s promise is measured by `npm run bench -- latency` (to /live) and `-- wall` (to drawn): speed
  // goals are met in benchmarks, not in timed tests on a shared machine. Here the alarm must arrive, and
  // its times are logged.
  it('shows a fire_alarm published over MQTT in the feed and on the map', async () => {
    const grids = (await api<GridFC>('/api/grids?level=4')).body;
    const g = grids.features[Math.floor(grids.features.length / 2)];
    const loc = centroid(g.geometry.coordinates[0]);
    const id = `e2e-smoke-${Date.now()}`;
    const reg = await api<{ secret: string }>('/api/devices', {
      method: 'POST',
      body: JSON.stringify({ id, kind: 'smoke', name: 'e2e 烟感', location: loc }),
    });
    expect(reg.status).toBe(201);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.mqttPort}`, {
      clientId: id,
      username: id,
      password: reg.body.secret,
    });
    try {
      const before = new Set(
        ((await wall.evaluate(() => (window as any).__wall.feed())) as { id: string }[]).map((e) => e.id),
      );
      const { default: WebSocket } = await import('ws');
      const probe = new WebSocket(platform.url.replace('http', 'ws') + '/live', {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      let platformMs = -1;
      probe.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.type === 'case' && m.case?.attributes?.deviceId === id && platformMs < 0) platformMs = Date.now() - t0;
      });
      await new Promise((r) => probe.once('open', r));
      const t0 = Date.now();
      await client.publishAsync(
        `dev/${id}/event`,
        JSON.stringify({ ts: Date.now(), seq: 1, type: 'fire_alarm', severity: 'critical' }),
        { qos: 1 },
      );
      // In the feed: a new fire-class entry.
      const handle = await wall.waitForFunction(
        (before) =>
          ((window as any).__wall.feed() as { id: string; category: string }[]).find(
            (e) => !before.includes(e.id) && e.category.startsWith('fire'),
          )?.id ?? null,
        [...before],
        { timeout: 10_000, polling: 50 },
      );
      fireCaseId = (await handle.jsonValue()) as string;
      const feedMs = Date.now() - t0;
      // On the map, as data: the case marker is in the layer handed to deck.gl (drawn on the next frame).
      await wall.waitForFunction((cid) => (window as any).__wallMap.inLayer('cases', cid), fireCaseId, {
        timeout: 10_000,
        polling: 50,
      });
      const mapDataMs = Date.now() - t0;
      // On the map, as pixels: the marker (or its pulse) is what is picked at the device's location. With
      // the software renderer of a loaded 2-core CI machine a frame can take seconds, so this is given time;
      // the pick time is logged.
      await wall.waitForFunction(
        ([lng, lat, cid]) => {
          const w = (window as any).__wallMap;
          const p = w.project([lng, lat]);
          // What a click there opens (the same layers the wall's click handler picks from).
          const hit = w.pick(p.x, p.y, ['cases', 'alarm-pulse']);
          return !!hit && hit.object?.id === cid;
        },
        [loc[0], loc[1], fireCaseId] as const,
        { timeout: 90_000, polling: 100 },
      );
      const mapMs = Date.now() - t0;
      probe.close();
      console.log(
        `fire_alarm: platform → /live ${platformMs} ms, feed ${feedMs} ms, map layer ${mapDataMs} ms, picked ${mapMs} ms`,
      );
      const c = (await api<{ attributes?: { deviceId?: string }; category: string }>(`/api/cases/${fireCaseId}`)).body;
      expect(c.category.startsWith('fire')).toBe(true);
      expect(await wall.textContent('[data-testid=case-feed]')).toContain(
        c.category === 'fire.fire_alarm' ? '火警' : '',
      );
    } finally {
      await client.endAsync();
    }
  }, 150_000); // the pixel wait above: a software-rendered frame can take seconds on a loaded CI machine

  it('acts on a case from the drawer, and a stale version (409) refreshes and says what changed', async () => {
    expect(fireCaseId).not.toBe('');
    await wall.click(`[data-testid=case-feed] li:first-child button`, { force: true });
    await wall.waitForSelector('[data-testid=case-drawer] [data-testid=case-code]');
    expect(await wall.evaluate(() => document.activeElement?.textContent)).toContain('关闭'); // focus moved in
    await wall.waitForSelector('[data-testid=case-drawer] button[data-action=comment]');
    const trailBefore = await wall.$$eval('[data-testid=case-trail] li', (l) => l.length);
    await wall.click('[data-testid=case-drawer] button[data-action=comment]', { force: true });
    await wall.fill('.action-form textarea', 'e2e 现场核实中');
    await wall.click('.action-form button[type=submit]', { force: true });
    await wall.waitForSelector('[data-testid=case-notice]');
    expect(await wall.textContent('[data-testid=case-notice]')).toContain('操作成功');
    await expect.poll(() => wall.$$eval('[data-testid=case-trail] li', (l) => l.length)).toBe(trailBefore + 1);
    expect(await wall.textContent('[data-testid=case-trail]')).toContain('e2e 现场核实中');
    expect(await wall.isVisible('[data-testid=trail-verified]')).toBe(true);

    // Someone else escalates it meanwhile; our next action carries the old version → 409.
    const shown = await wall.evaluate(
      () => document.querySelector('[data-testid=case-drawer] [data-testid=case-code]')?.textContent,
    );
    const cur = (await api<{ id: string; version: number; code: string }>(`/api/cases/${shown}`)).body;
    const other = await api(`/api/cases/${cur.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'comment', version: cur.version, note: 'by someone else' }),
    });
    expect(other.status).toBe(200);
    await wall.click('[data-testid=case-drawer] button[data-action=comment]', { force: true });
    await wall.fill('.action-form textarea', 'e2e stale');
    await wall.click('.action-form button[type=submit]', { force: true });
    await expect.poll(() => wall.textContent('[data-testid=case-notice]')).toContain('已被他人更新');
    expect(await wall.textContent('[data-testid=case-notice]')).toMatch(/version: \d+ → \d+/);
    await wall.keyboard.press('Escape');
    await wall.waitForSelector('[data-testid=case-drawer]', { state: 'detached' });
  });

  it('shows a case title containing a script tag as text, on the wall and on /cases', async () => {
    const grids = (await api<GridFC>('/api/grids?level=4')).body;
    const loc = centroid(grids.features[3].geometry.coordinates[0]);
    const title = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">占道经营';
    const r = await api<{ id: string; code: string }>('/api/cases', {
      method: 'POST',
      body: JSON.stringify({ title, category: 'street_order', location: loc, source: 'hotline' }),
    });
    expect(r.status).toBe(201);
    await expect.poll(() => wall.textContent('[data-testid=case-feed]'), { timeout: 5000 }).toContain(title);
    expect(await wall.evaluate(() => (window as any).__xss)).toBeUndefined();
    expect(await wall.$$eval('[data-testid=case-feed] script, [data-testid=case-feed] img', (l) => l.length)).toBe(0);
    const list = await admin.newPage();
    await list.goto(platform.url + '/cases');
    await list.waitForSelector(`text=${r.body.code}`);
    expect(await list.textContent('[data-testid=cases-table]')).toContain(title);
    expect(await list.evaluate(() => (window as any).__xss)).toBeUndefined();
    await list.click(`text=${r.body.code}`, { force: true });
    await expect.poll(() => list.textContent('#case-drawer-title')).toBe(title);
    await list.keyboard.press('Escape');
    await list.waitForSelector('[data-testid=case-drawer]', { state: 'detached' });
    await list.close();
  });

  it('switches to English and back', async () => {
    await wall.click('[data-testid=lang-toggle]', { force: true });
    await expect.poll(() => wall.textContent('h1')).toBe('OneGrid · City Operations Command');
    expect(await wall.getAttribute('html', 'lang')).toBe('en');
    expect(await wall.textContent('[data-testid=kpis]')).toContain('Devices online');
    await wall.click('[data-testid=lang-toggle]', { force: true });
    await expect.poll(() => wall.textContent('h1')).toBe('一网统管 · 城市运行指挥中心');
  });

  it('has no serious or critical axe violations on the wall', async () => {
    const res = await new AxeBuilder({ page: wall }).exclude('.map canvas').analyze();
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });

  it('renders at 3840×2160 and signs out', async () => {
    try {
      await bigAndOut();
    } finally {
      if (!wall.isClosed()) await wall.close(); // one WebGL page at a time: a software renderer is shared
    }
  }, 200_000);
  async function bigAndOut() {
    await wall.setViewportSize({ width: 3840, height: 2160 });
    // The map refits the district after a resize; a software renderer needs a while for 4× the pixels.
    await expect
      .poll(async () => (await canvasStats(wall)).blue, { timeout: 45_000, interval: 1000 })
      .toBeGreaterThan(0.1);
    await wall.screenshot({ path: artifactPath('wall-3840x2160.png'), timeout: 90_000 }); // 4K through software WebGL: slow on a loaded machine
    await wall.setViewportSize({ width: 1920, height: 1080 });
    await wall.click('text=退出', { force: true });
    await wall.waitForURL(/\/login$/);
    const r = await wall.evaluate(async () => (await fetch('/api/me')).status);
    expect(r).toBe(401);
  }

  // After the 4K test has closed the wall: a 2D page shares the renderer (and its main thread) with a
  // WebGL page drawing through software, and a screenshot waits for a frame from it.
  it('draws the devices page with a reading chart', async () => {
    // A device of our own with readings already stored (a simulated one may not have reported yet).
    const id = `e2e-heat-${Date.now()}`;
    const reg = await api<{ secret: string }>('/api/devices', {
      method: 'POST',
      body: JSON.stringify({ id, kind: 'heat', name: 'e2e 感温', location: [117.15, 39.17] }),
    });
    expect(reg.status).toBe(201);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${platform.mqttPort}`, {
      clientId: id,
      username: id,
      password: reg.body.secret,
    });
    const now = Date.now();
    for (let i = 0; i < 5; i++)
      await client.publishAsync(
        `dev/${id}/telemetry`,
        JSON.stringify({ ts: now - (5 - i) * 600_000, seq: i + 1, metrics: { temp_c: 20 + i } }),
        { qos: 1 },
      );
    await client.endAsync();
    // The 4K test signed the admin context out: a context of its own, signed in at the form.
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, reducedMotion: 'reduce' });
    const page = await ctx.newPage();
    await page.goto(platform.url + '/devices');
    await page.waitForURL(/\/login\?next=%2Fdevices$/); // signed out: to the form, and back after it
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(platform.url + '/devices');
    await page.waitForSelector('[data-testid=devices-table] tbody tr');
    await page.selectOption('select >> nth=0', 'heat');
    await page.click(`[data-testid=devices-table] button:text-is("${id}")`, { force: true });
    await page.waitForSelector('[data-testid=reading-chart] canvas', { timeout: 40_000 });
    await page.screenshot({ path: artifactPath('devices-1920x1080.png'), timeout: 60_000 });
    await ctx.close();
  });

  it('shows a street commander only their street', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, reducedMotion: 'reduce' });
    try {
      const page = await signIn(ctx, 'commander-street-001');
      const all = (await api<GridFC>('/api/grids?level=4')).body.features;
      const mine = all.filter((f) => f.properties.code.startsWith('120106001'));
      await expect.poll(() => page.textContent('[data-testid=grid-count]')).toBe(String(mine.length));
      expect(mine.length).toBeLessThan(all.length);
      // The drill-down starts at, and cannot leave, the street.
      await expect.poll(() => page.$$eval('[data-testid=breadcrumbs] ol li', (l) => l.length)).toBe(2);
      expect(await page.isDisabled('[data-testid=drill-up]')).toBe(true);
      // Devices and cases the page fetched are all inside the street.
      const outside = await page.evaluate(async () => {
        const d = (await (await fetch('/api/devices?limit=10000')).json()).devices as { grid: string | null }[];
        const c = (await (await fetch('/api/cases?limit=500')).json()).cases as { grid: { grid: string | null } }[];
        return [...d.map((x) => x.grid), ...c.map((x) => x.grid.grid)].filter((g) => !g?.startsWith('120106001'))
          .length;
      });
      expect(outside).toBe(0);
      // A grid of another street is not drawn where it would be.
      const other = all.find((f) => !f.properties.code.startsWith('120106001'))!;
      const [lng, lat] = centroid(other.geometry.coordinates[0]);
      const hit = await page.evaluate(
        ([lng, lat]) => {
          const w = (window as any).__wallMap;
          const p = w.project([lng, lat]);
          return w.pick(p.x, p.y)?.object?.code ?? null;
        },
        [lng, lat],
      );
      expect(hit === null || String(hit).startsWith('120106001')).toBe(true);
      await page.screenshot({ path: artifactPath('wall-street-commander.png') });
    } finally {
      await ctx.close();
    }
  });

  it('signs in by the form before (or without) its script: a POST, the password in no URL, back to ?next=', async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await ctx.newPage();
      const urls: string[] = [];
      page.on('request', (r) => urls.push(r.url()));
      await page.goto(platform.url + '/cases');
      expect(page.url()).toBe(platform.url + '/login?next=%2Fcases');
      await page.fill('input[name=username]', 'admin');
      await page.fill('input[name=password]', 'not-the-password');
      await page.click('button[type=submit]');
      await page.waitForSelector('[role=alert]');
      expect(await page.inputValue('input[name=username]')).toBe('admin');
      await page.fill('input[name=password]', ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(platform.url + '/cases');
      expect(urls.filter((u) => u.includes('password') || u.includes(ADMIN_PASSWORD))).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('keeps what was typed into the login form before its script loaded', async () => {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      // The page's modules arrive late (a slow link, a loaded PC): the user types meanwhile.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/_app/immutable/**/*.js', async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(platform.url + '/login', { waitUntil: 'domcontentloaded' });
      await page.fill('input[name=username]', 'admin');
      await page.fill('input[name=password]', ADMIN_PASSWORD);
      release();
      await page.waitForSelector('html[data-hydrated=true]', { timeout: 30_000 });
      expect(await page.inputValue('input[name=username]')).toBe('admin');
      expect(await page.inputValue('input[name=password]')).toBe(ADMIN_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(platform.url + '/');
    } finally {
      await ctx.close();
    }
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
