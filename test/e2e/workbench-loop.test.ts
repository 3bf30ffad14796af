/**
 * The case workbench through the UI only, one role at a time (issue 13 "Done when"), in Debian's Chromium
 * against the whole platform: the dispatcher takes in a hotline case (接件), registers (立案) and dispatches
 * (派遣) it; the department claims (签收) and handles it with a photo (处理反馈); the grid worker's check fails
 * (核查 不通过, rework); the street commander escalates (升级) and whistles (吹哨); the whistled department
 * reports (报到). Every form is first submitted untouched: nothing the user did not choose may change, or
 * the form refuses. axe on every workbench screen; each drawer state saved under artifacts/.
 *
 * The users are the test's own (its own passwords), written into the data directory before the platform
 * starts, so the test does not depend on the sample users' passwords.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { startPlatformProcess, seededDataDir, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';
import { launchChromium, artifactPath } from '../harness/browser.ts';
import { openPglite } from '../../ingest/store/db.ts';
import { migrate } from '../../ingest/store/migrate.ts';
import { seed } from '../../ingest/seed.ts';
import { insertUser } from '../../ingest/store/users.ts';
import { hashSecret } from '../../ingest/auth/secrets.ts';

const STREET = '120106001';
const GRID = '120106001001001'; // 景福新村社区第1网格
const PASSWORD = 'workbench-pw-7Qx!';
const USERS = [
  {
    username: 'wb-dispatcher',
    name: '测试派遣员',
    role: 'dispatcher',
    scopeGrid: STREET,
    scopeDepartment: null,
    level: null,
  },
  {
    username: 'wb-urban',
    name: '测试城管',
    role: 'department',
    scopeGrid: null,
    scopeDepartment: 'urban_management',
    level: null,
  },
  {
    username: 'wb-env',
    name: '测试环保',
    role: 'department',
    scopeGrid: null,
    scopeDepartment: 'environment',
    level: null,
  },
  {
    username: 'wb-gridworker',
    name: '测试网格员',
    role: 'gridworker',
    scopeGrid: GRID,
    scopeDepartment: null,
    level: null,
  },
  {
    username: 'wb-street',
    name: '测试街道指挥长',
    role: 'commander',
    scopeGrid: STREET,
    scopeDepartment: null,
    level: 'street',
  },
] as const;
// An 8×8 PNG (four colour quadrants): a real image the browser decodes and scales.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAG0lEQVR4nGP4/78BjhhQEBUlGBrgiAEZUU8CAGM8X8EIwjVcAAAAAElFTkSuQmCC',
  'base64',
);

let platform: PlatformHandle;
let browser: Browser;
let adminToken: string;
let caseId = '';
let caseCode = '';

interface CaseJson {
  id: string;
  code: string;
  state: string;
  category: string;
  priority: number;
  level: string;
  deadline: number | null;
  assignee: { kind: string; id: string } | null;
  reworkCount: number;
  satisfaction: number | null;
  result: string | null;
  evidence: string[];
  suggestedDepartment?: string;
  whistles: { department: string; reportedAt: number | null }[];
  version: number;
}

async function api<T>(p: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(platform.url + p, {
    ...init,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const body = (await r.json()) as T;
  if (!r.ok)
    throw new Error(
      `${p}: ${r.status} ${JSON.stringify(body)}\n${r.status >= 500 ? platform.output().slice(-3000) : ''}`,
    );
  return body;
}
const getCase = (id = caseId) => api<CaseJson>(`/api/cases/${id}`);

/** Clicks made by the dispatcher from the first intake click to the dispatched case, for the report. */
const clicks: string[] = [];

