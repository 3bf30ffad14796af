/**
 * The admin page and the forced password change in Chromium, on the real platform: the admin signs in,
 * opens /admin/users, creates a user (the generated password shown once), the user signs in with it and is
 * led to the change-password form before anything else, then reaches the page it asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../harness/browser.ts';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';

let p: PlatformHandle;
let browser: Browser;

beforeAll(async () => {
  [p, browser] = await Promise.all([startPlatformProcess(), launchChromium()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.stop();
});

describe('admin page and first sign-in', () => {
  it('admin creates a user; the user must change the generated password first', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await ctx.newPage();
    await page.goto(`${p.url}/login?next=%2Fadmin%2Fusers`);
    await page.waitForSelector('html[data-hydrated]');
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${p.url}/admin/users`);
    expect(await page.textContent('h1')).toBe('用户管理');
    await page.waitForSelector('tr[data-username=admin]');

    await page.fill('form.create input[name=username]', 'zhang.wei');
    await page.fill('form.create input[name=name]', '张伟');
    await page.selectOption('form.create select[name=role]', 'commander');
    await page.fill('form.create input[name=grid]', '120106001');
    await page.click('form.create button[type=submit]');
    await page.waitForSelector('[data-testid=shown-password] code');
    const password = (await page.textContent('[data-testid=shown-password] code'))!.trim();
    expect(password).toMatch(/^.{16}$/);
    const row = page.locator('tr[data-username="zhang.wei"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('待改密码');
    // English on the switch.
    await page.click('nav button');
    expect(await page.textContent('h1')).toBe('User administration');
    await ctx.close();

    const u = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const up = await u.newPage();
    await up.goto(`${p.url}/login?next=%2Fcases`);
    await up.waitForSelector('html[data-hydrated]');
    await up.fill('input[name=username]', 'zhang.wei');
    await up.fill('input[name=password]', password);
    await up.click('button[type=submit]');
    await up.waitForSelector('#change-title');
    expect(await up.textContent('#change-title')).toBe('修改密码');
    // Anything else leads back here until the password is changed; the API says why.
    await up.goto(`${p.url}/cases`);
    await up.waitForSelector('#change-title');
    const api = await up.request.get(`${p.url}/api/cases`);
    expect(api.status()).toBe(403);
    expect((await api.json()).error.code).toBe('password_change_required');

    await up.goto(`${p.url}/login?next=%2Fcases`);
    await up.waitForSelector('html[data-hydrated]');
    await up.fill('input[name=current]', password);
    await up.fill('input[name=new]', 'zhang.wei-2026-pass');
    await up.fill('input[name=confirm]', 'zhang.wei-2026-pass');
    await up.click('button[type=submit]');
    await up.waitForSelector('[role=alert]');
    expect(await up.textContent('[role=alert]')).toContain('不能包含用户名');
    await up.fill('input[name=current]', password);
    await up.fill('input[name=new]', 'Orchid-Valley-Train-58');
    await up.fill('input[name=confirm]', 'Orchid-Valley-Train-58');
    await up.click('button[type=submit]');
    await up.waitForURL(`${p.url}/cases`);
    expect((await up.request.get(`${p.url}/api/cases`)).status()).toBe(200);
    await u.close();
  });
});
