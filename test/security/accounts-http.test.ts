/**
 * Accounts, sessions, two-factor sign-in and the audit log over HTTP, on the real platform
 * (`node bin/onegrid.js start`) with REQUIRE_2FA=admin, from outside, as issue 11 probed it:
 * open redirect after login (finding 5), lockout / 429 / password policy (finding 6), user administration
 * while the platform runs, forced password change, TOTP, session revocation, GET /api/audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { startPlatformProcess, ADMIN_PASSWORD, type PlatformHandle } from '../harness/platform.ts';

let p: PlatformHandle;
let admin: string;
let adminSecret: string;

async function call(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(p.url + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  p = await startPlatformProcess({ env: { REQUIRE_2FA: 'admin' } });
}, 180_000);

afterAll(async () => {
  await p?.stop();
});

describe('REQUIRE_2FA=admin: an admin without TOTP enrols before anything else', () => {
  it('gates every other API call with 403 totp_enrolment_required, then enrols with a QR and a code', async () => {
    admin = await p.login();
    const me = await call('GET', '/api/session', undefined, admin);
    expect(me.body.user).toMatchObject({ username: 'admin', totpEnabled: false, totpEnrolmentRequired: true });
    const gated = await call('GET', '/api/users', undefined, admin);
    expect(gated.status).toBe(403);
    expect(gated.body.error.code).toBe('totp_enrolment_required');
    // A page leads to the login page's enrolment form.
    const page = await fetch(p.url + '/cases', { headers: { authorization: `Bearer ${admin}` }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');

    const enrol = await call('POST', '/api/session/totp', undefined, admin);
    expect(enrol.status).toBe(200);
    expect(enrol.body.uri).toMatch(/^otpauth:\/\/totp\/OneGrid:admin\?secret=[A-Z2-7]+/);
    expect(enrol.body.qr).toMatch(/^data:image\/png;base64,/);
    adminSecret = enrol.body.secret;
    expect((await call('POST', '/api/session/totp/confirm', { code: '000000' }, admin)).status).toBe(401);
    const ok = await call(
      'POST',
      '/api/session/totp/confirm',
      { code: await generate({ secret: adminSecret }) },
      admin,
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.user).toMatchObject({ totpEnabled: true, totpEnrolmentRequired: false });
    expect((await call('GET', '/api/users', undefined, admin)).status).toBe(200);
  });

  it('sign-in then asks for the code; a wrong or replayed code is refused', async () => {
    const noCode = await call('POST', '/api/session', { username: 'admin', password: ADMIN_PASSWORD });
    expect(noCode.status).toBe(401);
    expect(noCode.body.error.code).toBe('totp_required');
    expect(noCode.body.token).toBeUndefined();
    const wrong = await call('POST', '/api/session', { username: 'admin', password: ADMIN_PASSWORD, totp: '123456' });
    expect(wrong.status).toBe(401);
    // The code of the next 30-second step (accepted within ±1 step), used once.
    const next = await generate({ secret: adminSecret, epoch: Math.floor(Date.now() / 1000) + 30 });
    const good = await call('POST', '/api/session', { username: 'admin', password: ADMIN_PASSWORD, totp: next });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    const replay = await call('POST', '/api/session', { username: 'admin', password: ADMIN_PASSWORD, totp: next });
    expect(replay.status).toBe(401);
    // The replay counted as a failure: clear it, as an admin may.
    await call('PATCH', '/api/users/admin', { unlock: true }, admin);
  });
});

describe('user administration while the platform runs (POST/GET/PATCH /api/users)', () => {
  let userPw: string;
  let userToken: string;

  it('checks scope, level and the password policy with coded 4xx, never a database error', async () => {
    const base = { username: 'wang.li', role: 'commander', name: '王立' };
    const cases: [unknown, number, string, string?][] = [
      [{ ...base, scope: { grid: '999999999' } }, 400, 'validation_failed', 'scope.grid'],
      [{ ...base, scope: { grid: 'abc' } }, 400, 'validation_failed', 'scope.grid'],
      [{ ...base, scope: { department: 'no_such_dept' } }, 400, 'validation_failed', 'scope.department'],
      [{ ...base, scope: { grid: '120106001' }, level: 'community' }, 400, 'validation_failed', 'level'],
      [{ ...base, scope: {} }, 400, 'validation_failed', 'scope'],
      [{ ...base, role: 'emperor', scope: { grid: '120106001' } }, 400, 'validation_failed', 'role'],
      [{ ...base, username: 'x' }, 400, 'validation_failed', 'username'],
      [{ ...base, scope: { grid: '120106001' }, password: '12345678' }, 400, 'weak_password'],
      [{ ...base, scope: { grid: '120106001' }, password: '          ' }, 400, 'weak_password'],
      [{ ...base, scope: { grid: '120106001' }, password: 'wang.li-is-here-2026' }, 400, 'weak_password'],
      [{ ...base, scope: { grid: '120106001' }, password: 'password1234' }, 400, 'weak_password'],
      [{ ...base, username: 'admin', role: 'admin' }, 409, 'conflict'],
    ];
    for (const [body, status, codeName, field] of cases) {
      const r = await call('POST', '/api/users', body, admin);
      expect(r.status, JSON.stringify([body, r.body])).toBe(status);
      expect(r.body.error.code).toBe(codeName);
      if (field) expect(r.body.error.details.field).toBe(field);
    }
  });

  it('creates a user with a generated password that must be changed at first sign-in', async () => {
    const r = await call(
      'POST',
      '/api/users',
      { username: 'wang.li', role: 'commander', name: '王立', scope: { grid: '120106001' } },
      admin,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.user).toMatchObject({ username: 'wang.li', level: 'street', mustChangePassword: true });
    expect(JSON.stringify(r.body.user)).not.toMatch(/scrypt|hash|secret/i);
    userPw = r.body.password;
    expect(userPw).toMatch(/^.{16,}$/);
    const login = await call('POST', '/api/session', { username: 'wang.li', password: userPw });
    expect(login.status).toBe(200);
    userToken = login.body.token;
    expect(login.body.user.mustChangePassword).toBe(true);
    const gated = await call('GET', '/api/devices', undefined, userToken);
    expect(gated.status).toBe(403);
    expect(gated.body.error.code).toBe('password_change_required');
    const weak = await call(
      'POST',
      '/api/session/password',
      { currentPassword: userPw, newPassword: 'wang.li12345' },
      userToken,
    );
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'weak_password', details: { reason: 'contains_username' } });
    const wrongCurrent = await call(
      'POST',
      '/api/session/password',
      { currentPassword: 'nope-nope-nope', newPassword: 'Lantern-Quiet-Ferry-82' },
      userToken,
    );
    expect(wrongCurrent.status).toBe(401);
    const changed = await call(
      'POST',
      '/api/session/password',
      { currentPassword: userPw, newPassword: 'Lantern-Quiet-Ferry-82' },
      userToken,
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.user.mustChangePassword).toBe(false);
    expect((await call('GET', '/api/devices', undefined, userToken)).status).toBe(200);
    userPw = 'Lantern-Quiet-Ferry-82';
    const list = await call('GET', '/api/users', undefined, admin);
    expect(list.body.items.map((u: { username: string }) => u.username)).toContain('wang.li');
    expect((await call('GET', '/api/users', undefined, userToken)).status).toBe(403);
  });

  it('a role or scope change and a disable end the sessions at once; enable and reset work', async () => {
    const moved = await call('PATCH', '/api/users/wang.li', { scope: { grid: '120106001001' } }, admin);
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.user).toMatchObject({ scopeGrid: '120106001001', level: 'community' });
    expect((await call('GET', '/api/session', undefined, userToken)).status).toBe(401);
    const badLevel = await call('PATCH', '/api/users/wang.li', { level: 'district' }, admin);
    expect(badLevel.status).toBe(400);
    let t = (await call('POST', '/api/session', { username: 'wang.li', password: userPw })).body.token;
    expect((await call('GET', '/api/session', undefined, t)).status).toBe(200);
    expect((await call('PATCH', '/api/users/wang.li', { disabled: true }, admin)).body.user.disabled).toBe(true);
    expect((await call('GET', '/api/session', undefined, t)).status).toBe(401);
    expect((await call('POST', '/api/session', { username: 'wang.li', password: userPw })).status).toBe(401);
    await call('PATCH', '/api/users/wang.li', { disabled: false }, admin);
    t = (await call('POST', '/api/session', { username: 'wang.li', password: userPw })).body.token;
    const reset = await call('PATCH', '/api/users/wang.li', { resetPassword: true }, admin);
    expect(reset.body.password).toMatch(/^.{16,}$/);
    expect(reset.body.user.mustChangePassword).toBe(true);
    expect((await call('GET', '/api/session', undefined, t)).status).toBe(401);
    const again = await call('POST', '/api/session', { username: 'wang.li', password: reset.body.password });
    expect(again.body.user.mustChangePassword).toBe(true);
    userPw = reset.body.password;
    // An admin cannot lock itself out.
    expect((await call('PATCH', '/api/users/admin', { disabled: true }, admin)).status).toBe(409);
    expect((await call('PATCH', '/api/users/nobody', { disabled: true }, admin)).status).toBe(404);
  });

  it('locks an account after 5 failures in 15 minutes (423 + Retry-After) until an admin unlocks it', async () => {
    for (let i = 0; i < 5; i++)
      expect(
        (await call('POST', '/api/session', { username: 'wang.li', password: `wrong-${i}-password` })).status,
      ).toBe(401);
    const locked = await call('POST', '/api/session', { username: 'wang.li', password: userPw });
    expect(locked.status).toBe(423);
    expect(locked.body.error.code).toBe('account_locked');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    const listed = await call('GET', '/api/users/wang.li', undefined, admin);
    expect(listed.body.user.lockedUntil).not.toBeNull();
    expect((await call('PATCH', '/api/users/wang.li', { unlock: true }, admin)).body.user.lockedUntil).toBeNull();
    expect((await call('POST', '/api/session', { username: 'wang.li', password: userPw })).status).toBe(200);
  });
});

describe('sign-out and the audit log', () => {
  it('sign-out ends the session', async () => {
    const t = (await call('POST', '/api/session', { username: 'wang.li', password: await resetPw() })).body.token;
    expect((await call('DELETE', '/api/session', undefined, t)).status).toBe(204);
    expect((await call('GET', '/api/session', undefined, t)).status).toBe(401);
  });

  it('GET /api/audit: admins only, filters, keyset pages, a verified chain', async () => {
    const all = await call('GET', '/api/audit?limit=500', undefined, admin);
    expect(all.status).toBe(200);
    expect(all.body.verified).toBe(true);
    const kinds = new Set(all.body.items.map((e: { kind: string }) => e.kind));
    for (const k of [
      'login',
      'login_failed',
      'account_locked',
      'account_unlocked',
      'logout',
      'password_changed',
      'password_reset',
      'user_created',
      'user_updated',
      'user_disabled',
      'user_enabled',
      'totp_enrolled',
    ])
      expect(kinds, k).toContain(k);
    const created = await call('GET', '/api/audit?kind=user_created&actor=admin', undefined, admin);
    expect(created.body.items[0]).toMatchObject({ kind: 'user_created', actor: 'admin', target: 'wang.li' });
    expect(created.body.items[0].ip).toBeTruthy();
    // Keyset pages cover everything once.
    const seen: number[] = [];
    let next: number | null = null;
    do {
      const page = await call('GET', `/api/audit?limit=7${next === null ? '' : `&before=${next}`}`, undefined, admin);
      seen.push(...page.body.items.map((e: { seq: number }) => e.seq));
      next = page.body.next;
    } while (next !== null);
    expect(seen).toEqual(all.body.items.map((e: { seq: number }) => e.seq));
    const future = await call(
      'GET',
      `/api/audit?from=${new Date(Date.now() + 3600_000).toISOString()}`,
      undefined,
      admin,
    );
    expect(future.body.items).toEqual([]);
    expect((await call('GET', '/api/audit?from=yesterday', undefined, admin)).status).toBe(400);
    expect((await call('GET', '/api/audit?limit=0', undefined, admin)).status).toBe(400);
    expect((await call('GET', '/api/audit')).status).toBe(401);
  });
});

describe('open redirect after login (finding 5)', () => {
  async function formLogin(next: string): Promise<string | null> {
    const user = 'redirect.user';
    const r = await fetch(`${p.url}/login?/login&next=${encodeURIComponent(next)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: p.url, accept: 'text/html' },
      body: new URLSearchParams({ username: user, password: redirectPw }),
      redirect: 'manual',
    });
    expect(r.status).toBe(303);
    return r.headers.get('location');
  }
  const redirectPw = 'Copper-Night-Owl-4412';

  beforeAll(async () => {
    const r = await call(
      'POST',
      '/api/users',
      { username: 'redirect.user', role: 'viewer', scope: { grid: '120106' }, password: 'Init-Copper-Night-Owl-4411' },
      admin,
    );
    expect(r.status).toBe(201);
    const t = (
      await call('POST', '/api/session', { username: 'redirect.user', password: 'Init-Copper-Night-Owl-4411' })
    ).body.token;
    await call(
      'POST',
      '/api/session/password',
      { currentPassword: 'Init-Copper-Night-Owl-4411', newPassword: redirectPw },
      t,
    );
  });

  it.each([
    ['/\t/evil.example', '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['/\\/evil.example', '/'],
    ['https://evil.example/', '/'],
    ['/a/..//evil.example', '/'],
    ['/\r\n/evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/cases?filter=open#top', '/cases?filter=open#top'],
  ])('next=%j → %s', async (next, expected) => {
    expect(await formLogin(next)).toBe(expected);
  });
});

describe('per-address rate limit (finding 6)', () => {
  it('answers 429 with Retry-After well before 389 attempts, without checking the password', async () => {
    let limited: Response | null = null;
    for (let i = 0; i < 60 && !limited; i++) {
      const r = await fetch(`${p.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `nobody-${i}`, password: 'wrong-wrong-wrong' }),
      });
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(401);
    }
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });
});

async function resetPw(): Promise<string> {
  const reset = await call('PATCH', '/api/users/wang.li', { resetPassword: true }, admin);
  return reset.body.password;
}