async function signIn(username: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, reducedMotion: 'reduce' });
  const page = await ctx.newPage();
  await page.goto(`${platform.url}/login?next=%2Fcases`);
  await page.waitForSelector('html[data-hydrated]');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${platform.url}/cases`);
  await page.waitForSelector('[data-testid=cases-table]');
  return page;
}

async function openCase(page: Page): Promise<void> {
  await page.click(`[data-testid=cases-table] button:has-text("${caseCode}")`);
  await page.waitForSelector('[data-testid=case-code]');
  await expect.poll(() => page.textContent('[data-testid=case-code]')).toBe(caseCode);
}

/** Opens the form of `action`, runs `fill`, submits; waits for the drawer's notice. */
async function act(page: Page, action: string, fill: (form: string) => Promise<void> = async () => {}) {
  await page.click(`[data-action=${action}]`);
  const form = 'form.action-form';
  await page.waitForSelector(form);
  await fill(form);
  await page.click(`${form} button[type=submit]`);
  await expect.poll(() => page.textContent('[data-testid=case-notice]'), { timeout: 20_000 }).toMatch(/操作成功/);
}

/** Submits the open form untouched and asserts the browser refused it (the case's version is unchanged). */
async function refusesUntouched(page: Page, action: string): Promise<void> {
  const before = await getCase();
  await page.click(`[data-action=${action}]`);
  await page.waitForSelector('form.action-form');
  const valid = await page.$eval('form.action-form', (f) => (f as HTMLFormElement).checkValidity());
  expect(valid, `${action} form must not be valid untouched`).toBe(false);
  const submit = page.locator('form.action-form button[type=submit]');
  if (await submit.isEnabled()) await submit.click();
  await page.waitForTimeout(300);
  expect((await getCase()).version).toBe(before.version);
  expect(await page.isVisible('form.action-form')).toBe(true);
}

async function axe(page: Page, what: string): Promise<void> {
  const r = await new AxeBuilder({ page }).analyze();
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`)).toEqual([]);
}

async function drawerShot(page: Page, name: string): Promise<void> {
  await page.locator('[data-testid=case-drawer]').screenshot({ path: artifactPath(`workbench-drawer-${name}.png`) });
}

async function trailText(page: Page): Promise<string> {
  return (await page.textContent('[data-testid=case-trail]')) ?? '';
}

