/**
 * The handler's side of Open311 privacy in the case drawer (Chromium): a citizen's contact shows masked,
 * 显示 reveals it; an action's note stays internal unless "对市民公开" is ticked (unticked by default), and
 * only a ticked note reaches the request's public status_notes (issue 11 finding 7, issue 13 "Citizen callback").
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../ingest/auth/secrets.ts';
import { openPglite } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { seed } from '../../ingest/seed.ts';
import { insertUser } from '../../ingest/store/users.ts';
import { launchChromium } from '../harness/browser.ts';
import { ADMIN_PASSWORD, startPlatformProcess, type PlatformHandle } from '../harness/platform.ts';

const GRID = '120106001001001'; // 景福新村社区第1网格
const PASSWORD = 'open311-drawer-pw-7Qx!';
const DESC = '垃圾桶满溢，请回电';

let platform: PlatformHandle;
let browser: Browser;
let admin = '';
let caseId = '';
let caseCode = '';
let publicId = '';

async function api<T>(p: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(platform.url + p, {
    ...init,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const body = (await r.json()) as T;
  if (!r.ok) throw new Error(`${p}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

async function statusNotes(): Promise<string> {
  const r = await fetch(`${platform.url}/open311/v2/requests/${publicId}.json`, {
    headers: { 'accept-language': 'zh' },
  });
  return ((await r.json()) as { status_notes: string }[])[0].status_notes;
}

async function signIn(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  await page.goto(`${platform.url}/login?next=%2Fcases`);
  await page.waitForSelector('html[data-hydrated]');
  await page.fill('input[name=username]', 'o311-dispatcher');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${platform.url}/cases`);
  await page.waitForSelector('[data-testid=cases-table]');
  await page.click(`[data-testid=cases-table] button:has-text("${caseCode}")`);
  await page.waitForSelector('[data-testid=case-code]');
  return page;
}

async function comment(page: Page, note: string, visible: boolean): Promise<void> {
  await page.click('[data-action=comment]');
  await page.waitForSelector('form.action-form');
  expect(await page.isChecked('[data-testid=form-note-public]')).toBe(false);
  await page.fill('form.action-form textarea', note);
  if (visible) await page.check('[data-testid=form-note-public]');
  await page.click('form.action-form button[type=submit]');
  await expect.poll(() => page.textContent('[data-testid=case-notice]'), { timeout: 20_000 }).toMatch(/操作成功/);
}

beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'onegrid-o311d-'));
  const db = await openPglite(dataDir);
  await migrate(db);
  await seed(db, { adminPassword: ADMIN_PASSWORD });
  await insertUser(db, {
    username: 'o311-dispatcher',
    name: '测试派遣员',
    role: 'dispatcher',
    scopeGrid: '120106001',
    scopeDepartment: null,
    level: null,
    passwordHash: await hashSecret(PASSWORD),
  });
  await db.close();
  platform = await startPlatformProcess({ dataDir });
  browser = await launchChromium();
  admin = await platform.login();
  const { key } = await api<{ key: string }>('/api/open311/keys', {
    method: 'POST',
    body: JSON.stringify({ name: 't' }),
  });
  const grids = await api<{ features: { properties: { code: string }; geometry: { coordinates: number[][][] } }[] }>(
    `/api/grids?level=4&parent=120106001001`,
  );
  const g = grids.features.find((x) => x.properties.code === GRID)!;
  const ring = g.geometry.coordinates[0].slice(0, -1);
  const lng = ring.reduce((s, c) => s + c[0], 0) / ring.length;
  const lat = ring.reduce((s, c) => s + c[1], 0) / ring.length;
  const r = await fetch(`${platform.url}/open311/v2/requests.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      api_key: key,
      service_code: 'city_appearance.overflowing_bin',
      lat: String(lat),
      long: String(lng),
      description: DESC,
      first_name: '小明',
      last_name: '王',
      phone: '13912345678',
    }).toString(),
  });
  expect(r.status).toBe(201);
  publicId = ((await r.json()) as { service_request_id: string }[])[0].service_request_id;
  const list = await api<{ cases: { id: string; code: string; description: string }[] }>(
    `/api/cases?source=citizen&q=${encodeURIComponent(DESC)}`,
  );
  ({ id: caseId, code: caseCode } = list.cases.find((c) => c.description === DESC)!);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('Open311 privacy in the case drawer (Chromium)', { timeout: 120_000 }, () => {
  it('shows the contact masked; 显示 reveals it', async () => {
    const page = await signIn();
    await page.waitForSelector('[data-testid=citizen-contact]');
    expect((await page.textContent('[data-testid=contact-phone]'))!.trim()).toBe('139****5678');
    expect(await page.textContent('[data-testid=citizen-contact]')).not.toContain('13912345678');
    await page.click('[data-testid=contact-reveal]');
    await expect.poll(async () => (await page.textContent('[data-testid=contact-phone]'))!.trim()).toBe('13912345678');
    await page.context().close();
  });

  it('keeps notes internal unless 对市民公开 is ticked', async () => {
    const page = await signIn();
    await comment(page, '内部：此人多次重复投诉', false);
    expect(await statusNotes()).toBe('已受理，等待核实立案。');
    const trail = await api<{ entries: { action: string; data: Record<string, unknown> }[] }>(
      `/api/cases/${caseId}/trail`,
    );
    expect(trail.entries.at(-1)!.data.notePublic).toBeUndefined();
    await comment(page, '已通知环卫部门处理', true);
    expect(await statusNotes()).toBe('已受理，等待核实立案。办理说明：已通知环卫部门处理');
    await expect.poll(() => page.locator('[data-testid=trail-public]').count()).toBe(1);
    await page.context().close();
  });
});