beforeAll(async () => {
  // The run's seeded template (migrate and seed are then no-ops), or a fresh directory seeded here.
  const dataDir = await seededDataDir('onegrid-wb-');
  const db = await openPglite(dataDir);
  await migrate(db);
  await seed(db, { adminPassword: ADMIN_PASSWORD });
  const passwordHash = await hashSecret(PASSWORD);
  for (const u of USERS) await insertUser(db, { ...u, passwordHash });
  await db.close();
  platform = await startPlatformProcess({ dataDir });
  browser = await launchChromium();
  adminToken = await platform.login();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe('the case loop through the workbench, one role at a time (Chromium)', { timeout: 240_000 }, () => {
  it('dispatcher: intake (refused untouched), register and dispatch untouched change nothing', async () => {
    const page = await signIn('wb-dispatcher');
    clicks.push('＋ 接件');
    await page.click('[data-testid=intake-open]');
    await page.waitForSelector('[data-testid=intake-form]');
    await axe(page, '/cases intake');
    // Untouched: the form refuses (no source, title, category or location chosen), and no case is made.
    const n0 = (await api<{ cases: unknown[] }>('/api/cases?limit=500')).cases.length;
    await page.click('[data-testid=intake-submit]');
    await page.waitForTimeout(300);
    expect((await api<{ cases: unknown[] }>('/api/cases?limit=500')).cases.length).toBe(n0);

    clicks.push('来源：热线');
    await page.check('input[name=source][value=hotline]');
    clicks.push('标题（输入）');
    await page.fill('[data-testid=intake-title]', '小区门口垃圾桶满溢');
    clicks.push('类别搜索（输入“满溢”）');
    await page.fill('[data-testid=intake-category-search]', '满溢');
    await expect.poll(() => page.$$eval('[data-testid=intake-category] option', (o) => o.length)).toBe(1);
    clicks.push('类别：垃圾满溢');
    await page.selectOption('[data-testid=intake-category]', 'city_appearance.overflowing_bin');
    await page.fill('[data-testid=intake-description]', '两个垃圾桶已满，垃圾散落地面');
    clicks.push('位置搜索（输入网格编号）');
    await page.fill('[data-testid=intake-place]', GRID);
    await page.waitForSelector('[data-testid=intake-place-hits] button');
    clicks.push('位置：景福新村社区第1网格');
    await page.click('[data-testid=intake-place-hits] button');
    await expect.poll(() => page.textContent('[data-testid=intake-where]')).toContain(`网格 ${GRID}`);
    clicks.push('来电人姓名、来电号码（输入）');
    await page.fill('[data-testid=intake-caller-name]', '王女士');
    await page.fill('[data-testid=intake-caller-phone]', '13800138000');
    // The phone is masked as typed; 显示 shows it.
    expect(await page.getAttribute('[data-testid=intake-caller-phone]', 'type')).toBe('password');
    clicks.push('附件（选择照片）');
    await page.setInputFiles('[data-testid=intake-files]', { name: 'scene.png', mimeType: 'image/png', buffer: PNG });
    clicks.push('提交');
    await page.click('[data-testid=intake-submit]');
    await page.waitForSelector('[data-testid=case-code]');
    caseCode = (await page.textContent('[data-testid=case-code]'))!.trim();
    const list = await api<{ cases: CaseJson[] }>(`/api/cases?q=${encodeURIComponent('垃圾桶满溢')}`);
    caseId = list.cases.find((c) => c.code === caseCode)!.id;
    let c = await getCase();
    expect(c).toMatchObject({ state: 'reported', category: 'city_appearance.overflowing_bin' });
    expect(await page.textContent('[data-testid=case-state]')).toBe('接件');
    // The attachment is in the evidence store and shown in the drawer.
    await page.waitForSelector('[data-testid=case-photos] img');
    const ev = await api<{ evidence: { kind: string }[] }>(`/api/cases/${caseId}/evidence`);
    expect(ev.evidence.map((e) => e.kind)).toEqual(['attachment']);
    // The caller's contact is never part of the case document.
    expect(JSON.stringify(c)).not.toContain('13800138000');
    await drawerShot(page, '1-reported');

    // 立案 untouched: the case keeps its own category and priority.
    clicks.push('立案');
    await page.click('[data-action=register]');
    await page.waitForSelector('form.action-form');
    expect(await page.inputValue('[data-testid=form-category]')).toBe(c.category);
    expect(await page.inputValue('[data-testid=form-priority]')).toBe(String(c.priority));
    clicks.push('提交');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).state).toBe('registered');
    const registered = await getCase();
    expect(registered.category).toBe(c.category);
    expect(registered.priority).toBe(c.priority);
    await expect.poll(() => page.textContent('[data-testid=case-state]')).toBe('立案');

    // 派遣 untouched: to the suggested department, with the SLA deadline unchanged; grid workers offered.
    clicks.push('派遣');
    await page.click('[data-action=dispatch]');
    await page.waitForSelector('form.action-form');
    expect(registered.suggestedDepartment).toBe('urban_management');
    expect(await page.inputValue('[data-testid=form-target]')).toBe('department:urban_management');
    expect(
      await page.$$eval('[data-testid=form-target] option', (o) => o.map((x) => (x as HTMLOptionElement).value)),
    ).toContain('user:wb-gridworker');
    expect(await page.inputValue('[data-testid=form-deadline]')).not.toBe('');
    await axe(page, '/cases drawer with the dispatch form');
    clicks.push('提交');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).state).toBe('dispatched');
    c = await getCase();
    expect(c.assignee).toEqual({ kind: 'department', id: 'urban_management' });
    expect(c.deadline).toBe(registered.deadline);
    await expect.poll(() => page.textContent('[data-testid=case-assignee]')).toBe('城市管理');
    expect(await trailText(page)).toContain('测试派遣员 · 派遣员');
    expect(await trailText(page)).not.toContain('(dispatcher)');
    await drawerShot(page, '2-dispatched');
    await page.context().close();
  });

  it('department: claims, and handles with a photo (refused without a result)', async () => {
    const page = await signIn('wb-urban');
    await openCase(page);
    await act(page, 'claim');
    expect((await getCase()).state).toBe('in_progress');
    await refusesUntouched(page, 'handle');
    await page.fill('[data-testid=form-result]', '已清运，垃圾桶已清洗复位');
    await page.setInputFiles('[data-testid=form-photos]', { name: 'after.png', mimeType: 'image/png', buffer: PNG });
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).state, { timeout: 20_000 }).toBe('handled');
    const c = await getCase();
    expect(c.result).toBe('已清运，垃圾桶已清洗复位');
    expect(c.evidence).toHaveLength(1);
    await expect.poll(() => page.textContent('[data-testid=case-result]')).toBe('已清运，垃圾桶已清洗复位');
    // The photo shows in the drawer (decoded) and in the trail beside the handle entry.
    await expect
      .poll(() =>
        page.$$eval(
          '[data-testid=case-photos] img',
          (imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length,
        ),
      )
      .toBe(2);
    expect(await page.$$eval('[data-testid=case-trail] img', (imgs) => imgs.length)).toBe(1);
    expect(await trailText(page)).toContain('测试城管 · 职能部门');
    await axe(page, '/cases drawer (department)');
    await drawerShot(page, '3-handled');
    await page.context().close();
  });

  it('grid worker: verify refuses without a verdict; a fail reads as rework', async () => {
    const page = await signIn('wb-gridworker');
    await openCase(page);
    await refusesUntouched(page, 'verify');
    await page.check('input[name=verdict][value=fail]');
    await page.fill('form.action-form textarea', '地面仍有散落垃圾');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).state).toBe('in_progress');
    expect((await getCase()).reworkCount).toBe(1);
    await expect.poll(() => page.textContent('[data-testid=case-rework]')).toBe('1');
    await expect.poll(() => page.textContent('[data-testid=trail-verdict]')).toBe('不通过，返工');
    await drawerShot(page, '4-rework');
    await page.context().close();
  });

  it('street commander: escalates, and whistles (refused without a department)', async () => {
    const page = await signIn('wb-street');
    await openCase(page);
    expect((await getCase()).level).toBe('community');
    await act(page, 'escalate');
    expect((await getCase()).level).toBe('street');
    await page.click('[data-action=whistle]');
    expect(await page.isDisabled('form.action-form button[type=submit]')).toBe(true);
    await page.check('form.action-form input[type=checkbox][value=environment]');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).whistles.length).toBe(1);
    await expect.poll(() => page.textContent('[data-testid=case-whistles]')).toMatch(/生态环境\s*未报到/);
    await drawerShot(page, '5-whistled');
    await page.context().close();
  });

  it('whistled department: reports (报到); the board shows it reported', async () => {
    const page = await signIn('wb-env');
    await openCase(page);
    await page.click('[data-action=report]');
    expect(await page.inputValue('[data-testid=form-report-dept]')).toBe('environment');
    await page.fill('form.action-form textarea', '已到场，配合清理');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).whistles[0].reportedAt).not.toBeNull();
    await expect.poll(() => page.textContent('[data-testid=case-whistles]')).toMatch(/已报到/);
    await drawerShot(page, '6-reported-whistle');
    await page.context().close();
  });

  it('evaluate has no default satisfaction: refused untouched, then the chosen value', async () => {
    // A second case closed through the API, evaluated through the UI by the dispatcher.
    const created = await api<CaseJson>('/api/cases', {
      method: 'POST',
      body: JSON.stringify({
        title: '道路不洁',
        category: 'city_appearance.road_dirty',
        source: 'patrol',
        location: await gridPoint(),
      }),
    });
    let v = created.version;
    const step = async (body: Record<string, unknown>) =>
      (v = (
        await api<CaseJson>(`/api/cases/${created.id}/actions`, {
          method: 'POST',
          body: JSON.stringify({ ...body, version: v }),
        })
      ).version);
    await step({ action: 'register', category: 'city_appearance.road_dirty', priority: 3 });
    await step({ action: 'dispatch', to: { kind: 'department', id: 'urban_management' } });
    await step({ action: 'claim' });
    await step({ action: 'handle', result: '已清扫' });
    await step({ action: 'verify', pass: true });
    caseId = created.id;
    caseCode = created.code;
    const page = await signIn('wb-dispatcher');
    await openCase(page);
    // The trail tells a pass from a fail.
    await expect.poll(() => page.textContent('[data-testid=trail-verdict]')).toBe('通过，结案');
    await refusesUntouched(page, 'evaluate');
    expect((await getCase()).satisfaction).toBeNull();
    await page.check('input[name=satisfaction][value="4"]');
    await page.click('form.action-form button[type=submit]');
    await expect.poll(async () => (await getCase()).satisfaction).toBe(4);
    await drawerShot(page, '7-evaluated');
    console.log(`clicks from intake to dispatch (${clicks.length}): ${clicks.join(' → ')}`);
    await page.context().close();
  });
});

/** A point inside GRID: its vertex mean, as the intake form computes it. */
async function gridPoint(): Promise<[number, number]> {
  const fc = await api<{ features: { properties: { code: string }; geometry: { coordinates: number[][][] } }[] }>(
    `/api/grids?level=4&parent=${GRID.slice(0, 12)}`,
  );
  const ring = fc.features.find((f) => f.properties.code === GRID)!.geometry.coordinates[0].slice(0, -1);
  return [ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length];
}
